package nn

import (
	"fmt"

	"github.com/resq-dev/resq/tensor"
)

// Dense is a fully connected layer: Y = X*Wᵀ + b.
//
// W is [Out, In] (one row per output unit, the layout packed inference and
// the quantizer expect); B is [Out]. Forward and Backward compute with
// W.Value(), so with a quantizer attached they use the quantized weights and
// the weight gradient is taken with respect to them.
type Dense struct {
	In, Out int
	W, B    *Param
	// SkipInputGrad makes Backward skip dX (one GEMM) and return nil. Build
	// sets it on the first parameterised layer of a model, whose input
	// gradient nobody reads.
	SkipInputGrad bool

	idx    int
	frozen *tensor.PackedB // W.Value() packed for inference (Model.Freeze); nil otherwise
	packed *tensor.PackedB // frozen's buffers, kept between freezes
	x      *tensor.Tensor  // [batch, In], the last input (owned by the caller)
	y      *tensor.Tensor  // [batch, Out]
	dx     *tensor.Tensor  // [batch, In]
}

// NewDense returns a Dense layer with zero weights and bias (see Build for
// initialisation).
func NewDense(in, out int) *Dense {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn: dense: bad size in=%d out=%d", in, out))
	}
	return &Dense{
		In: in, Out: out,
		W: &Param{Name: "weight", W: tensor.New(out, in), G: tensor.New(out, in), Quantizable: true, Decay: true},
		B: &Param{Name: "bias", W: tensor.New(out), G: tensor.New(out)},
	}
}

// Kind returns "dense".
func (d *Dense) Kind() string { return "dense" }

// Params returns [W, B].
func (d *Dense) Params() []*Param { return []*Param{d.W, d.B} }

func (d *Dense) setIndex(i int) { d.idx = i }

// Forward computes y = x*Wᵀ + b for x [batch, In]; y is [batch, Out].
func (d *Dense) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	w := d.W.Value() // [Out, In]
	if len(x.Shape) != 2 || x.Shape[1] != d.In {
		panic(fmt.Sprintf("nn: dense %d: input %v does not match weights %v", d.idx, x.Shape, w.Shape))
	}
	if len(w.Shape) != 2 || w.Shape[0] != d.Out || w.Shape[1] != d.In {
		panic(fmt.Sprintf("nn: dense %d: weights %v, want [%d %d]", d.idx, w.Shape, d.Out, d.In))
	}
	n := x.Shape[0]
	d.x = x
	d.y = ensure(d.y, n, d.Out)
	if d.frozen != nil && !train && n > 1 { // one row: Gemm's one-row path packs nothing
		tensor.GemmPacked(d.y.Data, d.Out, 0, 1, false, n, x.Data, d.In, d.frozen)
	} else {
		tensor.Gemm(false, true, n, d.Out, d.In, 1, x.Data, d.In, w.Data, d.In, 0, d.y.Data, d.Out)
	}
	tensor.AddBiasRows(d.y.Data, d.B.Value().Data, n, d.Out)
	return d.y
}

// freeze packs W.Value() for inference batches of about batch rows: until
// thaw, Forward without training multiplies with the packed copy. The
// packing buffers are kept for the next freeze.
func (d *Dense) freeze(batch int) {
	w := d.W.Value() // [Out, In]
	d.packed = tensor.PackB(d.packed, batch, true, d.In, d.Out, w.Data, d.In)
	d.frozen = d.packed
}

func (d *Dense) thaw() { d.frozen = nil }

// Backward takes dy [batch, Out]; it overwrites W.G = dyᵀ*x and
// B.G = column sums of dy, and returns dx = dy*W [batch, In] (nil when
// SkipInputGrad is set).
func (d *Dense) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkSame(dy, d.y, "dense", d.idx)
	n := dy.Shape[0]
	w := d.W.Value()
	tensor.Gemm(true, false, d.Out, d.In, n, 1, dy.Data, d.Out, d.x.Data, d.In, 0, d.W.G.Data, d.In)
	tensor.SumRows(d.B.G.Data, dy.Data, n, d.Out)
	if d.SkipInputGrad {
		return nil
	}
	d.dx = ensure(d.dx, n, d.In)
	tensor.Gemm(false, false, n, d.In, d.Out, 1, dy.Data, d.Out, w.Data, d.In, 0, d.dx.Data, d.In)
	return d.dx
}
