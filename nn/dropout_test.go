package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/resq-dev/resq/tensor"
)

// TestDropoutDraws pins the mask to its definition: element i of a
// Forward is dropped when 16-bit word i%4 of the (i/4)-th Uint64 of the
// layer's PCG(seed, stream) source is below round(P*65536), over two
// consecutive Forwards of an odd size. Checkpoints trained before the
// vectorised mask must stay reproducible, so this must never change.
func TestDropoutDraws(t *testing.T) {
	p := 0.2
	d := NewDropout(p, 7, 3)
	rng := rand.New(rand.NewPCG(7, 3))
	th := uint64(p*65536 + 0.5)
	scale := float32(1 / (1 - p))
	x := randTensor(rand.New(rand.NewPCG(1, 1)), 3, 43) // 129 elements
	for step := 0; step < 2; step++ {
		y := d.Forward(x, true)
		var r uint64
		for i, v := range x.Data {
			if i%4 == 0 {
				r = rng.Uint64()
			}
			var want float32
			if (r>>(16*(i%4)))&0xffff >= th {
				want = v * scale
			}
			if y.Data[i] != want {
				t.Fatalf("step %d: y[%d] = %v, want %v", step, i, y.Data[i], want)
			}
		}
	}
	dy := tensor.New(3, 43)
	tensor.Fill(dy.Data, 1)
	dx := d.Backward(dy)
	for i, v := range dx.Data {
		if v != 0 && v != scale {
			t.Fatalf("dx[%d] = %v, want 0 or %v", i, v, scale)
		}
	}
}
