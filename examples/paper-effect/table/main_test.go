package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/results"
)

// synth returns ok records for widths 32 and 512 at depth 3 with the given
// errors (float, direct 2b, retrain 2b) per width, plus noise records that
// must be ignored (a failed cell and a cnn cell).
func synth(errs map[int][3]float64) []results.Record {
	var recs []results.Record
	for w, e := range errs {
		base := results.Record{Status: results.StatusOK, Family: "mlp", Width: w, Depth: 3, Seed: 1}
		f, d, r := base, base, base
		f.Mode, f.Bits, f.TestErrPct = "float", 32, e[0]
		d.Mode, d.Bits, d.TestErrPct = "direct", 2, e[1]
		r.Mode, r.Bits, r.TestErrPct = "retrain", 2, e[2]
		recs = append(recs, f, d, r)
	}
	recs = append(recs,
		results.Record{Status: results.StatusFailed, Family: "mlp", Width: 32, Depth: 3, Mode: "retrain", Bits: 2, TestErrPct: 90},
		results.Record{Status: results.StatusOK, Family: "cnn", Scale: 1, Mode: "float", Bits: 32, TestErrPct: 90},
	)
	return recs
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name string
		errs map[int][3]float64
		want bool
		fail string // a line expected to fail, when want is false
	}{
		{"paper effect", map[int][3]float64{32: {3.0, 40, 4.0}, 512: {1.5, 5, 1.7}}, true, ""},
		{"wide gap too big", map[int][3]float64{32: {3.0, 40, 4.0}, 512: {1.5, 5, 2.0}}, false, "width 512: retrained ternary - float = 0.50"},
		{"small gap not larger", map[int][3]float64{32: {3.0, 40, 3.2}, 512: {1.5, 5, 1.7}}, false, "gap at width 32 = 0.20"},
		{"direct as good as retrain", map[int][3]float64{32: {3.0, 4.1, 4.0}, 512: {1.5, 5, 1.7}}, false, "width 32: direct ternary - retrained ternary = 0.10"},
		{"no wide width", map[int][3]float64{32: {3.0, 40, 4.0}}, false, "no width >= 512"},
	}
	for _, c := range cases {
		tb := build(synth(c.errs))
		var out bytes.Buffer
		got := tb.check(&out, 0.4, 512, 0.3)
		if got != c.want {
			t.Errorf("%s: check = %v, want %v\n%s", c.name, got, c.want, out.String())
		}
		if c.fail != "" && !strings.Contains(out.String(), "FAIL  depth 3 "+c.fail) && !strings.Contains(out.String(), c.fail) {
			t.Errorf("%s: output lacks failing line %q:\n%s", c.name, c.fail, out.String())
		}
	}
}

// TestMeanOverSeeds checks that seeds are averaged and the printed table
// has one row per size in width order, read back through results files.
func TestMeanOverSeeds(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	dir := t.TempDir()
	var want512 float64
	var recs []results.Record
	for seed := uint64(1); seed <= 3; seed++ {
		for _, w := range []int{512, 32} {
			e := 1 + rng.Float64()
			if w == 512 {
				want512 += e / 3
			}
			recs = append(recs, results.Record{ID: fmt.Sprintf("s%d-w%d", seed, w), Status: results.StatusOK,
				Family: "mlp", Width: w, Depth: 3, Mode: "float", Bits: 32, Seed: seed, TestErrPct: e})
		}
	}
	for _, r := range recs {
		if err := results.Append(filepath.Join(dir, "results.jsonl"), r); err != nil {
			t.Fatal(err)
		}
	}
	back, err := results.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	tb := build(back)
	if len(tb.sizes) != 2 || tb.sizes[0].width != 32 || tb.sizes[1].width != 512 {
		t.Fatalf("sizes %v, want widths 32 then 512", tb.sizes)
	}
	if got := tb.get(key{512, 3}, "float"); got < want512-1e-9 || got > want512+1e-9 {
		t.Errorf("width 512 float mean %v, want %v", got, want512)
	}
	var out bytes.Buffer
	tb.print(&out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(strings.TrimSpace(lines[2]), "32") {
		t.Errorf("table:\n%s", out.String())
	}
}
