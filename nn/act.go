package nn

import "github.com/resq-dev/resq/tensor"

// act is the shared body of the elementwise activation layers: it owns the
// output y (kept for Backward, which needs only y for all three) and dx.
type act struct {
	idx   int
	y, dx *tensor.Tensor
}

func (a *act) setIndex(i int) { a.idx = i }

func (a *act) fwd(x *tensor.Tensor, f func(y, x []float32)) *tensor.Tensor {
	a.y = ensure(a.y, x.Shape...)
	f(a.y.Data, x.Data)
	return a.y
}

func (a *act) bwd(dy *tensor.Tensor, kind string, f func(dx, dy, y []float32)) *tensor.Tensor {
	checkSame(dy, a.y, kind, a.idx)
	a.dx = ensure(a.dx, dy.Shape...)
	f(a.dx.Data, dy.Data, a.y.Data)
	return a.dx
}

// ReLU is y = max(x, 0), any shape.
type ReLU struct{ act }

// Kind returns "relu".
func (*ReLU) Kind() string { return "relu" }

// Params returns nil.
func (*ReLU) Params() []*Param { return nil }

// Forward returns max(x, 0) with x's shape.
func (r *ReLU) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	return r.fwd(x, tensor.ReLU)
}

// Backward returns dy masked by y > 0.
func (r *ReLU) Backward(dy *tensor.Tensor) *tensor.Tensor {
	return r.bwd(dy, "relu", tensor.ReLUBackward)
}

// Sigmoid is y = 1/(1+exp(-x)), any shape.
type Sigmoid struct{ act }

// Kind returns "sigmoid".
func (*Sigmoid) Kind() string { return "sigmoid" }

// Params returns nil.
func (*Sigmoid) Params() []*Param { return nil }

// Forward returns the logistic function of x.
func (s *Sigmoid) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	return s.fwd(x, tensor.Sigmoid)
}

// Backward returns dy*y*(1-y).
func (s *Sigmoid) Backward(dy *tensor.Tensor) *tensor.Tensor {
	return s.bwd(dy, "sigmoid", tensor.SigmoidBackward)
}

// Tanh is y = tanh(x), any shape.
type Tanh struct{ act }

// Kind returns "tanh".
func (*Tanh) Kind() string { return "tanh" }

// Params returns nil.
func (*Tanh) Params() []*Param { return nil }

// Forward returns tanh(x).
func (t *Tanh) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	return t.fwd(x, tensor.Tanh)
}

// Backward returns dy*(1-y²).
func (t *Tanh) Backward(dy *tensor.Tensor) *tensor.Tensor {
	return t.bwd(dy, "tanh", tensor.TanhBackward)
}
