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
