//go:build !amd64 || purego

package tensor

// Without assembly the one-row products run their Go loops.

var useFMA = false

func dot4Arch(d *[4]float32, x, b []float32, ldb, k int) int { return 0 }
func axpyArch(y []float32, a float32, x []float32) int       { return 0 }
