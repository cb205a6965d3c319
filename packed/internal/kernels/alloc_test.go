package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestOneThreadCallsDoNotAllocate: single-goroutine GemmT2, Gemm and Gemv
// calls allocate nothing (scratch comes from pools) with every assembly
// kernel, for one row, a partial row block and a partial panel group. An
// average below one allocation a call allows a pool refilled after a GC.
// (The pure-Go kernel allocates a few small buffers a call, next to
// hundreds of microseconds of work.)
func TestOneThreadCallsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := rand.New(rand.NewPCG(11, 11))
	for _, s := range []struct{ m, n, k int }{{1, 10, 33}, {1, 64, 256}, {7, 10, 100}, {4, 80, 64}, {20, 64, 128}} {
		x, w := randProblem(r, Pad4(s.m), s.n, s.k, Pad16(s.k), 255, 1)
		w2 := make([]uint8, T2Len(s.n, s.k))
		PackT2(w2, w, s.n, s.k)
		wp := make([]int8, PackedLen(s.n, s.k))
		PackW(wp, w, s.n, s.k)
		c := make([]int32, Pad4(s.m)*Pad16(s.n))
		for _, name := range Available() {
			if name == NameGo {
				continue
			}
			prev, _ := Force(name)
			calls := map[string]func(){
				"GemmT2": func() { GemmT2(1, s.m, s.n, s.k, x, Pad16(s.k), w2, c, Pad16(s.n)) },
				"Gemm":   func() { Gemm(1, 2*255, Pad4(s.m), s.n, s.k, x, Pad16(s.k), wp, c, Pad16(s.n)) },
				"Gemv":   func() { Gemv(1, 2*255, s.n, s.k, x, wp, c) },
			}
			for call, f := range calls {
				f()
				if a := testing.AllocsPerRun(20, f); a >= 1 {
					t.Errorf("%s %s %s: %v allocations a call", name, call, fmt.Sprint(s), a)
				}
			}
			Force(prev)
		}
	}
}
