package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/results"
)

// designRecs: widths 32 and 128, float and retrain 2b, two seeds, with
// cost figures (bytes, energy in nJ) chosen by hand.
func designRecs() []results.Record {
	type c struct {
		w     int
		mode  string
		bits  int
		err   float64
		bytes int64
		nj    float64
	}
	var rs []results.Record
	for _, seed := range []uint64{1, 2} {
		for _, x := range []c{
			{32, "float", 32, 3.0, 100000, 50000},
			{32, "retrain", 2, 4.0, 7000, 10},
			{128, "float", 32, 2.0, 400000, 200000},
			{128, "retrain", 2, 2.5, 30000, 40},
		} {
			e := x.err + 0.1*float64(seed-1)
			r := results.Record{ID: fmt.Sprintf("%d-%s-%d", x.w, x.mode, seed), Status: "ok", Dataset: "mnist", Family: "mlp",
				Model: fmt.Sprintf("mlp:784-%dx2-10", x.w), Width: x.w, Depth: 2, Mode: x.mode, Bits: x.bits, Seed: seed,
				Weights: int64(x.w) * 900, TestErrPct: e, StoredBytes: x.bytes,
				Cost: &cost.Figures{WeightBytes: x.bytes, ActRAMBytes: 900, EnergyPJ: 1000 * x.nj, TernaryAdds: 5000, Table: "t"}}
			rs = append(rs, r)
		}
	}
	return rs
}

func TestDesignerFrontAndBudgets(t *testing.T) {
	pts, missing := designPoints(BuildGroups(designRecs()))
	if len(pts) != 4 || missing != 0 {
		t.Fatalf("%d points, %d missing", len(pts), missing)
	}
	// Weight bytes: 7000 (4.05%), 30000 (2.55%), 100000 (3.05%: dominated),
	// 400000 (2.05%).
	var got []string
	for _, p := range designFront(pts, designCosts[0]) {
		got = append(got, fmt.Sprintf("%.0f %s", p.bytes, p.cell.Prec))
	}
	if strings.Join(got, ", ") != "7000 retrain 2b, 30000 retrain 2b, 400000 float" {
		t.Fatalf("front %v", got)
	}
	best, second := bestUnder(pts, designCosts[0], 128<<10)
	if best.bytes != 30000 || second.bytes != 100000 {
		t.Fatalf("128 KiB: %v %v", best.bytes, second.bytes)
	}
	if b, _ := bestUnder(pts, designCosts[0], 1000); b != nil {
		t.Fatalf("1000 B: %v", b.label())
	}
	if eb := energyBudgets(pts); len(eb) != 6 || eb[0] != 10 || eb[5] != 1e6 {
		t.Fatalf("energy budgets %v", eb)
	}
}

func TestDesignerInReport(t *testing.T) {
	dir := t.TempDir()
	recs := designRecs()
	recs = append(recs, results.Record{ID: "old", Status: "ok", Dataset: "mnist", Family: "mlp", Width: 64, Depth: 2, Mode: "float", Bits: 32, Seed: 1, TestErrPct: 2.4, Weights: 1})
	if _, err := Write(dir, recs, Options{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Designer's view: error against hardware cost",
		"**Pareto front: test error against weight bytes**",
		"| 29.3 KiB | mnist mlp depth 2 w=128 retrain 2b | 2.55 ± 0.07% (2 seeds) |",
		"**Best configuration per weight-memory budget**",
		"| 8.0 KiB | mnist mlp depth 2 w=32 retrain 2b | 4.05 ± 0.07% (2 seeds) |",
		"| 32.0 KiB | mnist mlp depth 2 w=128 retrain 2b | 2.55 ± 0.07% (2 seeds) | 29.3 KiB | mnist mlp depth 2 w=32 retrain 2b |",
		"**Best configuration per energy budget (per inference, batch 1)**",
		"8 KB SRAM",
		"1 ok records have no cost figures",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if i, j := strings.Index(string(md), "Designer's view"), strings.Index(string(md), "## Failed cells"); i < 0 || j < i {
		t.Error("the designer's view is not before the failed cells")
	}
	for _, f := range []string{"designer_error-vs-weight-bytes.svg", "designer_error-vs-energy.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
