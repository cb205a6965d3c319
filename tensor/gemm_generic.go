package tensor

import "unsafe"

// genericKernel is the pure-Go micro-kernel used on every CPU without an
// assembly kernel, and selectable everywhere with SetKernel("generic").
//
// 3×2 with K unrolled by two was the fastest plain-Go register block
// measured on amd64 (BenchmarkMicroKernel, against 2×2, 2×3, 2×4, 3×2 and
// 4×2 variants, with and without bounds checks): its 6 accumulators and 6
// products fit the 15 usable XMM registers (Go schedules all of a step's
// products before its adds, so 2×4 and 4×2 spill), and the loop is bound
// by the two scalar multiply and two add pipes rather than by
// instructions. On arm64 and other targets with fused multiply-add the
// compiler turns each `c += a*b` into one FMA.
var genericKernel = &microKernel{
	name: "generic", mr: 3, nr: 2, kc: 256, mc: 129, nc: 2048,
	fn: microGeneric3x2, copyRows: copyRows2,
}

// copyRows2 copies rows pairs of floats, lds apart in src, to dst, ldd
// apart: packB's scatter of one row of B into 2-column slivers.
func copyRows2(rows int, src *float32, lds int, dst *float32, ldd int) {
	s := unsafe.Slice(src, (rows-1)*lds+2)
	d := unsafe.Slice(dst, (rows-1)*ldd+2)
	for i := 0; i < rows; i++ {
		si, di := s[i*lds:i*lds+2:i*lds+2], d[i*ldd:i*ldd+2:i*ldd+2]
		di[0], di[1] = si[0], si[1]
	}
}

// microGeneric3x2 is the 3×2 register-blocked kernel in plain Go. The
// slices are checked once (a[:3*k], b[:2*k]); the loop then reads them
// through pointers, without a bounds check per element.
func microGeneric3x2(k int, a, b, c []float32, ldc int, alpha float32, load bool) {
	var c00, c01, c10, c11, c20, c21 float32
	if k > 0 {
		pa := unsafe.Pointer(unsafe.SliceData(a[: 3*k : 3*k]))
		pb := unsafe.Pointer(unsafe.SliceData(b[: 2*k : 2*k]))
		// Offsets, not advancing pointers: a pointer one step past the
		// end of a sliver would point outside its allocation (checkptr,
		// on under -race, rejects that).
		var oa, ob uintptr
		for p := k / 2; p > 0; p-- {
			a0 := *(*float32)(unsafe.Add(pa, oa))
			a1 := *(*float32)(unsafe.Add(pa, oa+4))
			a2 := *(*float32)(unsafe.Add(pa, oa+8))
			b0 := *(*float32)(unsafe.Add(pb, ob))
			b1 := *(*float32)(unsafe.Add(pb, ob+4))
			c00 += a0 * b0
			c01 += a0 * b1
			c10 += a1 * b0
			c11 += a1 * b1
			c20 += a2 * b0
			c21 += a2 * b1
			a0 = *(*float32)(unsafe.Add(pa, oa+12))
			a1 = *(*float32)(unsafe.Add(pa, oa+16))
			a2 = *(*float32)(unsafe.Add(pa, oa+20))
			b0 = *(*float32)(unsafe.Add(pb, ob+8))
			b1 = *(*float32)(unsafe.Add(pb, ob+12))
			c00 += a0 * b0
			c01 += a0 * b1
			c10 += a1 * b0
			c11 += a1 * b1
			c20 += a2 * b0
			c21 += a2 * b1
			oa += 24
			ob += 16
		}
		if k%2 == 1 {
			a0 := *(*float32)(unsafe.Add(pa, oa))
			a1 := *(*float32)(unsafe.Add(pa, oa+4))
			a2 := *(*float32)(unsafe.Add(pa, oa+8))
			b0 := *(*float32)(unsafe.Add(pb, ob))
			b1 := *(*float32)(unsafe.Add(pb, ob+4))
			c00 += a0 * b0
			c01 += a0 * b1
			c10 += a1 * b0
			c11 += a1 * b1
			c20 += a2 * b0
			c21 += a2 * b1
		}
	}
	r0 := c[0:2:2]
	r1 := c[ldc : ldc+2 : ldc+2]
	r2 := c[2*ldc : 2*ldc+2 : 2*ldc+2]
	if load {
		r0[0], r0[1] = r0[0]+alpha*c00, r0[1]+alpha*c01
		r1[0], r1[1] = r1[0]+alpha*c10, r1[1]+alpha*c11
		r2[0], r2[1] = r2[0]+alpha*c20, r2[1]+alpha*c21
		return
	}
	r0[0], r0[1] = alpha*c00, alpha*c01
	r1[0], r1[1] = alpha*c10, alpha*c11
	r2[0], r2[1] = alpha*c20, alpha*c21
}
