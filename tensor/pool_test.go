package tensor

import (
	"fmt"
	"math"
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

// TestMaxPool2x2BackwardPlanes checks the pool gradient bit for bit
// against the plain scatter into a cleared dx, on odd and even sizes,
// with -0 gradients, and with argmax indices outside their windows (still
// in their planes), which the window-wise assembly must hand back to the
// scatter.
func TestMaxPool2x2BackwardPlanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	for _, c := range [][3]int{{1, 2, 2}, {2, 3, 3}, {3, 2, 17}, {2, 17, 2}, {4, 5, 33}, {3, 28, 28}, {2, 29, 31}, {1, 6, 258}} {
		planes, h, w := c[0], c[1], c[2]
		x := randSlice(rng, planes*h*w)
		oh, ow := h/2, w/2
		no := planes * oh * ow
		y, arg := make([]float32, no), make([]int32, no)
		MaxPool2x2(y, arg, x, planes, h, w)
		dy := randSlice(rng, no)
		for o := 0; o < no; o += 5 {
			dy[o] = float32(math.Copysign(0, -1))
		}
		for _, outside := range []bool{false, true} {
			a := append([]int32(nil), arg...)
			if outside {
				// One argmax per plane moved to another pixel of its plane.
				for p := 0; p < planes; p++ {
					o := p*oh*ow + rng.IntN(oh*ow)
					a[o] = int32(p*h*w + rng.IntN(h*w))
				}
			}
			want := make([]float32, len(x))
			for o, v := range dy {
				want[a[o]] += v
			}
			// Planes [lo, planes) only: dx below lo is left as it was.
			for _, lo := range []int{0, planes / 2} {
				got := randSlice(rng, len(x))
				copy(want[:lo*h*w], got[:lo*h*w])
				maxPool2x2BackwardPlanes(got, dy, a, lo, planes, h, w)
				sameBits(t, fmt.Sprintf("%v outside=%v lo=%d", c, outside, lo), got, want)
			}
		}
	}
}

// BenchmarkMaxPool2x2Backward times the pool gradient of the MNIST CNN's
// two pools (batch 100) on one goroutine: the window-wise assembly (where
// there is one) against the clear-and-scatter loop.
func BenchmarkMaxPool2x2Backward(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range [][3]int{{3200, 28, 28}, {6400, 14, 14}} {
		planes, h, w := c[0], c[1], c[2]
		x := randSlice(rng, planes*h*w)
		no := planes * (h / 2) * (w / 2)
		y, arg := make([]float32, no), make([]int32, no)
		MaxPool2x2(y, arg, x, planes, h, w)
		dy, dx := randSlice(rng, no), make([]float32, len(x))
		for _, k := range []struct {
			name string
			f    func(dx, dy []float32, arg []int32, lo, hi, h, w int)
		}{{"planes", maxPool2x2BackwardPlanes}, {"scatter", maxPool2x2BackwardScatter}} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", k.name, planes, h, w), func(b *testing.B) {
				for b.Loop() {
					k.f(dx, dy, arg, 0, planes, h, w)
				}
			})
		}
	}
}
