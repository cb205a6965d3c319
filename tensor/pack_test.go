package tensor

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPackAAsmMatchesGo checks that packA's assembly sliver packers (where
// the CPU has them) write exactly what its Go loops write, for both
// layouts of A, partial slivers and every kernel's sliver height.
func TestPackAAsmMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, mr := range []int{3, 6, 8, 12, 14, 16, 28} {
		for _, mc := range []int{1, 3, mr, 17, 2*mr + 1} {
			for _, kc := range []int{1, 3, 17, 129} {
				for _, transA := range []bool{false, true} {
					t.Run(fmt.Sprintf("mr%d/mc%d/kc%d/t%v", mr, mc, kc, transA), func(t *testing.T) {
						const ic, pc = 2, 1
						m, k := ic+mc+1, pc+kc+2
						lda := k + 3
						if transA {
							lda = m + 3
						}
						rows := m
						if transA {
							rows = k
						}
						a := randSlice(rng, rows*lda)
						n := (mc + mr - 1) / mr * mr * kc
						got := make([]float32, n)
						want := make([]float32, n)
						for i := range got {
							got[i], want[i] = 99, 99 // must be overwritten, padding too
						}
						packA(got, transA, a, lda, ic, pc, mc, kc, mr)
						prev := hasPackAVX512
						hasPackAVX512 = false
						packA(want, transA, a, lda, ic, pc, mc, kc, mr)
						hasPackAVX512 = prev
						if !slices.Equal(got, want) {
							t.Fatalf("packA differs from the Go loops")
						}
					})
				}
			}
		}
	}
}
