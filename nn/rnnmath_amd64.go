//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

// useGateAsm selects the AVX2+FMA gate kernels (rnnmath_amd64.s).
var useGateAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func sigmoidAVX2(y, x []float32)

//go:noescape
func tanhAVX2(y, x []float32)

// sigmoidSlice sets y[i] = sigmoid(x[i]); in place allowed.
func sigmoidSlice(y, x []float32) {
	y = y[:len(x)]
	i := 0
	if useGateAsm {
		sigmoidAVX2(y, x)
		i = len(x) &^ 7
	}
	sigmoidGo(y[i:], x[i:])
}

// tanhSlice sets y[i] = tanh(x[i]); in place allowed.
func tanhSlice(y, x []float32) {
	y = y[:len(x)]
	i := 0
	if useGateAsm {
		tanhAVX2(y, x)
		i = len(x) &^ 7
	}
	tanhGo(y[i:], x[i:])
}
