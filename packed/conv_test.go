package packed

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/resq-dev/resq/packed/internal/kernels"
	"github.com/resq-dev/resq/tensor"
)

// randCNN builds [c,h,w] -> conv(k1, 3x3, pad 1) -> relu -> maxpool 2 (or
// maxpool, relu: a standalone activation) ->
// conv(k2, 5x5 stride 2, pad 2) -> relu -> flatten -> dense classes.
func randCNN(r *rand.Rand, c, h, w, k1, k2, classes, bits int, actAfterPool bool) testNet {
	n := testNet{a: &arch{In: []int{c, h, w}, Classes: classes}}
	q := qmax(bits)
	add := func(l archLayer) {
		l.Bits, l.Encoding, l.Steps = bits, EncBits, l.rows()
		d := &denseData{Codes: make([]int8, l.rows()*l.cols()), Step: make([]float32, l.rows()), Bias: make([]float32, l.rows())}
		for i := range d.Codes {
			d.Codes[i] = int8(r.IntN(2*q+1) - q)
		}
		for i := range d.Step {
			d.Step[i] = float32(math.Sqrt(6/float64(l.cols())) / float64(q))
		}
		for i := range d.Bias {
			d.Bias[i] = float32(0.1 * r.NormFloat64())
		}
		n.a.Layers = append(n.a.Layers, l)
		n.data = append(n.data, d)
	}
	plain := func(l archLayer) {
		n.a.Layers = append(n.a.Layers, l)
		n.data = append(n.data, nil)
	}
	add(archLayer{Kind: "conv", C: c, K: k1, R: 3, S: 3, Stride: 1, Pad: 1})
	if actAfterPool {
		plain(archLayer{Kind: "maxpool", K: 2, Stride: 2})
		plain(archLayer{Kind: "relu"})
	} else {
		plain(archLayer{Kind: "relu"})
		plain(archLayer{Kind: "maxpool", K: 2, Stride: 2})
	}
	add(archLayer{Kind: "conv", C: k1, K: k2, R: 5, S: 5, Stride: 2, Pad: 2})
	plain(archLayer{Kind: "relu"})
	plain(archLayer{Kind: "flatten"})
	h, w = h/2, w/2
	h, w = (h+4-5)/2+1, (w+4-5)/2+1
	add(archLayer{Kind: "dense", In: k2 * h * w, Out: classes})
	return n
}

// cnnRef is the float64 simulated-quantized forward of a randCNN network.
func cnnRef(n testNet, x []float64, batch int) []float64 {
	shape := append([]int(nil), n.a.In...)
	h := x
	for i, l := range n.a.Layers {
		size := tensor.Numel(shape)
		switch l.Kind {
		case "conv":
			d := n.data[i]
			C, H, W := shape[0], shape[1], shape[2]
			oh, ow := (H+2*l.Pad-l.R)/l.Stride+1, (W+2*l.Pad-l.S)/l.Stride+1
			y := make([]float64, batch*l.K*oh*ow)
			for b := 0; b < batch; b++ {
				for k := 0; k < l.K; k++ {
					for oy := 0; oy < oh; oy++ {
						for ox := 0; ox < ow; ox++ {
							var s float64
							for c := 0; c < C; c++ {
								for r := 0; r < l.R; r++ {
									for t := 0; t < l.S; t++ {
										iy, ix := oy*l.Stride-l.Pad+r, ox*l.Stride-l.Pad+t
										if iy < 0 || iy >= H || ix < 0 || ix >= W {
											continue
										}
										wv := float64(float32(d.Codes[((k*C+c)*l.R+r)*l.S+t]) * d.Step[k])
										s += wv * h[b*size+(c*H+iy)*W+ix]
									}
								}
							}
							y[((b*l.K+k)*oh+oy)*ow+ox] = s + float64(d.Bias[k])
						}
					}
				}
			}
			h, shape = y, []int{l.K, oh, ow}
		case "maxpool":
			C, H, W := shape[0], shape[1], shape[2]
			oh, ow := (H-l.K)/l.Stride+1, (W-l.K)/l.Stride+1
			y := make([]float64, batch*C*oh*ow)
			for b := 0; b < batch; b++ {
				for c := 0; c < C; c++ {
					for oy := 0; oy < oh; oy++ {
						for ox := 0; ox < ow; ox++ {
							best := math.Inf(-1)
							for r := 0; r < l.K; r++ {
								for t := 0; t < l.K; t++ {
									best = max(best, h[b*size+(c*H+oy*l.Stride+r)*W+ox*l.Stride+t])
								}
							}
							y[((b*C+c)*oh+oy)*ow+ox] = best
						}
					}
				}
			}
			h, shape = y, []int{C, oh, ow}
		case "flatten":
			shape = []int{size}
		case "relu":
			for k := range h {
				h[k] = max(h[k], 0)
			}
		case "dense":
			sub := testNet{a: &arch{In: shape, Layers: []archLayer{l}}, data: []*denseData{n.data[i]}}
			h, shape = sub.forwardRef(h, batch), []int{l.Out}
		}
	}
	return h
}

func TestConvMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	const batch = 7
	for _, bits := range []int{2, 4, 8} {
		n := randCNN(r, 3, 11, 9, 5, 6, 4, bits, bits == 4)
		m, err := LoadBytes(n.bytes(t))
		if err != nil {
			t.Fatalf("bits %d: %v", bits, err)
		}
		x := make([]float32, batch*3*11*9)
		x64 := make([]float64, len(x))
		for i := range x {
			x[i] = r.Float32()
			x64[i] = float64(x[i])
		}
		want := cnnRef(n, x64, batch)
		for _, kern := range kernels.Available() {
			prev, _ := kernels.Force(kern)
			got := make([]float32, batch*4)
			m.Infer(got, x, batch)
			kernels.Force(prev)
			for b := 0; b < batch; b++ {
				scale := 1.0
				for j := 0; j < 4; j++ {
					scale = max(scale, math.Abs(want[b*4+j]))
				}
				for j := 0; j < 4; j++ {
					if d := math.Abs(float64(got[b*4+j])-want[b*4+j]) / scale; d > 0.1 {
						t.Fatalf("bits %d %s sample %d logit %d: %v, reference %v", bits, kern, b, j, got[b*4+j], want[b*4+j])
					}
				}
			}
		}
	}
}
