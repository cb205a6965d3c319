package report

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/resq-dev/resq/results"
)

func TestBuildGroupsCNN(t *testing.T) {
	var recs []results.Record
	for _, base := range []string{"cnn:32c5-p2-64c5-p2-fc512-10", "cnn:16c3-p2-fc128-10"} {
		for i, sc := range []float64{2, 0.5, 1} {
			w := int64(1000 * sc)
			for _, s := range []uint64{1, 2} {
				recs = append(recs, results.Record{
					ID: base + string(rune('a'+i)) + string(rune('0'+s)), Status: "ok", Dataset: "cifar10", Family: "cnn",
					Scale: sc, Mode: "float", Bits: 32, Seed: s, Weights: w, Params: w + 10, StoredBytes: 4 * (w + 10),
					TestErrPct: 30 / sc * (1 + 0.01*float64(s)), Config: map[string]any{"base": base, "scale": sc},
				}, results.Record{
					ID: base + string(rune('a'+i)) + string(rune('0'+s)) + "r2", Status: "ok", Dataset: "cifar10", Family: "cnn",
					Scale: sc, Mode: "retrain", Bits: 2, Seed: s, Weights: w, Params: w + 10, StoredBytes: w/4 + 44,
					TestErrPct: 32 / sc, Config: map[string]any{"base": base, "scale": sc},
				})
			}
		}
	}
	gs := BuildGroups(recs)
	if len(gs) != 2 {
		t.Fatalf("%d groups, want 2 (one per base)", len(gs))
	}
	for _, g := range gs {
		if g.Base == "" || !strings.HasPrefix(g.Name, "cifar10 cnn base cnn:") {
			t.Errorf("group name %q base %q", g.Name, g.Base)
		}
		if strings.ContainsAny(g.Slug, ":/ ") {
			t.Errorf("slug %q is not file-name safe", g.Slug)
		}
		var labels []string
		for _, s := range g.Sizes {
			labels = append(labels, s.Label)
		}
		if strings.Join(labels, " ") != "x0.5 x1 x2" {
			t.Errorf("sizes %v, want ascending x0.5 x1 x2", labels)
		}
		if len(g.Precs) != 2 || !g.Precs[0].IsFloat() || g.Precs[1].String() != "retrain 2b" {
			t.Errorf("precisions %v", g.Precs)
		}
		// Float at x1: 30*1.01 and 30*1.02, mean 30.45, sample std 0.3/sqrt(2).
		f := g.Cell(1, Precision{Mode: "float", Bits: 32})
		if f == nil || !near(f.MeanErr, 30.45) || !near(f.StdErr, 0.3/math.Sqrt2) || f.OK != 2 {
			t.Errorf("float x1 cell %+v", f)
		}
		r := g.Cell(1, Precision{Mode: "retrain", Bits: 2})
		if r == nil || !near(r.GapPct, 32-30.45) || r.Eff.Range != RangeIn {
			t.Errorf("retrain x1 cell %+v", r)
		}
	}
}

func TestNaturalSorted(t *testing.T) {
	got := naturalSorted([]string{"mlp:784-256x2-10", "mlp:784-32x2-10", "cnn:x", "mlp:784-128x2-10", "mlp:784-32x3-10", "a01", "a1"})
	want := "a01 a1 cnn:x mlp:784-32x2-10 mlp:784-32x3-10 mlp:784-128x2-10 mlp:784-256x2-10"
	if strings.Join(got, " ") != want {
		t.Errorf("naturalSorted = %v, want %s", got, want)
	}
}

// TestGroupVariants: records of one dataset, family and depth computed with
// another cell ID format or initialisation are never averaged together.
func TestGroupVariants(t *testing.T) {
	recs := synthRecords(5)
	n := len(BuildGroups(recs))
	var mixed []results.Record
	for i, r := range recs {
		old, cur := r, r
		old.ID, cur.ID = fmt.Sprintf("old-%d", i), fmt.Sprintf("new-%d", i)
		old.Config = map[string]any{"id_format": 1.0, "mode": r.Mode}
		cur.Config = map[string]any{"id_format": 2.0, "init": "uniform", "mode": r.Mode}
		cur.TestErrPct += 1
		mixed = append(mixed, old, cur)
	}
	gs := BuildGroups(mixed)
	if len(gs) != 2*n {
		t.Fatalf("%d groups from two variants of %d, want %d", len(gs), n, 2*n)
	}
	for _, g := range gs {
		if !strings.Contains(g.Name, "id format") {
			t.Errorf("group %q does not name its variant", g.Name)
		}
		for _, c := range g.Cells {
			if c.OK > 3 {
				t.Errorf("%s %s %s: %d seeds, the variants were mixed", g.Name, c.Size.Label, c.Prec, c.OK)
			}
		}
	}
	if gs[0].Slug == gs[1].Slug {
		t.Errorf("both variants have slug %q", gs[0].Slug)
	}
	// One variant alone keeps the plain name.
	if g := BuildGroups(mixed[1:2]); g[0].Name != "mnist mlp depth 2" {
		t.Errorf("single variant named %q", g[0].Name)
	}
}
