package quant

import (
	"os"
	"testing"
)

// TestSearchGapLarge measures the search against the exact sweep on a
// 784x1024 Gaussian layer (about 20 s; set RESQ_LONG=1). Measured
// 2026-11: the same step (error within 1e-10) at 3, 4, 6 and 8 bits.
func TestSearchGapLarge(t *testing.T) {
	if os.Getenv("RESQ_LONG") == "" {
		t.Skip("set RESQ_LONG=1 to run")
	}
	w := benchWeights(784 * 1024)
	var s solver
	s.prepare(w)
	for _, bits := range []int{3, 4, 6, 8} {
		k := (1<<bits - 2) / 2
		ds, es := s.search(k)
		de, ee := s.exact(k)
		t.Logf("bits %d: search D=%g E=%.10g, exact D=%g E=%.10g, gap %.3g", bits, ds, es, de, ee, es/ee-1)
		if es > ee*(1+1e-3) {
			t.Errorf("bits %d: search error %.10g more than 0.1%% above exact %.10g", bits, es, ee)
		}
	}
}
