package nn

import (
	"fmt"
	"math"

	"github.com/resq-dev/resq/tensor"
)

// MaxPool is K×K max pooling with the given stride over NCHW tensors, no
// padding: OH = (H-K)/Stride + 1 (floor; trailing rows/columns that do not
// fill a window are dropped). Backward routes each gradient to the first
// maximum of its window.
type MaxPool struct {
	K, Stride int

	idx     int
	inShape []int
	arg     []int32 // [batch*C*OH*OW]: flat input index of each window's max
	y, dx   *tensor.Tensor
	// relu is the ReLU before the pool when the last forward pass ran
	// both as one (forwardReLU), else nil; dyr holds the masked gradient.
	relu *ReLU
	dyr  *tensor.Tensor
}

// NewMaxPool returns a k×k max pool with the given stride.
func NewMaxPool(k, stride int) *MaxPool {
	if k <= 0 || stride <= 0 {
		panic(fmt.Sprintf("nn: maxpool: bad geometry k=%d stride=%d", k, stride))
	}
	return &MaxPool{K: k, Stride: stride}
}

// Kind returns "maxpool".
func (*MaxPool) Kind() string { return "maxpool" }

// Params returns nil.
func (*MaxPool) Params() []*Param { return nil }

func (p *MaxPool) setIndex(i int) { p.idx = i }

// Forward pools x [batch, C, H, W] to [batch, C, OH, OW].
func (p *MaxPool) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	if len(x.Shape) != 4 || x.Shape[2] < p.K || x.Shape[3] < p.K {
		panic(fmt.Sprintf("nn: maxpool %d: input %v does not fit a %dx%d window", p.idx, x.Shape, p.K, p.K))
	}
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := (h-p.K)/p.Stride+1, (w-p.K)/p.Stride+1
	p.relu = nil
	p.inShape = append(p.inShape[:0], x.Shape...)
	p.y = ensure(p.y, n, c, oh, ow)
	if cap(p.arg) < n*c*oh*ow {
		p.arg = make([]int32, n*c*oh*ow)
	}
	if len(x.Data) > math.MaxInt32 {
		panic(fmt.Sprintf("nn: maxpool %d: input %v has more than 2³¹-1 elements", p.idx, x.Shape))
	}
	arg := p.arg[:n*c*oh*ow]
	y := p.y.Data
	if p.K == 2 && p.Stride == 2 {
		// The common case: vectorised and split by planes across
		// threads, same results as the loop below.
		tensor.MaxPool2x2Par(y, arg, x.Data, n*c, h, w)
		return p.y
	}
	o := 0
	for plane := 0; plane < n*c; plane++ {
		base := plane * h * w
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				h0, w0 := i*p.Stride, j*p.Stride
				best := base + h0*w + w0
				bv := x.Data[best]
				for r := 0; r < p.K; r++ {
					row := base + (h0+r)*w + w0
					for s := 0; s < p.K; s++ {
						if v := x.Data[row+s]; v > bv {
							bv, best = v, row+s
						}
					}
				}
				y[o] = bv
				arg[o] = int32(best)
				o++
			}
		}
	}
	return p.y
}

// Backward scatters dy [batch, C, OH, OW] to the argmax positions.
func (p *MaxPool) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkSame(dy, p.y, "maxpool", p.idx)
	p.dx = ensure(p.dx, p.inShape...)
	dx := p.dx.Data
	if p.K == 2 && p.Stride == 2 {
		s := p.inShape
		tensor.MaxPool2x2BackwardPar(dx, dy.Data, p.arg[:len(dy.Data)], s[0]*s[1], s[2], s[3])
		return p.dx
	}
	clear(dx)
	for o, g := range dy.Data {
		dx[p.arg[o]] += g
	}
	return p.dx
}

// forwardReLU returns Forward(relu(x)) computed as relu(Forward(x)): max
// pooling and ReLU commute, value for value (the window's first maximum
// of x is the first maximum of relu(x) whenever it is positive; otherwise
// both outputs are 0), and the ReLU then runs on the pooled values only.
// Model.Forward calls it for a ReLU r followed by the pool; r keeps no
// output, so that only backwardReLU takes a gradient back through both.
func (p *MaxPool) forwardReLU(r *ReLU, x *tensor.Tensor, train bool) *tensor.Tensor {
	y := p.Forward(x, train)
	tensor.ReLU(y.Data, y.Data)
	p.relu, r.y = r, nil
	return y
}

// backwardReLU is the gradient of forwardReLU: dy [batch, C, OH, OW]
// masked where the pooled output is 0, scattered to the windows' maxima.
// It equals ReLU's Backward of the pool's Backward: a window whose maximum
// is not positive passes no gradient either way.
func (p *MaxPool) backwardReLU(dy *tensor.Tensor) *tensor.Tensor {
	checkSame(dy, p.y, "maxpool", p.idx)
	p.dyr = ensure(p.dyr, dy.Shape...)
	tensor.ReLUBackward(p.dyr.Data, dy.Data, p.y.Data)
	return p.Backward(p.dyr)
}
