package nn

import (
	"math"
	"testing"
)

func TestGateMath(t *testing.T) {
	var worstE, worstS, worstT float64
	for i := -200000; i <= 200000; i++ {
		x := float32(i) * 4e-4 // [-80, 80]
		e := float64(expf32(x))
		want := math.Exp(float64(x))
		if r := math.Abs(e-want) / want; r > worstE {
			worstE = r
		}
		s := float64(sigmoid32(x))
		if d := math.Abs(s - 1/(1+math.Exp(-float64(x)))); d > worstS {
			worstS = d
		}
		th := float64(tanh32(x))
		if d := math.Abs(th - math.Tanh(float64(x))); d > worstT {
			worstT = d
		}
	}
	if worstE > 3e-7 || worstS > 3e-7 || worstT > 3e-7 {
		t.Errorf("worst errors: exp relative %.3g, sigmoid %.3g, tanh %.3g (want <= 3e-7)", worstE, worstS, worstT)
	}
	if expf32(1000) != expf32(expHi) || expf32(-1000) != expf32(expLo) {
		t.Error("expf32 does not clamp")
	}
	if s := sigmoid32(-1000); s < 0 || s > 1e-30 {
		t.Errorf("sigmoid32(-1000) = %v", s)
	}
	if v := tanh32(1000); v != 1 {
		t.Errorf("tanh32(1000) = %v", v)
	}
}

// TestGateSlices checks the slice kernels (vectorised where available)
// against math over odd lengths, in place and out of place.
func TestGateSlices(t *testing.T) {
	for _, n := range []int{1, 3, 7, 8, 17, 129, 4001} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(i)*(200/float32(n)) - 100 // [-100, 100)
		}
		if n == 4001 {
			for i := range x {
				x[i] /= 20 // dense near 0
			}
		}
		y := make([]float32, n)
		for _, k := range []struct {
			name string
			f    func(y, x []float32)
			ref  func(float64) float64
		}{
			{"sigmoid", sigmoidSlice, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
			{"tanh", tanhSlice, math.Tanh},
		} {
			k.f(y, x)
			for i, v := range x {
				if d := math.Abs(float64(y[i]) - k.ref(float64(v))); d > 3e-7 {
					t.Fatalf("%s n=%d: f(%v) = %v, want %v (asm %v)", k.name, n, v, y[i], k.ref(float64(v)), useGateAsm)
				}
			}
			z := append([]float32(nil), x...)
			k.f(z, z)
			for i := range z {
				if z[i] != y[i] {
					t.Fatalf("%s n=%d: in place differs at %d", k.name, n, i)
				}
			}
		}
	}
}
