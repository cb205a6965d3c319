package report

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompareNoise(t *testing.T) {
	cases := []struct {
		a, b         Spread
		within, thin bool
	}{
		{Spread{1.0, 0.1, 3}, Spread{1.15, 0.05, 3}, true, false},   // 0.15 < 0.2
		{Spread{1.0, 0.1, 3}, Spread{1.25, 0.05, 3}, false, false},  // 0.25 >= 0.2
		{Spread{1.0, 0.25, 3}, Spread{1.5, 0.125, 3}, false, false}, // equal to the bound is not within
		{Spread{1.0, 0, 1}, Spread{1.0, 0, 1}, false, true},         // one seed each: no noise estimate
		{Spread{2.0, 0.3, 2}, Spread{1.5, 0.1, 5}, true, true},      // 0.5 < 0.6, but thin
	}
	for i, c := range cases {
		got := CompareNoise(c.a, c.b)
		if got.Within != c.within || got.Thin != c.thin {
			t.Errorf("case %d: CompareNoise(%v, %v) = %+v, want within %v thin %v", i, c.a, c.b, got, c.within, c.thin)
		}
		if sym := CompareNoise(c.b, c.a); sym != got {
			t.Errorf("case %d: not symmetric: %+v vs %+v", i, got, sym)
		}
	}
}

func TestNewSpread(t *testing.T) {
	s := NewSpread([]float64{1, 2, 3})
	if s.Mean != 2 || math.Abs(s.Std-1) > 1e-12 || s.N != 3 {
		t.Fatalf("NewSpread = %+v", s)
	}
}

func TestSpreadString(t *testing.T) {
	for _, c := range []struct {
		s    Spread
		want string
	}{
		{Spread{1.234, 0.051, 3}, "1.23 ± 0.05% (3 seeds)"},
		{Spread{1.5, 0, 1}, "1.50% (1 seed)"},
		{Spread{math.NaN(), math.NaN(), 0}, "n/a"},
	} {
		if got := c.s.String(); got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.s, got, c.want)
		}
	}
}

func TestNoiseString(t *testing.T) {
	for _, c := range []struct {
		a, b Spread
		want string
	}{
		{Spread{1.0, 0.1, 3}, Spread{1.15, 0.05, 3}, "within noise"},
		{Spread{1.0, 0.1, 3}, Spread{1.25, 0.05, 3}, "beyond noise"},
		{Spread{1.0, 0, 1}, Spread{1.0, 0, 3}, "beyond noise, < 3 seeds"},
		{Spread{2.0, 0.3, 2}, Spread{1.5, 0.1, 5}, "within noise, < 3 seeds"},
	} {
		if got := CompareNoise(c.a, c.b).String(); got != c.want {
			t.Errorf("CompareNoise(%v, %v).String() = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

// TestReportNoiseMarks: every gap of the report and of summary.csv carries
// the verdict of CompareNoise against the float point of its size, and
// every error shows its seed count.
func TestReportNoiseMarks(t *testing.T) {
	recs := synthRecords(3)
	groups := BuildGroups(recs)
	if len(groups) != 1 {
		t.Fatalf("%d groups, want 1", len(groups))
	}
	g := groups[0]
	checked := 0
	for _, c := range g.Cells {
		if c.Prec.IsFloat() || math.IsNaN(c.GapPct) {
			continue
		}
		f := g.Cell(c.Size.Value, Precision{Mode: "float", Bits: 32})
		if want := CompareNoise(c.Spread(), f.Spread()); c.GapNoise != want {
			t.Errorf("%s %s: GapNoise %+v, want %+v", c.Size.Label, c.Prec, c.GapNoise, want)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no quantized cell with a gap")
	}
	dir := t.TempDir()
	if _, err := Write(dir, recs, Options{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(3 seeds)", "(2 seeds)", "beyond noise", ", < 3 seeds", "gap vs seed noise"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	rows := readCSV(t, filepath.Join(dir, "summary.csv"))
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, r := range rows[1:] {
		isFloat := r[col["mode"]] == "float"
		within := r[col["gap_within_noise"]]
		if isFloat != (within == "") {
			t.Errorf("summary.csv %s %s %s: gap_within_noise %q", r[col["size"]], r[col["mode"]], r[col["bits"]], within)
		}
		if thin := r[col["gap_noise_thin"]]; !isFloat && (thin == "true") != (r[col["seeds_ok"]] != "3") {
			t.Errorf("summary.csv %s %s %s: %s seeds, gap_noise_thin %q", r[col["size"]], r[col["mode"]], r[col["bits"]], r[col["seeds_ok"]], thin)
		}
	}
}
