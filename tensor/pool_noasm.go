//go:build !amd64 || purego

package tensor

// maxPool2x2BackwardArch has no assembly here: the scatter runs.
func maxPool2x2BackwardArch(dx, dy []float32, arg []int32, lo, hi, h, w int) bool { return false }
