package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMaxPool2x2ParMatchesSerial checks MaxPool2x2Par bit for bit against
// MaxPool2x2 and MaxPool2x2BackwardPar against the plain scatter, for 1,
// 2 and 3 threads, on odd and even planes (large enough to be split).
func TestMaxPool2x2ParMatchesSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	for _, c := range [][3]int{{1, 1, 1}, {3, 3, 5}, {17, 2, 2}, {129, 17, 33}, {300, 28, 28}, {7, 129, 131}} {
		planes, h, w := c[0], c[1], c[2]
		x := randSlice(rng, planes*h*w)
		for i := 0; i < len(x); i += 7 {
			x[i] = x[(i*5)%len(x)] // ties
		}
		no := planes * (h / 2) * (w / 2)
		y, arg := make([]float32, no), make([]int32, no)
		MaxPool2x2(y, arg, x, planes, h, w)
		dy := randSlice(rng, no)
		dx := make([]float32, len(x))
		for o, v := range dy {
			dx[arg[o]] += v
		}
		for _, th := range []int{1, 2, 3} {
			prev := SetThreads(th)
			name := fmt.Sprintf("%v threads=%d", c, th)
			yp, argp := randSlice(rng, no), make([]int32, no)
			MaxPool2x2Par(yp, argp, x, planes, h, w)
			sameBits(t, "MaxPool2x2Par "+name, yp, y)
			for o := range arg {
				if argp[o] != arg[o] {
					t.Fatalf("MaxPool2x2Par %s: arg[%d] = %d, want %d", name, o, argp[o], arg[o])
				}
			}
			dxp := randSlice(rng, len(x))
			MaxPool2x2BackwardPar(dxp, dy, arg, planes, h, w)
			sameBits(t, "MaxPool2x2BackwardPar "+name, dxp, dx)
			SetThreads(prev)
		}
	}
}
