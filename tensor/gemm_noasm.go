//go:build !amd64 || purego

package tensor

// archKernels returns no assembly kernels on this platform or with the
// purego build tag: Gemm uses the pure-Go kernel.
func archKernels() []*microKernel { return nil }
