package quant

import "testing"

func TestPercentile(t *testing.T) {
	x := []float32{5, 1, 4, 2, 3, 0, 9, 8, 7, 6} // 0..9
	for _, tt := range []struct {
		p    float64
		want float32
	}{{100, 9}, {90, 8}, {95, 9}, {50, 4}, {10, 0}, {0.01, 0}} {
		if got := Percentile(x, tt.p); got != tt.want {
			t.Errorf("Percentile(0..9, %g) = %g, want %g", tt.p, got, tt.want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty input")
	}
	if x[0] != 5 {
		t.Error("input modified")
	}
	for _, s := range []string{"pct:0", "pct:101", "pct:x"} {
		if _, _, err := parseActRange(s); err == nil {
			t.Errorf("act range %q accepted", s)
		}
	}
	if mode, v, err := parseActRange("pct:99.9"); err != nil || mode != "pct" || v != float32(99.9) {
		t.Errorf("pct:99.9 -> %q %v %v", mode, v, err)
	}
}
