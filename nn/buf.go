package nn

import (
	"fmt"
	"slices"

	"github.com/resq-dev/resq/tensor"
)

// ensure returns t reshaped to shape, reusing t's storage when it is large
// enough. It allocates only when t is nil or too small, so a layer that sees
// the same batch size every step allocates nothing after the first step.
// The contents are unspecified after a shape change.
func ensure(t *tensor.Tensor, shape ...int) *tensor.Tensor {
	n := tensor.Numel(shape)
	if t == nil {
		// Not tensor.New: its shape argument escapes (panic message), which
		// would make every caller's variadic shape a heap allocation.
		return &tensor.Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
	}
	if slices.Equal(t.Shape, shape) {
		return t
	}
	if cap(t.Data) >= n {
		t.Data = t.Data[:n]
	} else {
		t.Data = make([]float32, n)
	}
	t.Shape = append(t.Shape[:0], shape...)
	return t
}

// view makes v a tensor over data with the given shape, reusing v's struct
// and shape slice (no allocation in steady state).
func view(v *tensor.Tensor, data []float32, shape ...int) *tensor.Tensor {
	if v == nil {
		v = &tensor.Tensor{}
	}
	v.Data = data
	if !slices.Equal(v.Shape, shape) {
		v.Shape = append(v.Shape[:0], shape...)
	}
	return v
}

// checkSame panics unless dy has the shape of the last forward output.
func checkSame(dy, y *tensor.Tensor, kind string, idx int) {
	if y == nil {
		panic(fmt.Sprintf("nn: %s %d: Backward before Forward", kind, idx))
	}
	if !slices.Equal(dy.Shape, y.Shape) {
		panic(fmt.Sprintf("nn: %s %d: gradient %v does not match output %v", kind, idx, dy.Shape, y.Shape))
	}
}
