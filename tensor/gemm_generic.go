package tensor

// genericKernel is the pure-Go micro-kernel used on every CPU without an
// assembly kernel, and selectable everywhere with SetKernel("generic").
//
// 2×4 was the fastest plain-Go register block measured on amd64: the Go
// compiler keeps its 8 accumulators and 6 operands in the 15 usable XMM
// registers, while 3×4 and 4×4 spill (Go schedules all products before the
// adds). On arm64 and other targets with fused multiply-add the compiler
// turns each `c += a*b` into one FMA.
var genericKernel = &microKernel{
	name: "generic", mr: 2, nr: 4, kc: 256, mc: 128, nc: 2048,
	fn: microGeneric2x4,
}

// microGeneric2x4 is the 2×4 register-blocked kernel in plain Go.
func microGeneric2x4(k int, a, b, c []float32, ldc int, alpha float32, load bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	a = a[:2*k]
	b = b[:4*k]
	for p := 0; p < k; p++ {
		aa := a[2*p : 2*p+2 : 2*p+2]
		bb := b[4*p : 4*p+4 : 4*p+4]
		a0, a1 := aa[0], aa[1]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	r0 := c[0:4:4]
	r1 := c[ldc : ldc+4 : ldc+4]
	if load {
		r0[0], r0[1], r0[2], r0[3] = r0[0]+alpha*c00, r0[1]+alpha*c01, r0[2]+alpha*c02, r0[3]+alpha*c03
		r1[0], r1[1], r1[2], r1[3] = r1[0]+alpha*c10, r1[1]+alpha*c11, r1[2]+alpha*c12, r1[3]+alpha*c13
		return
	}
	r0[0], r0[1], r0[2], r0[3] = alpha*c00, alpha*c01, alpha*c02, alpha*c03
	r1[0], r1[1], r1[2], r1[3] = alpha*c10, alpha*c11, alpha*c12, alpha*c13
}
