package nn

import "github.com/resq-dev/resq/tensor"

// Flatten reshapes [batch, d1, d2, ...] to [batch, d1*d2*...] without
// copying; Backward reshapes the gradient back the same way. The returned
// tensors are views of the caller's data.
type Flatten struct {
	idx     int
	inShape []int
	y, dx   *tensor.Tensor
}

// Kind returns "flatten".
func (*Flatten) Kind() string { return "flatten" }

// Params returns nil.
func (*Flatten) Params() []*Param { return nil }

func (f *Flatten) setIndex(i int) { f.idx = i }

// Forward returns a [batch, rest] view of x.
func (f *Flatten) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	if len(x.Shape) < 1 {
		panic("nn: flatten: input has no batch dimension")
	}
	n := x.Shape[0]
	rest := 1
	for _, d := range x.Shape[1:] {
		rest *= d
	}
	f.inShape = append(f.inShape[:0], x.Shape...)
	f.y = view(f.y, x.Data, n, rest)
	return f.y
}

// Backward returns dy viewed with the last input's shape.
func (f *Flatten) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkSame(dy, f.y, "flatten", f.idx)
	if f.dx == nil {
		f.dx = &tensor.Tensor{}
	}
	f.dx.Data = dy.Data
	f.dx.Shape = append(f.dx.Shape[:0], f.inShape...)
	return f.dx
}
