//go:build !amd64 || purego

package quant

// vecWidth is 0: no vector kernel on this platform or with the purego tag.
var vecWidth = 0

// applyVec has no vector kernel here and quantizes nothing.
func applyVec(dst, w []float32, step, qmax float32) int { return 0 }

// vecWidths lists the kernels this build can run, for tests.
func vecWidths() []int { return []int{0} }
