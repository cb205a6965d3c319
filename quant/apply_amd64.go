//go:build amd64 && !purego

package quant

import "golang.org/x/sys/cpu"

// applyAVX2 quantizes n (a multiple of 8) weights; see apply_amd64.s.
//
//go:noescape
func applyAVX2(dst, w *float32, n int, step, qmax float32)

// vecWidth is the vector kernel's block: 8 with AVX2, 0 without. A
// variable so tests can force the portable path.
var vecWidth = func() int {
	if cpu.X86.HasAVX2 {
		return 8
	}
	return 0
}()

// applyVec quantizes the longest prefix of w that is a multiple of the
// vector width and returns its length (0 without a vector kernel).
func applyVec(dst, w []float32, step, qmax float32) int {
	if vecWidth == 0 {
		return 0
	}
	n := len(w) / vecWidth * vecWidth
	if n == 0 {
		return 0
	}
	_ = dst[n-1]
	applyAVX2(&dst[0], &w[0], n, step, qmax)
	return n
}

// vecWidths lists the kernels this CPU can run, for tests.
func vecWidths() []int {
	if cpu.X86.HasAVX2 {
		return []int{0, 8}
	}
	return []int{0}
}
