package kernels

import "fmt"

// GemmRef is the naive reference: c[i*ldc+j] = sum_p x[i*ldx+p] * w[j*ldw+p]
// for i < m, j < n, p < k. w is row-major [n, k] (one row per output).
func GemmRef(m, n, k int, x []uint8, ldx int, w []int8, ldw int, c []int32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s int32
			for p := 0; p < k; p++ {
				s += int32(x[i*ldx+p]) * int32(w[j*ldw+p])
			}
			c[i*ldc+j] = s
		}
	}
}

// Pad4 returns k rounded up to a multiple of 4 (the packed row length Kp).
func Pad4(k int) int { return (k + 3) &^ 3 }

// Pad16 returns n rounded up to a multiple of 16 (the packed column count).
func Pad16(n int) int { return (n + 15) &^ 15 }

// PackedLen returns the number of bytes PackW writes for an [n, k] matrix.
func PackedLen(n, k int) int { return Pad16(n) * Pad4(k) }

// PackW rearranges the row-major [n, k] matrix w into the panel layout
// described in the package documentation. dst must have PackedLen(n, k)
// bytes; it is fully overwritten (padding zeroed).
func PackW(dst []int8, w []int8, n, k int) {
	if len(w) < n*k || len(dst) != PackedLen(n, k) {
		panic(fmt.Sprintf("kernels: PackW [%d, %d] needs src %d and dst %d bytes, have %d and %d", n, k, n*k, PackedLen(n, k), len(w), len(dst)))
	}
	clear(dst)
	kp := Pad4(k)
	for j := 0; j < n; j++ {
		p, jj := j/16, j%16
		base := p * kp * 16
		for q := 0; q < k; q++ {
			dst[base+(q/4)*64+jj*4+q%4] = w[j*k+q]
		}
	}
}
