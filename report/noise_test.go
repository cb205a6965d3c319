package report

import (
	"math"
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
