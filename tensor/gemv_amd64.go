//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

// useFMA selects the AVX2+FMA one-row kernels (gemv_amd64.s).
var useFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// dot4AVX2 sets d[r] = sum_{p<k} x[p]*b[r*ldb+p] for r < 4; k is a
// positive multiple of 8.
//
//go:noescape
func dot4AVX2(d *float32, x, b *float32, ldb, k int)

// axpyAVX2 sets y[i] += a*x[i] for i < n, a positive multiple of 8.
//
//go:noescape
func axpyAVX2(y, x *float32, a float32, n int)

// dot4Arch runs dot4AVX2 over the largest multiple of 8 of k and returns
// it (0: nothing done, d untouched).
func dot4Arch(d *[4]float32, x, b []float32, ldb, k int) int {
	n := k &^ 7
	if !useFMA || n == 0 {
		return 0
	}
	_ = b[3*ldb+n-1] // the last element the kernel reads
	dot4AVX2(&d[0], &x[0], &b[0], ldb, n)
	return n
}

// axpyArch runs axpyAVX2 over the largest multiple of 8 of len(y) and
// returns it.
func axpyArch(y []float32, a float32, x []float32) int {
	n := len(y) &^ 7
	if !useFMA || n == 0 {
		return 0
	}
	_ = x[n-1]
	axpyAVX2(&y[0], &x[0], a, n)
	return n
}
