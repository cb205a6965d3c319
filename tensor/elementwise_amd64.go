//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly element-wise kernels (elementwise_amd64.s).
// They use only AVX/AVX2 instructions without FMA, so they give the same
// bits as the pure-Go loops; the tests check that over odd lengths.
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func reluAVX2(y, x *float32, n int)

//go:noescape
func reluBackwardAVX2(dx, dy, y *float32, n int)

//go:noescape
func mulAVX2(z, x, y *float32, n int)

//go:noescape
func addAVX2(y, x *float32, n int)

//go:noescape
func sgdMomentumAVX2(w, v, grad *float32, n int, mu, wd, lr float32)

// The wrappers below run the assembly over the largest multiple of 8 and
// return how many elements they did; the caller finishes with the Go loop.
// Slices are already cut to equal lengths by the caller.

func reluArch(y, x []float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	reluAVX2(&y[0], &x[0], n)
	return n
}

func reluBackwardArch(dx, dy, y []float32) int {
	n := len(dy) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	reluBackwardAVX2(&dx[0], &dy[0], &y[0], n)
	return n
}

func mulArch(z, x, y []float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	mulAVX2(&z[0], &x[0], &y[0], n)
	return n
}

func addArch(y, x []float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	addAVX2(&y[0], &x[0], n)
	return n
}

func sgdMomentumArch(w, v, g []float32, lr, mu, wd float32) int {
	n := len(w) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	sgdMomentumAVX2(&w[0], &v[0], &g[0], n, mu, wd, lr)
	return n
}

//go:noescape
func dropoutAVX2(y, m, x *float32, bits *uint64, n int, thresh uint32, scale float32)

func dropoutArch(y, m, x []float32, bits []uint64, thresh uint32, scale float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	_ = bits[n/4-1]
	dropoutAVX2(&y[0], &m[0], &x[0], &bits[0], n, thresh, scale)
	return n
}

//go:noescape
func pool2x2Row4AVX(y *float32, arg *int32, row0, row1 *float32, n int, idx0, w int32)

//go:noescape
func pool2x2RowAVX2(y *float32, arg *int32, row0, row1 *float32, n int, idx0, w int32)

// maxPool2x2RowArch pools one output row of n windows (row0, row1 the two
// input rows, idx0 the flat index of row0[0], w the input width) and
// reports whether it did (AVX2 and n >= 4).
func maxPool2x2RowArch(y []float32, arg []int32, row0, row1 []float32, idx0, w int) bool {
	n := len(y)
	if !useAVX2 || n < 4 {
		return false
	}
	_ = arg[n-1]
	_ = row0[2*n-1]
	_ = row1[2*n-1]
	if n < 8 {
		pool2x2Row4AVX(&y[0], &arg[0], &row0[0], &row1[0], n, int32(idx0), int32(w))
	} else {
		pool2x2RowAVX2(&y[0], &arg[0], &row0[0], &row1[0], n, int32(idx0), int32(w))
	}
	return true
}
