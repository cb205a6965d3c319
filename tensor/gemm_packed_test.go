package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestGemmPacked checks GemmPacked against GemmRef over odd shapes, both
// layouts of A and B, alpha and beta, and bitwise against the blocked
// product with the same kernel for every thread count, with and without
// prepacking A.
func TestGemmPacked(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 5))
		for _, s := range [][3]int{{1, 1, 1}, {3, 17, 5}, {17, 3, 29}, {1, 129, 17}, {100, 300, 129}, {129, 37, 3}, {7, 1031, 2}} {
			m, n, k := s[0], s[1], s[2]
			for tr := 0; tr < 4; tr++ {
				transA, transB, a, lda, b, ldb := tightOperands(rng, tr, m, n, k)
				c0 := randSlice(rng, m*n)
				ref := append([]float32(nil), c0...)
				GemmRef(transA, transB, m, n, k, 1.5, a, lda, b, ldb, 0.5, ref, n)
				want := append([]float32(nil), c0...)
				// The blocked product with the kernel PackB picks (Gemm
				// itself runs one-row products in auto mode as dot
				// products, whose sums differ in the last bits).
				gemmSerial(pickKernel(m, n), nil, nil, transA, transB, m, n, k, 1.5, a, lda, b, ldb, 0.5, want, n)
				for _, th := range []int{1, 2, 3} {
					for _, limit := range []int{maxPrepack, 0} {
						prevT, prevP := SetThreads(th), maxPrepack
						maxPrepack = limit
						p := PackB(nil, m, transB, k, n, b, ldb)
						got := append([]float32(nil), c0...)
						GemmPacked(got, n, 0.5, 1.5, transA, m, a, lda, p)
						SetThreads(prevT)
						maxPrepack = prevP
						what := fmt.Sprintf("%dx%dx%d tr=%d threads=%d maxPrepack=%d", m, n, k, tr, th, limit)
						checkClose(t, what, got, ref, k)
						for i := range got {
							if got[i] != want[i] {
								t.Fatalf("%s: C[%d] = %g, want %g (bitwise, Gemm)", what, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}

// TestPackBReuse checks that a PackedB repacked with another B and shape
// computes with the new operand.
func TestPackBReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	var p *PackedB
	for _, s := range [][3]int{{5, 200, 33}, {3, 7, 9}, {64, 300, 100}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(rng, m*k), randSlice(rng, n*k)
		p = PackB(p, m, true, k, n, b, k)
		got, want := make([]float32, m*n), make([]float32, m*n)
		GemmPacked(got, n, 0, 1, false, m, a, k, p)
		GemmRef(false, true, m, n, k, 1, a, k, b, k, 0, want, n)
		checkClose(t, fmt.Sprintf("%dx%dx%d", m, n, k), got, want, k)
		if p.K() != k || p.N() != n {
			t.Fatalf("PackedB shape %dx%d, want %dx%d", p.K(), p.N(), k, n)
		}
	}
}

func TestGemmPackedPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	b := randSlice(rng, 6*4)
	p := PackB(nil, 2, false, 6, 4, b, 4)
	for name, f := range map[string]func(){
		"short A":  func() { GemmPacked(make([]float32, 8), 4, 0, 1, false, 2, make([]float32, 11), 6, p) },
		"short C":  func() { GemmPacked(make([]float32, 7), 4, 0, 1, false, 2, make([]float32, 12), 6, p) },
		"short B":  func() { PackB(nil, 2, false, 6, 4, b[:23], 4) },
		"zero k":   func() { PackB(nil, 2, false, 0, 4, b, 4) },
		"small ld": func() { PackB(nil, 2, true, 6, 4, b, 5) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
