//go:build amd64 && !purego

#include "textflag.h"

// Hand-written (avo v0.5.0 has no masked moves); see pack_amd64.go.

// func packCopyAVX512(kc int, src *float32, lds int, rows, mr int, dst *float32)
TEXT ·packCopyAVX512(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R10
	MOVQ rows+24(FP), BX
	MOVQ mr+32(FP), DX
	MOVQ dst+40(FP), DI
	MOVL $1, AX
	SHLXL BX, AX, R8
	DECL R8
	SHLXL DX, AX, R9
	DECL R9
	KMOVW R8, K2
	KMOVW R9, K3
	SHLQ $2, DX
	SHLQ $2, R10
	TESTQ CX, CX
	JLE cdone
cloop:
	VMOVUPS.Z (SI), K2, Z0
	VMOVUPS Z0, K3, (DI)
	ADDQ R10, SI
	ADDQ DX, DI
	DECQ CX
	JNZ cloop
cdone:
	VZEROUPPER
	RET

// func packRows6AVX512(blocks int, src *float32, lds int, dst *float32)
//
// For each of blocks blocks of 8 columns: the 8×8 transpose of transpose8x8AVX
// on rows 0-5 of src (rows 6 and 7 are whatever Y6 and Y7 hold: they only
// reach lanes 6 and 7 of the results, which the 6-lane mask K1 never stores),
// each transposed row stored as 6 floats, 24 bytes apart.
TEXT ·packRows6AVX512(SB), NOSPLIT, $0-32
	MOVQ blocks+0(FP), AX
	MOVQ src+8(FP), CX
	MOVQ lds+16(FP), DX
	MOVQ dst+24(FP), BX
	SHLQ $2, DX
	LEAQ (DX)(DX*2), DI
	MOVL $0x3f, R8
	KMOVW R8, K1
	TESTQ AX, AX
	JLE r6done
r6loop:
	VMOVUPS (CX), Y0
	VMOVUPS (CX)(DX*1), Y1
	VMOVUPS (CX)(DX*2), Y2
	VMOVUPS (CX)(DI*1), Y3
	LEAQ (CX)(DX*4), R9
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(DX*1), Y5
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
	VMOVUPS Y8, K1, (BX)
	VMOVUPS Y9, K1, 24(BX)
	VMOVUPS Y1, K1, 48(BX)
	VMOVUPS Y10, K1, 72(BX)
	VMOVUPS Y11, K1, 96(BX)
	VMOVUPS Y12, K1, 120(BX)
	VMOVUPS Y5, K1, 144(BX)
	VMOVUPS Y7, K1, 168(BX)
	ADDQ $32, CX
	ADDQ $192, BX
	DECQ AX
	JNZ r6loop
r6done:
	VZEROUPPER
	RET
