//go:build amd64 && !purego

#include "textflag.h"

// AVX2 element-wise kernels. Each processes n elements, n a multiple of 8
// (the Go wrappers in elementwise_amd64.go do the tail). Every kernel
// performs exactly the IEEE operations of its pure-Go loop (no FMA, same
// order), so results are bit-identical to the generic path.

// func reluAVX2(y, x *float32, n int)
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0

relu32:
	CMPQ CX, $32
	JL   relu8
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VMOVUPS 64(SI), Y3
	VMOVUPS 96(SI), Y4
	// Intel vmaxps dst, src1, src2 returns src2 (here 0) when either is NaN
	// or both are zero: exactly "x > 0 ? x : 0".
	VMAXPS  Y0, Y1, Y1
	VMAXPS  Y0, Y2, Y2
	VMAXPS  Y0, Y3, Y3
	VMAXPS  Y0, Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     relu32

relu8:
	CMPQ    CX, $8
	JL      reludone
	VMOVUPS (SI), Y1
	VMAXPS  Y0, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     relu8

reludone:
	VZEROUPPER
	RET

// func reluBackwardAVX2(dx, dy, y *float32, n int)
TEXT ·reluBackwardAVX2(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y0, Y0, Y0

rb32:
	CMPQ CX, $32
	JL   rb8
	// mask = 0 < y (LT_OQ: ordered, quiet; NaN gives 0), dx = dy & mask.
	VCMPPS  $0x11, (DX), Y0, Y1
	VCMPPS  $0x11, 32(DX), Y0, Y2
	VCMPPS  $0x11, 64(DX), Y0, Y3
	VCMPPS  $0x11, 96(DX), Y0, Y4
	VANDPS  (SI), Y1, Y1
	VANDPS  32(SI), Y2, Y2
	VANDPS  64(SI), Y3, Y3
	VANDPS  96(SI), Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	ADDQ    $128, DX
	SUBQ    $32, CX
	JMP     rb32

rb8:
	CMPQ    CX, $8
	JL      rbdone
	VCMPPS  $0x11, (DX), Y0, Y1
	VANDPS  (SI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	SUBQ    $8, CX
	JMP     rb8

rbdone:
	VZEROUPPER
	RET

// func mulAVX2(z, x, y *float32, n int)
TEXT ·mulAVX2(SB), NOSPLIT, $0-32
	MOVQ z+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX

mul32:
	CMPQ CX, $32
	JL   mul8
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VMOVUPS 64(SI), Y3
	VMOVUPS 96(SI), Y4
	VMULPS  (DX), Y1, Y1
	VMULPS  32(DX), Y2, Y2
	VMULPS  64(DX), Y3, Y3
	VMULPS  96(DX), Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	ADDQ    $128, DX
	SUBQ    $32, CX
	JMP     mul32

mul8:
	CMPQ    CX, $8
	JL      muldone
	VMOVUPS (SI), Y1
	VMULPS  (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	SUBQ    $8, CX
	JMP     mul8

muldone:
	VZEROUPPER
	RET

// func addAVX2(y, x *float32, n int)
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX

add32:
	CMPQ CX, $32
	JL   add8
	VMOVUPS (DI), Y1
	VMOVUPS 32(DI), Y2
	VMOVUPS 64(DI), Y3
	VMOVUPS 96(DI), Y4
	VADDPS  (SI), Y1, Y1
	VADDPS  32(SI), Y2, Y2
	VADDPS  64(SI), Y3, Y3
	VADDPS  96(SI), Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     add32

add8:
	CMPQ    CX, $8
	JL      adddone
	VMOVUPS (DI), Y1
	VADDPS  (SI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     add8

adddone:
	VZEROUPPER
	RET

// func sgdMomentumAVX2(w, v, grad *float32, n int, mu, wd, lr float32)
// v = (mu*v + g) + wd*w; w = w - lr*v, each product and sum rounded.
TEXT ·sgdMomentumAVX2(SB), NOSPLIT, $0-44
	MOVQ         w+0(FP), DI
	MOVQ         v+8(FP), SI
	MOVQ         grad+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS mu+32(FP), Y13
	VBROADCASTSS wd+36(FP), Y14
	VBROADCASTSS lr+40(FP), Y15

sgd16:
	CMPQ    CX, $16
	JL      sgd8
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VMOVUPS (DI), Y3
	VMOVUPS 32(DI), Y4
	VMULPS  Y13, Y1, Y1
	VMULPS  Y13, Y2, Y2
	VADDPS  (DX), Y1, Y1
	VADDPS  32(DX), Y2, Y2
	VMULPS  Y14, Y3, Y5
	VMULPS  Y14, Y4, Y6
	VADDPS  Y5, Y1, Y1
	VADDPS  Y6, Y2, Y2
	VMOVUPS Y1, (SI)
	VMOVUPS Y2, 32(SI)
	VMULPS  Y15, Y1, Y1
	VMULPS  Y15, Y2, Y2
	VSUBPS  Y1, Y3, Y3
	VSUBPS  Y2, Y4, Y4
	VMOVUPS Y3, (DI)
	VMOVUPS Y4, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	ADDQ    $64, DX
	SUBQ    $16, CX
	JMP     sgd16

sgd8:
	CMPQ    CX, $8
	JL      sgddone
	VMOVUPS (SI), Y1
	VMOVUPS (DI), Y3
	VMULPS  Y13, Y1, Y1
	VADDPS  (DX), Y1, Y1
	VMULPS  Y14, Y3, Y5
	VADDPS  Y5, Y1, Y1
	VMOVUPS Y1, (SI)
	VMULPS  Y15, Y1, Y1
	VSUBPS  Y1, Y3, Y3
	VMOVUPS Y3, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	SUBQ    $8, CX
	JMP     sgd8

sgddone:
	VZEROUPPER
	RET

// Position of output k of a pooling block after the VSHUFPS deinterleave
// (lanes hold outputs 0,1,4,5 | 2,3,6,7), times 2: the input column offset.
DATA pool2Off<>+0(SB)/4, $0
DATA pool2Off<>+4(SB)/4, $2
DATA pool2Off<>+8(SB)/4, $8
DATA pool2Off<>+12(SB)/4, $10
DATA pool2Off<>+16(SB)/4, $4
DATA pool2Off<>+20(SB)/4, $6
DATA pool2Off<>+24(SB)/4, $12
DATA pool2Off<>+28(SB)/4, $14
GLOBL pool2Off<>(SB), RODATA|NOPTR, $32

// func pool2x2RowAVX2(y *float32, arg *int32, row0, row1 *float32, n int, idx0, w int32)
// Pools 2x2 windows of two input rows into n >= 8 outputs: y[j] is the max
// of row0[2j], row0[2j+1], row1[2j], row1[2j+1] (first maximum on ties,
// strict ordered compares as in the Go loop) and arg[j] its flat input
// index (idx0 is the flat index of row0[0], w the input row stride). When
// n is not a multiple of 8 the last block overlaps the previous one and
// recomputes the same values.
TEXT ·pool2x2RowAVX2(SB), NOSPLIT, $0-48
	MOVQ         y+0(FP), DI
	MOVQ         arg+8(FP), R8
	MOVQ         row0+16(FP), SI
	MOVQ         row1+24(FP), DX
	MOVQ         n+32(FP), CX
	MOVL         idx0+40(FP), AX
	MOVL         w+44(FP), BX
	VMOVDQU      pool2Off<>(SB), Y15
	VMOVQ         AX, X14
	VPBROADCASTD X14, Y14
	VPADDD       Y15, Y14, Y14   // Y14 = idx of the even row0 elements
	VMOVQ         BX, X13
	VPBROADCASTD X13, Y13        // Y13 = w
	MOVL         $1, AX
	VMOVQ         AX, X12
	VPBROADCASTD X12, Y12        // Y12 = 1
	XORQ         R9, R9          // output index j of the block

pool2loop:
	LEAQ 8(R9), R10
	CMPQ R10, CX
	JLE  pool2block
	// Last partial block: step back to n-8 (overlaps, same results).
	CMPQ R9, CX
	JGE  pool2done
	MOVQ CX, R9
	SUBQ $8, R9

pool2block:
	// Input column 2*j: byte offset 8*j.
	MOVQ    R9, R11
	SHLQ    $3, R11
	VMOVUPS (SI)(R11*1), Y0
	VMOVUPS 32(SI)(R11*1), Y1
	VMOVUPS (DX)(R11*1), Y2
	VMOVUPS 32(DX)(R11*1), Y3
	VSHUFPS $0x88, Y1, Y0, Y4    // a: row0 even columns
	VSHUFPS $0xdd, Y1, Y0, Y5    // b: row0 odd
	VSHUFPS $0x88, Y3, Y2, Y6    // c: row1 even
	VSHUFPS $0xdd, Y3, Y2, Y7    // d: row1 odd

	// idx of a: idx0 + 2j + offsets.
	MOVQ         R9, AX
	SHLQ         $1, AX
	VMOVQ         AX, X8
	VPBROADCASTD X8, Y8
	VPADDD       Y14, Y8, Y8     // ia
	VPADDD       Y12, Y8, Y9     // ib = ia + 1
	VPADDD       Y13, Y8, Y10    // ic = ia + w
	VPADDD       Y12, Y10, Y11   // id = ic + 1

	// m, i = a, ia; then b, c, d replace them where strictly greater.
	VCMPPS    $0x1e, Y4, Y5, Y0  // b > m (GT_OQ)
	VBLENDVPS Y0, Y5, Y4, Y4
	VBLENDVPS Y0, Y9, Y8, Y8
	VCMPPS    $0x1e, Y4, Y6, Y0
	VBLENDVPS Y0, Y6, Y4, Y4
	VBLENDVPS Y0, Y10, Y8, Y8
	VCMPPS    $0x1e, Y4, Y7, Y0
	VBLENDVPS Y0, Y7, Y4, Y4
	VBLENDVPS Y0, Y11, Y8, Y8

	// Back to output order: 64-bit lanes 0,2,1,3.
	VPERMPD $0xd8, Y4, Y4
	VPERMQ  $0xd8, Y8, Y8
	MOVQ    R9, R11
	SHLQ    $2, R11
	VMOVUPS Y4, (DI)(R11*1)
	VMOVDQU Y8, (R8)(R11*1)
	ADDQ    $8, R9
	JMP     pool2loop

pool2done:
	VZEROUPPER
	RET

DATA pool2Off4<>+0(SB)/4, $0
DATA pool2Off4<>+4(SB)/4, $2
DATA pool2Off4<>+8(SB)/4, $4
DATA pool2Off4<>+12(SB)/4, $6
GLOBL pool2Off4<>(SB), RODATA|NOPTR, $16

// func pool2x2Row4AVX(y *float32, arg *int32, row0, row1 *float32, n int, idx0, w int32)
// pool2x2RowAVX2 for 4 <= n: blocks of 4 windows in 128-bit registers
// (no lane crossing), the last block overlapping when n%4 != 0.
TEXT ·pool2x2Row4AVX(SB), NOSPLIT, $0-48
	MOVQ         y+0(FP), DI
	MOVQ         arg+8(FP), R8
	MOVQ         row0+16(FP), SI
	MOVQ         row1+24(FP), DX
	MOVQ         n+32(FP), CX
	MOVL         idx0+40(FP), AX
	VMOVQ        AX, X14
	VPBROADCASTD X14, X14
	VPADDD       pool2Off4<>(SB), X14, X14 // idx of the even row0 elements
	MOVL         w+44(FP), AX
	VMOVQ        AX, X13
	VPBROADCASTD X13, X13
	MOVL         $1, AX
	VMOVQ        AX, X12
	VPBROADCASTD X12, X12
	XORQ         R9, R9

pool4loop:
	LEAQ 4(R9), R10
	CMPQ R10, CX
	JLE  pool4block
	CMPQ R9, CX
	JGE  pool4done
	MOVQ CX, R9
	SUBQ $4, R9

pool4block:
	MOVQ    R9, R11
	SHLQ    $3, R11
	VMOVUPS (SI)(R11*1), X0
	VMOVUPS 16(SI)(R11*1), X1
	VMOVUPS (DX)(R11*1), X2
	VMOVUPS 16(DX)(R11*1), X3
	VSHUFPS $0x88, X1, X0, X4
	VSHUFPS $0xdd, X1, X0, X5
	VSHUFPS $0x88, X3, X2, X6
	VSHUFPS $0xdd, X3, X2, X7

	MOVQ         R9, AX
	SHLQ         $1, AX
	VMOVQ        AX, X8
	VPBROADCASTD X8, X8
	VPADDD       X14, X8, X8
	VPADDD       X12, X8, X9
	VPADDD       X13, X8, X10
	VPADDD       X12, X10, X11

	VCMPPS    $0x1e, X4, X5, X0
	VBLENDVPS X0, X5, X4, X4
	VBLENDVPS X0, X9, X8, X8
	VCMPPS    $0x1e, X4, X6, X0
	VBLENDVPS X0, X6, X4, X4
	VBLENDVPS X0, X10, X8, X8
	VCMPPS    $0x1e, X4, X7, X0
	VBLENDVPS X0, X7, X4, X4
	VBLENDVPS X0, X11, X8, X8

	MOVQ    R9, R11
	SHLQ    $2, R11
	VMOVUPS X4, (DI)(R11*1)
	VMOVDQU X8, (R8)(R11*1)
	ADDQ    $4, R9
	JMP     pool4loop

pool4done:
	RET

// func dropoutAVX2(y, m, x *float32, bits *uint64, n int, thresh uint32, scale float32)
// For each of n (a multiple of 8) elements with u its 16-bit word of bits:
// m = u >= thresh ? scale : 0 (as bits: the drop mask cleared from scale)
// and y = x*m.
TEXT ·dropoutAVX2(SB), NOSPLIT, $0-48
	MOVQ         y+0(FP), DI
	MOVQ         m+8(FP), R8
	MOVQ         x+16(FP), SI
	MOVQ         bits+24(FP), DX
	MOVQ         n+32(FP), CX
	MOVL         thresh+40(FP), AX
	VMOVQ        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         scale+44(FP), AX
	VMOVQ        AX, X15
	VPBROADCASTD X15, Y15

drop8:
	CMPQ      CX, $8
	JL        dropdone
	VPMOVZXWD (DX), Y0           // 8 draws u, zero-extended to 32 bits
	VPCMPGTD  Y0, Y14, Y1        // drop where thresh > u
	VPANDN    Y15, Y1, Y1        // m = scale &^ drop
	VMULPS    (SI), Y1, Y2
	VMOVUPS   Y1, (R8)
	VMOVUPS   Y2, (DI)
	ADDQ      $16, DX
	ADDQ      $32, SI
	ADDQ      $32, DI
	ADDQ      $32, R8
	SUBQ      $8, CX
	JMP       drop8

dropdone:
	VZEROUPPER
	RET
