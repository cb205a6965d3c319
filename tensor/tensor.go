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

// FromData wraps data (not copied) as a tensor of the given shape.
func FromData(data []float32, shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(data) {
		panic(fmt.Sprintf("tensor: FromData shape %v needs %d elements, have %d", shape, n, len(data)))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Size returns the number of elements.
func (t *Tensor) Size() int { return len(t.Data) }

// Reshape returns a view of t with a new shape and the same data.
func (t *Tensor) Reshape(shape ...int) *Tensor { return FromData(t.Data, shape...) }
