package nn

import (
	"fmt"

	"github.com/resq-dev/resq/tensor"
)

// Conv2D is a 2-D convolution (cross-correlation, as in every DL framework)
// over NCHW tensors with square stride and zero padding on all sides.
//
// W is [K, C, R, S] (K output maps, C input channels, R×S kernel); B is
// [K]. x is [batch, C, H, W] and y is [batch, K, OH, OW] with
// OH = (H + 2*Pad - R)/Stride + 1 (floor), likewise OW. Forward and
// Backward compute with W.Value(), like Dense.
type Conv2D struct {
	C, K, R, S  int
	Stride, Pad int
	W, B        *Param
	// SkipInputGrad makes Backward skip dx and return nil (see Dense).
	SkipInputGrad bool

	idx int
	g   tensor.ConvGeom
	ws  tensor.ConvWork
	x   *tensor.Tensor // last input (the caller's)
	y   *tensor.Tensor // [batch, K, OH, OW]
	dx  *tensor.Tensor // [batch, C, H, W]
}

// NewConv2D returns a convolution with zero weights and bias.
func NewConv2D(c, k, r, s, stride, pad int) *Conv2D {
	if c <= 0 || k <= 0 || r <= 0 || s <= 0 || stride <= 0 || pad < 0 {
		panic(fmt.Sprintf("nn: conv: bad geometry C=%d K=%d R=%d S=%d stride=%d pad=%d", c, k, r, s, stride, pad))
	}
	return &Conv2D{
		C: c, K: k, R: r, S: s, Stride: stride, Pad: pad,
		W: &Param{Name: "weight", W: tensor.New(k, c, r, s), G: tensor.New(k, c, r, s), Quantizable: true, Decay: true},
		B: &Param{Name: "bias", W: tensor.New(k), G: tensor.New(k)},
	}
}

// Kind returns "conv".
func (l *Conv2D) Kind() string { return "conv" }

// Params returns [W, B].
func (l *Conv2D) Params() []*Param { return []*Param{l.W, l.B} }

func (l *Conv2D) setIndex(i int) { l.idx = i }

// OutShape returns the per-sample output shape [K, OH, OW] for a per-sample
// input [C, H, W]; ok is false when the kernel does not fit.
func (l *Conv2D) OutShape(c, h, w int) (out [3]int, ok bool) {
	oh := (h+2*l.Pad-l.R)/l.Stride + 1
	ow := (w+2*l.Pad-l.S)/l.Stride + 1
	if c != l.C || h+2*l.Pad < l.R || w+2*l.Pad < l.S {
		return out, false
	}
	return [3]int{l.K, oh, ow}, true
}

// Forward convolves x [batch, C, H, W] and adds the bias.
func (l *Conv2D) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	w := l.W.Value()
	if len(x.Shape) != 4 || x.Shape[1] != l.C || x.Shape[2]+2*l.Pad < l.R || x.Shape[3]+2*l.Pad < l.S {
		panic(fmt.Sprintf("nn: conv %d: input %v does not match weights %v (stride %d, pad %d)", l.idx, x.Shape, w.Shape, l.Stride, l.Pad))
	}
	if w.Size() != l.K*l.C*l.R*l.S {
		panic(fmt.Sprintf("nn: conv %d: weights %v, want [%d %d %d %d]", l.idx, w.Shape, l.K, l.C, l.R, l.S))
	}
	l.g = tensor.ConvGeom{N: x.Shape[0], C: l.C, H: x.Shape[2], W: x.Shape[3], K: l.K, R: l.R, S: l.S, Stride: l.Stride, Pad: l.Pad}
	oh, ow := l.g.OutH(), l.g.OutW()
	l.x = x
	l.y = ensure(l.y, l.g.N, l.K, oh, ow)
	tensor.ConvForwardBias(l.y.Data, x.Data, w.Data, l.B.Value().Data, l.g, &l.ws)
	return l.y
}

// Backward overwrites W.G and B.G from dy [batch, K, OH, OW] and returns
// dx [batch, C, H, W] (nil when SkipInputGrad is set).
func (l *Conv2D) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkSame(dy, l.y, "conv", l.idx)
	tensor.ConvBackwardFilterBias(l.W.G.Data, l.B.G.Data, dy.Data, l.x.Data, l.g, &l.ws)
	if l.SkipInputGrad {
		return nil
	}
	l.dx = ensure(l.dx, l.x.Shape...)
	tensor.ConvBackwardData(l.dx.Data, dy.Data, l.W.Value().Data, l.g, &l.ws)
	return l.dx
}
