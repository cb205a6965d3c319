package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestSplitMatchesOneGoroutine: Gemm, GemmT2 and Gemv split over helpers give
// the one-goroutine result, with every kernel, also when several callers
// share the helpers at once.
func TestSplitMatchesOneGoroutine(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 31))
	for _, s := range []struct{ m, n, k int }{{1, 2048, 1024}, {1, 2100, 1031}, {3, 1000, 700}, {6, 1000, 400}, {1, 80, 30000}} {
		if s.m*Pad16(s.n)*Pad4(s.k) < splitMinWork && Pad16(s.n)*Pad4(s.k) < splitMinWork {
			t.Fatalf("%v is below splitMinWork: the test would not split", s)
		}
		x, w := randProblem(r, Pad4(s.m), s.n, s.k, Pad16(s.k), 255, 1)
		w2 := make([]uint8, T2Len(s.n, s.k))
		PackT2(w2, w, s.n, s.k)
		wp := make([]int8, PackedLen(s.n, s.k))
		PackW(wp, w, s.n, s.k)
		for _, name := range Available() {
			prev, _ := Force(name)
			calls := map[string]func(threads int, c []int32){
				"GemmT2": func(th int, c []int32) { GemmT2(th, s.m, s.n, s.k, x, Pad16(s.k), w2, c, Pad16(s.n)) },
				"Gemv":   func(th int, c []int32) { Gemv(th, 2*255, s.n, s.k, x, wp, c) },
				"Gemm":   func(th int, c []int32) { Gemm(th, 2*255, Pad4(s.m), s.n, s.k, x, Pad16(s.k), wp, c, Pad16(s.n)) },
			}
			for call, f := range calls {
				want := make([]int32, Pad4(s.m)*Pad16(s.n))
				f(1, want)
				for _, th := range []int{2, 3, 5} {
					got := make([]int32, len(want))
					f(th, got)
					if !slices.Equal(got, want) {
						t.Fatalf("%s %s %v threads=%d differs from one goroutine", name, call, s, th)
					}
				}
				var wg sync.WaitGroup
				errs := make([]string, 4)
				for g := range errs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range 20 {
							got := make([]int32, len(want))
							f(2, got)
							if !slices.Equal(got, want) {
								errs[g] = fmt.Sprintf("%s %s %v: concurrent caller %d differs", name, call, s, g)
								return
							}
						}
					}()
				}
				wg.Wait()
				for _, e := range errs {
					if e != "" {
						t.Fatal(e)
					}
				}
			}
			Force(prev)
		}
	}
}
