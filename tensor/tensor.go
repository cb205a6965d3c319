package tensor

import "fmt"

// Tensor is a contiguous row-major float32 array with a shape.
// Data has exactly Size() elements. A Tensor returned by a layer is owned
// by that layer: callers read it and must not keep it past the next call.
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zeroed tensor of the given shape.
func New(shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
		n *= d
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// Numel returns the number of elements of a tensor of the given shape,
// the product of its dimensions (1 for no dimensions). It is the one
// shape product of resq: a per-sample input size is Numel(model.In).
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// FromData wraps data (not copied) as a tensor of the given shape.
func FromData(data []float32, shape ...int) *Tensor {
	n := Numel(shape)
	if n != len(data) {
		panic(fmt.Sprintf("tensor: FromData shape %v needs %d elements, have %d", shape, n, len(data)))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Size returns the number of elements.
func (t *Tensor) Size() int { return len(t.Data) }

// Reshape returns a view of t with a new shape and the same data.
func (t *Tensor) Reshape(shape ...int) *Tensor { return FromData(t.Data, shape...) }
