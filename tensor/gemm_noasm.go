//go:build !amd64 || purego

package tensor

// archKernels returns no assembly kernels on this platform or with the
// purego build tag: Gemm uses the pure-Go kernel.
func archKernels() []*microKernel { return nil }

// packSliverAsm has no assembly here: packA always packs in Go.
func packSliverAsm(sl []float32, transA bool, a []float32, lda, i0, pc, rows, kc, mr int) bool {
	return false
}

// hasPackAVX512 is always false here.
var hasPackAVX512 = false

// archAltKernel names no second kernel here.
func archAltKernel() (string, bool, float64) { return "", false, 0 }
