//go:build amd64 && !purego

#include "textflag.h"

// Hand-written (avo v0.5.0 has no masked moves); see conv_amd64.go.

// func convPackAVX512(kc int, offs *int32, src *float32, lo, hi, mr int, dst *float32)
TEXT ·convPackAVX512(SB), NOSPLIT, $0-56
	MOVQ kc+0(FP), CX
	MOVQ offs+8(FP), R11
	MOVQ src+16(FP), SI
	MOVQ lo+24(FP), BX
	MOVQ hi+32(FP), R8
	MOVQ mr+40(FP), DX
	MOVQ dst+48(FP), DI
	// K2 = lanes [lo, hi): (1<<hi - 1) &^ (1<<lo - 1).
	MOVL $1, AX
	SHLXL R8, AX, R9
	DECL R9
	SHLXL BX, AX, R10
	DECL R10
	ANDNL R9, R10, R9
	KMOVW R9, K2
	// Lane i reads src[offs[p] + i - lo].
	SHLQ $2, BX
	SUBQ BX, SI
	SHLQ $2, DX
	TESTQ CX, CX
	JLE pdone
ploop:
	MOVLQSX (R11), AX
	VMOVUPS.Z (SI)(AX*4), K2, Z0
	VMOVUPS Z0, K2, (DI)
	ADDQ $4, R11
	ADDQ DX, DI
	DECQ CX
	JNZ ploop
pdone:
	VZEROUPPER
	RET

// func convAddAVX512(rows int, offs *int32, dst *float32, src *float32, lds, n int)
TEXT ·convAddAVX512(SB), NOSPLIT, $0-48
	MOVQ rows+0(FP), CX
	MOVQ offs+8(FP), R11
	MOVQ dst+16(FP), DI
	MOVQ src+24(FP), SI
	MOVQ lds+32(FP), R10
	MOVQ n+40(FP), R8
	// K2 = lanes [0, n).
	MOVL $1, AX
	SHLXL R8, AX, R9
	DECL R9
	KMOVW R9, K2
	SHLQ $2, R10
	TESTQ CX, CX
	JLE adone
aloop:
	MOVLQSX (R11), AX
	VMOVUPS.Z (DI)(AX*4), K2, Z0
	VMOVUPS.Z (SI), K2, Z1
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, K2, (DI)(AX*4)
	ADDQ $4, R11
	ADDQ R10, SI
	DECQ CX
	JNZ aloop
adone:
	VZEROUPPER
	RET

// func convPackT8AVX(n int, src *float32, offs *int32, dst *float32, ldd int)
//
// Pixel j < n of tap row i < 8 is src[offs[i]+j]; it goes to dst[j*ldd+i].
// Each group of 8 pixels is an 8×8 transpose whose first step is done by
// the loads (the 128-bit halves of rows i and i+4 share a register), so
// that it takes 16 shuffles instead of 24 (all on one port on Intel
// cores). A last group of n%8 pixels reads 8 (the caller provides the
// slack) and stores n%8 rows.
TEXT ·convPackT8AVX(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ offs+16(FP), DI
	MOVLQSX 0(DI), R8
	LEAQ (SI)(R8*4), R8
	MOVLQSX 4(DI), R9
	LEAQ (SI)(R9*4), R9
	MOVLQSX 8(DI), R10
	LEAQ (SI)(R10*4), R10
	MOVLQSX 12(DI), R11
	LEAQ (SI)(R11*4), R11
	MOVLQSX 16(DI), R12
	LEAQ (SI)(R12*4), R12
	MOVLQSX 20(DI), R13
	LEAQ (SI)(R13*4), R13
	MOVLQSX 24(DI), AX
	LEAQ (SI)(AX*4), AX
	MOVLQSX 28(DI), BX
	LEAQ (SI)(BX*4), BX
	MOVQ dst+24(FP), DI
	MOVQ ldd+32(FP), DX
	SHLQ $2, DX
	LEAQ (DX)(DX*2), SI
tloop:
	TESTQ CX, CX
	JLE tdone
	// Y0-Y3: pixels 0-3 of rows (0,4), (1,5), (2,6), (3,7); Y4-Y7: pixels 4-7.
	VMOVUPS (R8), X0
	VINSERTF128 $1, (R12), Y0, Y0
	VMOVUPS (R9), X1
	VINSERTF128 $1, (R13), Y1, Y1
	VMOVUPS (R10), X2
	VINSERTF128 $1, (AX), Y2, Y2
	VMOVUPS (R11), X3
	VINSERTF128 $1, (BX), Y3, Y3
	VMOVUPS 16(R8), X4
	VINSERTF128 $1, 16(R12), Y4, Y4
	VMOVUPS 16(R9), X5
	VINSERTF128 $1, 16(R13), Y5, Y5
	VMOVUPS 16(R10), X6
	VINSERTF128 $1, 16(AX), Y6, Y6
	VMOVUPS 16(R11), X7
	VINSERTF128 $1, 16(BX), Y7, Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xee, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xee, Y11, Y9, Y3
	VUNPCKLPS Y5, Y4, Y8
	VUNPCKHPS Y5, Y4, Y9
	VUNPCKLPS Y7, Y6, Y10
	VUNPCKHPS Y7, Y6, Y11
	VSHUFPS $0x44, Y10, Y8, Y4
	VSHUFPS $0xee, Y10, Y8, Y5
	VSHUFPS $0x44, Y11, Y9, Y6
	VSHUFPS $0xee, Y11, Y9, Y7
	CMPQ CX, $8
	JLT tpart
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, (DI)(DX*1)
	VMOVUPS Y2, (DI)(DX*2)
	VMOVUPS Y3, (DI)(SI*1)
	LEAQ (DI)(DX*4), DI
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, (DI)(DX*1)
	VMOVUPS Y6, (DI)(DX*2)
	VMOVUPS Y7, (DI)(SI*1)
	LEAQ (DI)(DX*4), DI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	ADDQ $32, AX
	ADDQ $32, BX
	SUBQ $8, CX
	JMP tloop
tpart:
	// 1 <= CX < 8 pixels left.
	VMOVUPS Y0, (DI)
	CMPQ CX, $1
	JEQ tdone
	VMOVUPS Y1, (DI)(DX*1)
	CMPQ CX, $2
	JEQ tdone
	VMOVUPS Y2, (DI)(DX*2)
	CMPQ CX, $3
	JEQ tdone
	VMOVUPS Y3, (DI)(SI*1)
	CMPQ CX, $4
	JEQ tdone
	LEAQ (DI)(DX*4), DI
	VMOVUPS Y4, (DI)
	CMPQ CX, $5
	JEQ tdone
	VMOVUPS Y5, (DI)(DX*1)
	CMPQ CX, $6
	JEQ tdone
	VMOVUPS Y6, (DI)(DX*2)
tdone:
	VZEROUPPER
	RET

// func convPixAVX2(kc int, offs *int32, xp *float32, b1, b2 int, mask *int32, mr int, dst *float32)
TEXT ·convPixAVX2(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ offs+8(FP), R11
	MOVQ xp+16(FP), SI
	MOVQ b1+24(FP), BX
	MOVQ b2+32(FP), R8
	MOVQ mask+40(FP), AX
	MOVQ mr+48(FP), DX
	MOVQ dst+56(FP), DI
	VMOVDQU (AX), Y2
	VMOVDQU 32(AX), Y3
	LEAQ (SI)(BX*4), BX
	LEAQ (SI)(R8*4), R8
	SHLQ $2, DX
	TESTQ CX, CX
	JLE xdone
xloop:
	MOVLQSX (R11), AX
	VMASKMOVPS (BX)(AX*4), Y2, Y0
	VMASKMOVPS (R8)(AX*4), Y3, Y1
	VORPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $4, R11
	ADDQ DX, DI
	DECQ CX
	JNZ xloop
xdone:
	VZEROUPPER
	RET

// func transpose8x8BiasAVX(blocks int, src *float32, lds int, dst *float32, ldd int, bias *float32)
// transpose8x8AVX with bias[8b+i] added to row i of block b's output.
TEXT ·transpose8x8BiasAVX(SB), NOSPLIT, $0-48
	MOVQ blocks+0(FP), AX
	MOVQ src+8(FP), CX
	MOVQ lds+16(FP), DX
	MOVQ dst+24(FP), BX
	MOVQ ldd+32(FP), SI
	MOVQ bias+40(FP), R10
	SHLQ $2, DX
	SHLQ $2, SI
	LEAQ (DX)(DX*2), DI
	LEAQ (SI)(SI*2), R8
tbloop:
	TESTQ AX, AX
	JZ tbdone
	MOVQ CX, R9
	VMOVUPS (R9), Y0
	VMOVUPS (R9)(DX*1), Y1
	VMOVUPS (R9)(DX*2), Y2
	VMOVUPS (R9)(DI*1), Y3
	LEAQ (CX)(DX*4), R9
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(DX*1), Y5
	VMOVUPS (R9)(DX*2), Y6
	VMOVUPS (R9)(DI*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y1
	VUNPCKHPS Y3, Y2, Y10
	VSHUFPS $0x44, Y1, Y8, Y0
	VSHUFPS $0xee, Y1, Y8, Y1
	VSHUFPS $0x44, Y10, Y9, Y2
	VSHUFPS $0xee, Y10, Y9, Y3
	VUNPCKLPS Y5, Y4, Y11
	VUNPCKHPS Y5, Y4, Y12
	VUNPCKLPS Y7, Y6, Y5
	VUNPCKHPS Y7, Y6, Y7
	VSHUFPS $0x44, Y5, Y11, Y4
	VSHUFPS $0xee, Y5, Y11, Y5
	VSHUFPS $0x44, Y7, Y12, Y6
	VSHUFPS $0xee, Y7, Y12, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x31, Y4, Y0, Y11
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x31, Y5, Y1, Y12
	VPERM2F128 $0x20, Y6, Y2, Y1
	VPERM2F128 $0x31, Y6, Y2, Y5
	VPERM2F128 $0x20, Y7, Y3, Y10
	VPERM2F128 $0x31, Y7, Y3, Y7
	VBROADCASTSS 0(R10), Y13
	VADDPS Y13, Y8, Y8
	VBROADCASTSS 4(R10), Y13
	VADDPS Y13, Y9, Y9
	VBROADCASTSS 8(R10), Y13
	VADDPS Y13, Y1, Y1
	VBROADCASTSS 12(R10), Y13
	VADDPS Y13, Y10, Y10
	VBROADCASTSS 16(R10), Y13
	VADDPS Y13, Y11, Y11
	VBROADCASTSS 20(R10), Y13
	VADDPS Y13, Y12, Y12
	VBROADCASTSS 24(R10), Y13
	VADDPS Y13, Y5, Y5
	VBROADCASTSS 28(R10), Y13
	VADDPS Y13, Y7, Y7
	LEAQ (BX)(SI*4), R9
	VMOVUPS Y8, (BX)
	VMOVUPS Y9, (BX)(SI*1)
	VMOVUPS Y1, (BX)(SI*2)
	VMOVUPS Y10, (BX)(R8*1)
	VMOVUPS Y11, (R9)
	VMOVUPS Y12, (R9)(SI*1)
	VMOVUPS Y5, (R9)(SI*2)
	VMOVUPS Y7, (R9)(R8*1)
	ADDQ $0x20, CX
	ADDQ $0x20, R10
	LEAQ (BX)(SI*8), BX
	DECQ AX
	JMP tbloop
tbdone:
	VZEROUPPER
	RET
