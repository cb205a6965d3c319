package packed

import (
	"math/rand/v2"
	"testing"
)

// TestDenseFloatMatchesPlainLoop: the panel-order float pass gives the
// plain loop's float64 sums bit for bit, for odd shapes and every
// precision.
func TestDenseFloatMatchesPlainLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	for _, bits := range []int{2, 3, 8} {
		for _, sz := range []struct{ in, out int }{{1, 1}, {3, 17}, {17, 3}, {129, 33}} {
			n := randNet(r, sz.in, nil, sz.out, bits, "relu", true, false)
			m, err := LoadBytes(n.bytes(t))
			if err != nil {
				t.Fatal(err)
			}
			o := m.ops[0]
			in := make([]float32, sz.in)
			for i := range in {
				in[i] = float32(r.NormFloat64())
			}
			got := make([]float32, sz.out)
			o.denseFloat(got, in)
			for j := range got {
				var s float64
				for q, v := range in {
					s += float64(v) * float64(o.code(j, q))
				}
				want := o.act.apply(float32(s*float64(o.step[j])) + o.bias[j])
				if got[j] != want {
					t.Fatalf("bits %d %dx%d: output %d = %v, plain loop %v", bits, sz.in, sz.out, j, got[j], want)
				}
			}
		}
	}
}
