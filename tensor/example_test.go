package tensor_test

import (
	"fmt"

	"github.com/resq-dev/resq/tensor"
)

// A dense layer's forward pass with weights stored [out, in]:
// Y[batch, out] = X[batch, in] * W^T.
func ExampleGemm() {
	x := []float32{1, 2, 3, 4, 5, 6} // [2, 3]
	w := []float32{1, 0, 0, 0, 1, 1} // [2, 3]: out 0 = x0, out 1 = x1 + x2
	y := make([]float32, 4)          // [2, 2]
	tensor.Gemm(false, true, 2, 2, 3, 1, x, 3, w, 3, 0, y, 2)
	fmt.Println(y)
	// Output: [1 5 4 11]
}

// A 3×3 box filter over a 4×4 image with "same" padding.
func ExampleConvForward() {
	g := tensor.ConvGeom{N: 1, C: 1, H: 4, W: 4, K: 1, R: 3, S: 3, Stride: 1, Pad: 1}
	if err := g.Check(); err != nil {
		panic(err)
	}
	x := make([]float32, 16)
	tensor.Fill(x, 1)
	w := make([]float32, 9)
	tensor.Fill(w, 1)
	y := make([]float32, g.N*g.K*g.OutH()*g.OutW())
	var ws tensor.ConvWork // reuse across calls: no allocation in steady state
	tensor.ConvForward(y, x, w, g, &ws)
	fmt.Println(g.OutH(), g.OutW(), y)
	// Output: 4 4 [4 6 6 4 6 9 9 6 6 9 9 6 4 6 6 4]
}

func ExampleSetThreads() {
	prev := tensor.SetThreads(1) // e.g. two sweep workers on two cores
	defer tensor.SetThreads(prev)
	fmt.Println(tensor.Threads())
	// Output: 1
}
