package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestGemmThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for _, s := range [][3]int{{1, 1, 1}, {3, 17, 5}, {17, 129, 33}, {100, 512, 128}} {
		m, n, k := s[0], s[1], s[2]
		a, b := make([]float32, m*k), make([]float32, n*k)
		for i := range a {
			a[i] = rng.Float32() - 0.5
		}
		for i := range b {
			b[i] = rng.Float32() - 0.5
		}
		want := make([]float32, m*n)
		GemmRef(false, true, m, n, k, 1, a, k, b, k, 0, want, n)
		var first []float32
		for _, th := range []int{0, 1, 2, 3} {
			got := make([]float32, m*n)
			GemmThreads(th, false, true, m, n, k, 1, a, k, b, k, 0, got, n)
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1e-4 {
					t.Fatalf("%v threads %d: c[%d] = %v, reference %v", s, th, i, got[i], want[i])
				}
			}
			if first == nil {
				first = got
			}
			for i := range got {
				if got[i] != first[i] {
					t.Fatalf("%v: threads %d changed c[%d]", s, th, i)
				}
			}
		}
	}
}
