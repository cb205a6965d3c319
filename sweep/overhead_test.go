package sweep

import "testing"

func TestOverhead(t *testing.T) {
	for _, tc := range []struct {
		train, cores float64
		want         float64
		ok           bool
	}{
		{0, 10, 0, false},
		{0.05, 0.15, 0, false}, // a tiny sweep: no ratio, not 200%
		{MinTrainCoreSeconds, 1.5 * MinTrainCoreSeconds, 0.5, true},
		{100, 102, 0.02, true},
	} {
		s := Summary{TrainCoreSeconds: tc.train, CoreSeconds: tc.cores}
		got, ok := s.Overhead()
		if ok != tc.ok || (ok && (got < tc.want-1e-12 || got > tc.want+1e-12)) {
			t.Errorf("train %g of %g core-seconds: Overhead %g, %v; want %g, %v", tc.train, tc.cores, got, ok, tc.want, tc.ok)
		}
	}
}
