package report

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/resq-dev/resq/results"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestNEff(t *testing.T) {
	type probe struct {
		e     float64
		n     float64
		rng   Range
		label string
	}
	for _, tc := range []struct {
		name    string
		weights []int64
		errs    []float64
		fit     []float64 // expected fitted errors per distinct size
		probes  []probe
	}{
		{
			name:    "decreasing",
			weights: []int64{100, 1000, 10000},
			errs:    []float64{10, 5, 2},
			fit:     []float64{10, 5, 2},
			probes: []probe{
				// halfway between 10% and 5% in error = halfway in log N: 100*10^0.5.
				{7.5, 316.22776601683796, RangeIn, "interpolated"},
				{5, 1000, RangeIn, "at a knot"},
				{10, 100, RangeIn, "worst float"},
				{2, 10000, RangeIn, "best float"},
				{11, 100, RangeBelow, "worse than every float net"},
				{1, 10000, RangeAbove, "better than every float net"},
				// 3.5 is halfway between 5 and 2: 1000*10^0.5.
				{3.5, 3162.2776601683795, RangeIn, "second segment"},
			},
		},
		{
			// Seeds are averaged per size first; size 400 has three seeds
			// at 8% that violate monotonicity against 200's 6%: PAVA pools
			// them into (6*1 + 8*3)/4 = 7.5 at both sizes.
			name:    "pool adjacent violators, seed weighted",
			weights: []int64{400, 100, 200, 400, 800, 400},
			errs:    []float64{8, 10, 6, 8, 3, 8},
			fit:     []float64{10, 7.5, 7.5, 3},
			probes: []probe{
				{7.5, 200, RangeIn, "flat segment: its left end"},
				{8.75, 100 * math.Sqrt(2), RangeIn, "first segment"},
				// between 400 (7.5) and 800 (3): t = (7.5-5.25)/4.5 = 0.5.
				{5.25, 400 * math.Sqrt(2), RangeIn, "after the flat"},
			},
		},
		{
			name:    "flat curve",
			weights: []int64{100, 1000, 100, 1000},
			errs:    []float64{5, 5, 5, 5},
			fit:     []float64{5, 5},
			probes: []probe{
				{5, 100, RangeIn, "tie: smallest size"},
				{4.9, 1000, RangeAbove, "better than flat"},
				{5.1, 100, RangeBelow, "worse than flat"},
			},
		},
		{
			name:    "rising curve pools to one level",
			weights: []int64{100, 1000},
			errs:    []float64{4, 6},
			fit:     []float64{5, 5},
			probes:  []probe{{5, 100, RangeIn, "pooled"}, {4, 1000, RangeAbove, "best raw error is beyond the fit"}},
		},
		{
			name:    "single size",
			weights: []int64{500, 500},
			errs:    []float64{3, 5},
			fit:     []float64{4},
			probes:  []probe{{4, 500, RangeIn, "equal"}, {3, 500, RangeAbove, "below"}, {6, 500, RangeBelow, "above"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewFloatCurve(tc.weights, tc.errs)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Points) != len(tc.fit) {
				t.Fatalf("%d curve points, want %d", len(c.Points), len(tc.fit))
			}
			for i, p := range c.Points {
				if !near(p.FitPct, tc.fit[i]) {
					t.Errorf("point %d (%d weights): fit %v, want %v", i, p.Weights, p.FitPct, tc.fit[i])
				}
				if i > 0 && p.Weights <= c.Points[i-1].Weights {
					t.Errorf("points not strictly increasing in weights: %v", c.Points)
				}
			}
			for _, pr := range tc.probes {
				n, r := c.NEff(pr.e)
				if !near(n, pr.n) || r != pr.rng {
					t.Errorf("%s: NEff(%v) = %v, %q; want %v, %q", pr.label, pr.e, n, r, pr.n, pr.rng)
				}
				// The inverse agrees with the forward curve when in range.
				if r == RangeIn {
					if f, ok := c.At(n); !ok || !near(f, pr.e) {
						t.Errorf("%s: At(NEff(%v)) = %v, %v", pr.label, pr.e, f, ok)
					}
				}
			}
		})
	}
}

func TestNewFloatCurveErrors(t *testing.T) {
	for _, tc := range []struct {
		w    []int64
		e    []float64
		want string
	}{
		{nil, nil, "no float records"},
		{[]int64{0}, []float64{1}, "not positive"},
		{[]int64{10}, []float64{math.NaN()}, "not finite"},
	} {
		_, err := NewFloatCurve(tc.w, tc.e)
		if err == nil || !strings.HasPrefix(err.Error(), "report: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewFloatCurve(%v, %v) error = %v, want %q", tc.w, tc.e, err, tc.want)
		}
	}
}

func TestECRAndEffect(t *testing.T) {
	c, err := NewFloatCurve([]int64{100, 1000, 10000}, []float64{10, 5, 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		e      float64
		stored int64
		ecr    float64
		text   string
		ntext  string
	}{
		// 32*1000 bits of float weights over 8*250 stored bits.
		{5, 250, 16, "16.00", "1000"},
		// 32*316.2278/(8*100) = 12.6491
		{7.5, 100, 12.649110640673518, "12.65", "316"},
		// better than the best float net: bound with the largest size.
		{1, 2500, 16, ">= 16.00", ">= 10000"},
		// worse than the worst float net: bound with the smallest size.
		{11, 400, 1, "<= 1.00", "<= 100"},
	} {
		f := Effect(c, tc.e, tc.stored)
		if !near(f.ECR, tc.ecr) || f.ECRText() != tc.text || f.NEffText() != tc.ntext {
			t.Errorf("Effect(e=%v, %d bytes) = %+v %q %q, want ECR %v %q %q", tc.e, tc.stored, f, f.ECRText(), f.NEffText(), tc.ecr, tc.text, tc.ntext)
		}
	}
	if f := Effect(nil, 3, 100); f.Range != RangeNone || f.ECRText() != "n/a" {
		t.Errorf("Effect without a curve = %+v %q", f, f.ECRText())
	}
	if got := Nominal(2); got != 16 {
		t.Errorf("Nominal(2) = %v", got)
	}
}

func TestMerge(t *testing.T) {
	recs := []results.Record{
		{ID: "a", Status: "failed", Reason: "first try"},
		{ID: "b", Status: "ok", TestErrPct: 1},
		{ID: "a", Status: "ok", TestErrPct: 2},
		{ID: "b", Status: "ok", TestErrPct: 3}, // last ok wins
		{ID: "a", Status: "failed", Reason: "late duplicate"},
		{ID: "c", Status: "failed", Reason: "x"},
		{ID: "c", Status: "failed", Reason: "y"}, // no ok: last failure
	}
	got := Merge(recs)
	want := []results.Record{{ID: "a", Status: "ok", TestErrPct: 2}, {ID: "b", Status: "ok", TestErrPct: 3}, {ID: "c", Status: "failed", Reason: "y"}}
	if len(got) != len(want) {
		t.Fatalf("Merge: %d records, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Status != want[i].Status || got[i].TestErrPct != want[i].TestErrPct || got[i].Reason != want[i].Reason {
			t.Errorf("Merge[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestPareto(t *testing.T) {
	g := &Group{Cells: []*Cell{
		{OK: 1, StoredBytes: 100, MeanErr: 9},
		{OK: 1, StoredBytes: 100, MeanErr: 8}, // same bytes, lower error: replaces
		{OK: 1, StoredBytes: 200, MeanErr: 8.5},
		{OK: 1, StoredBytes: 300, MeanErr: 4},
		{OK: 0, StoredBytes: 50, MeanErr: math.NaN()}, // failed: ignored
		{OK: 1, StoredBytes: 400, MeanErr: 4},         // no better: off the front
	}}
	front := Pareto(g)
	var got []string
	for _, c := range front {
		got = append(got, fmt.Sprintf("%d:%g", c.StoredBytes, c.MeanErr))
	}
	if strings.Join(got, " ") != "100:8 300:4" {
		t.Errorf("Pareto = %v, want [100:8 300:4]", got)
	}
}

func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{
		{26000, 270000, "50k 100k 200k"},
		{0.9, 1100, "1 10 100 1k"},
		{3, 4, "3 4"},
	} {
		var labels []string
		for _, tk := range (logTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != tc.want {
			t.Errorf("logTicks(%v, %v) labels %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
	var labels []string
	for _, tk := range (linTicks{}).Ticks(-0.3, 8.1) {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); got != "0 2 4 6 8" {
		t.Errorf("linTicks(-0.3, 8.1) = %q", got)
	}
}

func ExampleFloatCurve_NEff() {
	// Float networks of 100, 1000 and 10000 weights reach 10%, 5% and 2%.
	c, err := NewFloatCurve([]int64{100, 1000, 10000}, []float64{10, 5, 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A ternary network of 1000 weights stored in 300 bytes reaching 5%
	// is worth a 1000-weight float network.
	for _, e := range []float64{5, 7.5, 1} {
		f := Effect(c, e, 300)
		fmt.Printf("error %.1f%%: N_eff %s (%s), ECR %s, nominal %.0f\n", e, f.NEffText(), f.Range, f.ECRText(), Nominal(2))
	}
	// Output:
	// error 5.0%: N_eff 1000 (in), ECR 13.33, nominal 16
	// error 7.5%: N_eff 316 (in), ECR 4.22, nominal 16
	// error 1.0%: N_eff >= 10000 (above), ECR >= 133.33, nominal 16
}
