package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowHelpers checks the AVX2 row loops against the Go ones bit for bit
// over odd lengths, with NaNs, infinities and negative values mixed in.
func TestRowHelpers(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1e-40}
	for _, name := range Available() {
		prev, _ := Force(name)
		for _, n := range []int{0, 1, 3, 7, 8, 9, 17, 64, 129, 1000} {
			x := make([]float32, n)
			acc := make([]int32, n)
			colsum := make([]int32, n)
			step := make([]float32, n)
			bias := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 3)
				if r.IntN(10) == 0 {
					x[i] = special[r.IntN(len(special))]
				}
				acc[i] = int32(r.IntN(1<<20) - 1<<19)
				colsum[i] = int32(r.IntN(2001) - 1000)
				step[i] = float32(r.Float64() * 0.01)
				bias[i] = float32(r.NormFloat64())
			}
			for _, relu := range []bool{false, true} {
				got := make([]float32, n)
				want := make([]float32, n)
				Epilogue(got, acc, colsum, step, bias, 128, 0.0173, relu)
				epilogueGo(want, acc, colsum, step, bias, 128, 0.0173, relu)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s n=%d relu=%v: Epilogue[%d] = %v, Go %v", name, n, relu, i, got[i], want[i])
					}
				}
			}
			lo, hi := MinMax(x)
			// The Go loop is the reference, except that AVX2 may see a NaN
			// first in a lane and still ignore it; compare with finite x only.
			clean := make([]float32, 0, n)
			for _, v := range x {
				if !math.IsNaN(float64(v)) {
					clean = append(clean, v)
				}
			}
			wl, wh := minMaxGo(clean)
			if lo != wl || hi != wh {
				t.Fatalf("%s n=%d: MinMax = %v, %v, want %v, %v", name, n, lo, hi, wl, wh)
			}
			for _, top := range []float32{255, 127} {
				got := make([]uint8, n+5)
				want := make([]uint8, n)
				Quantize(got, x, 40.5, 128.5, top)
				quantizeGo(want, x, 40.5, 128.5, top)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s n=%d top=%v: Quantize[%d] of %v = %d, Go %d", name, n, top, i, x[i], got[i], want[i])
					}
				}
			}
		}
		Force(prev)
	}
}
