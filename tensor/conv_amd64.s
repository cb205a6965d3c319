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
