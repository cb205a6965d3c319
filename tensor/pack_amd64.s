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
