package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var gemvSizes = []int{1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 129, 1031}

// TestGemvMatchesRef: one-row Gemm calls (the gemv path of the automatic
// kernel choice) match GemmRef for every transposition, alpha and beta
// (beta 0 with NaN in C), leading-dimension slack and thread count.
func TestGemvMatchesRef(t *testing.T) {
	prev, _ := SetKernel("auto")
	defer SetKernel(prev)
	rng := rand.New(rand.NewPCG(21, 21))
	ab := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, 0}, {0.7, -1}}
	i := 0
	for _, n := range gemvSizes {
		for _, k := range gemvSizes {
			for tr := 0; tr < 4; tr++ {
				i++
				x := ab[i%len(ab)]
				c := gemmCase{m: 1, n: n, k: k, transA: tr&1 != 0, transB: tr&2 != 0,
					alpha: x[0], beta: x[1], padA: i % 3, padB: i % 4, padC: i % 2}
				for _, th := range []int{1, 2, 3} {
					runGemmCase(t, rng, c, th)
				}
			}
		}
	}
}

// TestGemvThreadsBitwise: a one-row product gives the same bits on any
// number of goroutines (each output's sum runs in one order).
func TestGemvThreadsBitwise(t *testing.T) {
	prev, _ := SetKernel("auto")
	defer SetKernel(prev)
	rng := rand.New(rand.NewPCG(22, 22))
	for _, s := range [][2]int{{1031, 784}, {1024, 1024}, {2048, 513}, {77, 9000}} {
		n, k := s[0], s[1]
		for _, transB := range []bool{false, true} {
			a := randSlice(rng, k)
			b := randSlice(rng, n*k)
			ldb := n
			if transB {
				ldb = k
			}
			want := make([]float32, n)
			gemmN(1, false, transB, 1, n, k, 1, a, k, b, ldb, 0, want, n)
			for _, th := range []int{2, 3, 5} {
				got := make([]float32, n)
				gemmN(th, false, transB, 1, n, k, 1, a, k, b, ldb, 0, got, n)
				for j := range got {
					if got[j] != want[j] {
						t.Fatalf("[1x%d]x[%d, transB %v] threads=%d: C[%d] = %g, want %g", k, n, transB, th, j, got[j], want[j])
					}
				}
			}
		}
	}
}

// TestDot4AndAxpyArch: the assembly dot4 and axpy match their Go loops
// over odd sizes (FMA rounds once per step, hence the tolerance).
func TestDot4AndAxpyArch(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	for _, k := range gemvSizes {
		for _, pad := range []int{0, 1, 5} {
			ldb := k + pad
			x, b := randSlice(rng, k), randSlice(rng, 3*ldb+k)
			var got, want [4]float32
			dot4(&got, x, b, ldb, k)
			dot4Go(&want, x, b, ldb, k)
			checkClose(t, fmt.Sprintf("dot4 k=%d ldb=%d", k, ldb), got[:], want[:], k)
			y0, xs := randSlice(rng, k), randSlice(rng, k)
			a := float32(rng.NormFloat64())
			yg, yw := append([]float32(nil), y0...), append([]float32(nil), y0...)
			axpy(yg, a, xs)
			axpyGo(yw, a, xs)
			checkClose(t, fmt.Sprintf("axpy n=%d", k), yg, yw, 1)
		}
	}
	if n := dot4Arch(new([4]float32), make([]float32, 7), make([]float32, 31), 8, 7); n != 0 {
		t.Errorf("dot4Arch did %d of 7 elements, want 0 (below one step)", n)
	}
	if useFMA && dot4Arch(new([4]float32), make([]float32, 17), make([]float32, 3*17+17), 17, 17) != 16 {
		t.Error("dot4Arch with FMA did not take 16 of 17 elements")
	}
	// On small integers every order is exact: dot1 against the plain sum.
	for _, k := range gemvSizes {
		x, y := make([]float32, k), make([]float32, k)
		want := 0.0
		for p := range x {
			x[p], y[p] = float32(rng.IntN(9)-4), float32(rng.IntN(9)-4)
			want += float64(x[p] * y[p])
		}
		if got := dot1(x, y); float64(got) != want || math.IsNaN(want) {
			t.Errorf("dot1 over %d integers = %g, want %g", k, got, want)
		}
	}
}
