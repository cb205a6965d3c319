//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

// packCopyAVX512 sets dst[p*mr+i] = src[p*lds+i] for i < rows and
// dst[p*mr+i] = 0 for rows <= i < mr, p < kc (rows <= mr <= 16): one masked
// load and one masked store per step of a transposed A sliver.
//
//go:noescape
func packCopyAVX512(kc int, src *float32, lds int, rows, mr int, dst *float32)

// packRows6AVX512 sets dst[p*6+i] = src[i*lds+p] for i < 6, p < 8*blocks:
// the rows of a 6-row A sliver interleaved by 8×8 transposes whose results
// are stored 6 floats at a time (masked).
//
//go:noescape
func packRows6AVX512(blocks int, src *float32, lds int, dst *float32)

// hasPackAVX512 reports whether packA may use the AVX-512 sliver packers.
var hasPackAVX512 = cpu.X86.HasAVX512F

// packSliverAsm packs one A sliver (see packA) in assembly when it can
// (AVX-512, a sliver of at most 16 rows; a full sliver of 6 or of 8 to 16
// rows when A is not transposed) and reports whether it did.
func packSliverAsm(sl []float32, transA bool, a []float32, lda, i0, pc, rows, kc, mr int) bool {
	if !hasPackAVX512 || mr > 16 || kc == 0 || rows == 0 {
		return false
	}
	_ = sl[kc*mr-1]
	if transA {
		// op(A)[i, p] = a[p*lda + i].
		_ = a[(pc+kc-1)*lda+i0+rows-1]
		packCopyAVX512(kc, &a[pc*lda+i0], lda, rows, mr, &sl[0])
		return true
	}
	// op(A)[i, p] = a[i*lda + p]: 8×8 block transposes of rows [0, 8)
	// and [mr-8, mr) (rows both cover are written twice, with the same
	// values), then the kc%8 tail. (An AVX-512 gather per step was no
	// faster than the Go loop on Zen 4.)
	if rows != mr || mr < 8 && mr != 6 || kc < 8 {
		return false
	}
	_ = a[(i0+rows-1)*lda+pc+kc-1]
	k8 := kc / 8 * 8
	if mr == 6 {
		// The 6×64 kernel's slivers (the Go loop, interleave6, was a
		// tenth of a 2-thread 1024³ product on Zen 5).
		packRows6AVX512(k8/8, &a[i0*lda+pc], lda, &sl[0])
	} else {
		transpose8x8AVX(k8/8, &a[i0*lda+pc], lda, &sl[0], mr)
	}
	if mr > 8 {
		transpose8x8AVX(k8/8, &a[(i0+mr-8)*lda+pc], lda, &sl[mr-8], mr)
	}
	for i := 0; i < mr; i++ {
		row := a[(i0+i)*lda+pc : (i0+i)*lda+pc+kc]
		for p := k8; p < kc; p++ {
			sl[p*mr+i] = row[p]
		}
	}
	return true
}
