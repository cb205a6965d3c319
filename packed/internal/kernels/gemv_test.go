package kernels

import (
	"math/rand/v2"
	"testing"
)

func TestGemvMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 17))
	sizes := []struct{ n, k int }{{1, 1}, {3, 3}, {17, 17}, {64, 64}, {65, 129}, {129, 33}, {10, 1024}, {300, 501}, {1024, 1024}, {7, 0}, {2064, 4096}} // the last one is big enough for two goroutines
	bounds := []struct{ xmax, wmax int }{{255, 1}, {255, 63}, {127, 127}}
	for _, name := range Available() {
		prev, _ := Force(name)
		for _, s := range sizes {
			for bi, b := range bounds {
				if bi > 0 && s.n*s.k >= 1<<23 {
					continue // the big shape once is enough
				}
				x, w := randProblem(r, 1, s.n, s.k, Pad4(s.k), b.xmax, b.wmax)
				want := make([]int32, Pad16(s.n))
				GemmRef(1, s.n, s.k, x, Pad4(s.k), w, s.k, want, Pad16(s.n))
				wp := make([]int8, PackedLen(s.n, s.k))
				PackW(wp, w, s.n, s.k)
				got := make([]int32, Pad16(s.n)+16)
				for i := range got {
					got[i] = -3
				}
				threads := 1 + r.IntN(2)
				if s.n*s.k >= 1<<23 {
					threads = 2
				}
				Gemv(threads, 2*b.xmax*b.wmax, s.n, s.k, x, wp, got)
				for j := range got {
					wv := int32(-3)
					if j < Pad16(s.n) {
						wv = want[j]
					}
					if got[j] != wv {
						t.Fatalf("%s n=%d k=%d bounds=%v: c[%d]=%d, want %d", name, s.n, s.k, b, j, got[j], wv)
					}
				}
			}
		}
		Force(prev)
	}
}
