//go:build amd64 && !purego

#include "textflag.h"

// func applyAVX2(dst, w *float32, n int, step, qmax float32)
//
// The vector form of apply (quantizer.go), bit for bit: per element
//   k = clamp(int32(min(|w|/step + 0.5, qmax)), 0, qmax)   (NaN -> 0)
//   dst = float32(k)*step, with w's sign bit when k > 0.
// n is a multiple of 8 (the caller does the tail in Go); step > 0.
// (Zen 4 runs 512-bit vectors as two 256-bit halves, and the loop is
// close to memory bound, so there is no AVX-512 variant.)
TEXT ·applyAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         w+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS step+24(FP), Y10
	VBROADCASTSS qmax+28(FP), Y11
	VCVTTPS2DQ   Y11, Y12         // qmax as int32
	MOVL         $0x3f000000, AX  // 0.5
	MOVD         AX, X13
	VPBROADCASTD X13, Y13
	MOVL         $0x7fffffff, AX  // magnitude mask
	MOVD         AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $0x80000000, AX  // sign mask
	MOVD         AX, X15
	VPBROADCASTD X15, Y15
	VPXOR        Y9, Y9, Y9
	SHRQ         $3, CX
	JZ           done2

loop2:
	VMOVUPS    (SI), Y0
	VPAND      Y0, Y14, Y1        // |w|
	VDIVPS     Y10, Y1, Y1        // |w|/step
	VADDPS     Y13, Y1, Y1        // + 0.5
	VMINPS     Y1, Y11, Y1        // min(qmax, x); x when x is NaN, like Go's min
	VCVTTPS2DQ Y1, Y2             // truncate (NaN -> 0x80000000)
	VPMAXSD    Y9, Y2, Y2         // clamp to 0..qmax
	VPMINSD    Y12, Y2, Y2
	VPCMPGTD   Y9, Y2, Y5         // k > 0
	VCVTDQ2PS  Y2, Y3
	VMULPS     Y10, Y3, Y3        // k*step
	VPAND      Y0, Y15, Y4        // sign of w
	VPAND      Y5, Y4, Y4         // ... where k > 0
	VPOR       Y4, Y3, Y3
	VMOVUPS    Y3, (DI)
	ADDQ       $32, SI
	ADDQ       $32, DI
	DECQ       CX
	JNZ        loop2

done2:
	VZEROUPPER
	RET
