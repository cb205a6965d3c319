//go:build amd64 && !purego

#include "textflag.h"

// Hand-written (masked moves); see pool_amd64.go.

// Lane l of a 16-lane row pair reads output l/2.
DATA poolDup<>+0(SB)/4, $0
DATA poolDup<>+4(SB)/4, $0
DATA poolDup<>+8(SB)/4, $1
DATA poolDup<>+12(SB)/4, $1
DATA poolDup<>+16(SB)/4, $2
DATA poolDup<>+20(SB)/4, $2
DATA poolDup<>+24(SB)/4, $3
DATA poolDup<>+28(SB)/4, $3
DATA poolDup<>+32(SB)/4, $4
DATA poolDup<>+36(SB)/4, $4
DATA poolDup<>+40(SB)/4, $5
DATA poolDup<>+44(SB)/4, $5
DATA poolDup<>+48(SB)/4, $6
DATA poolDup<>+52(SB)/4, $6
DATA poolDup<>+56(SB)/4, $7
DATA poolDup<>+60(SB)/4, $7
GLOBL poolDup<>(SB), RODATA|NOPTR, $64

DATA poolIota<>+0(SB)/4, $0
DATA poolIota<>+4(SB)/4, $1
DATA poolIota<>+8(SB)/4, $2
DATA poolIota<>+12(SB)/4, $3
DATA poolIota<>+16(SB)/4, $4
DATA poolIota<>+20(SB)/4, $5
DATA poolIota<>+24(SB)/4, $6
DATA poolIota<>+28(SB)/4, $7
DATA poolIota<>+32(SB)/4, $8
DATA poolIota<>+36(SB)/4, $9
DATA poolIota<>+40(SB)/4, $10
DATA poolIota<>+44(SB)/4, $11
DATA poolIota<>+48(SB)/4, $12
DATA poolIota<>+52(SB)/4, $13
DATA poolIota<>+56(SB)/4, $14
DATA poolIota<>+60(SB)/4, $15
GLOBL poolIota<>(SB), RODATA|NOPTR, $64

// func poolBack2x2AVX512(dx0, dx1, dy *float32, arg *int32, n int, idx0, w int32) bool
TEXT ·poolBack2x2AVX512(SB), NOSPLIT, $0-49
	MOVQ dx0+0(FP), DI
	MOVQ dx1+8(FP), SI
	MOVQ dy+16(FP), DX
	MOVQ arg+24(FP), R8
	MOVQ n+32(FP), CX
	VMOVDQU32 poolDup<>(SB), Z10
	// Z12: the flat indices of the row-0 lanes; Z13: of the row-1 lanes.
	MOVL idx0+40(FP), AX
	VPBROADCASTD AX, Z12
	VPADDD poolIota<>(SB), Z12, Z12
	MOVL w+44(FP), AX
	VPBROADCASTD AX, Z13
	VPADDD Z12, Z13, Z13
	MOVL $16, AX
	VPBROADCASTD AX, Z14
	VXORPS Z15, Z15, Z15
	MOVL $0xffff, AX
	KMOVW AX, K5
	MOVL $0xff, AX
	KMOVW AX, K4
	MOVL $0x5555, R11
bloop:
	TESTQ CX, CX
	JLE bok
	CMPQ CX, $8
	JGE bfull
	// The last n < 8 outputs: K4 = their lanes, K5 = their row lanes,
	// R11 = the even bits of K5.
	MOVL $1, AX
	SHLXL CX, AX, AX
	DECL AX
	KMOVW AX, K4
	MOVL CX, BX
	SHLL $1, BX
	MOVL $1, AX
	SHLXL BX, AX, AX
	DECL AX
	KMOVW AX, K5
	ANDL AX, R11
bfull:
	VMOVUPS.Z (DX), K4, Y0
	VADDPS Y15, Y0, Y0
	VPERMPS Z0, Z10, Z1
	VMOVDQU32.Z (R8), K4, Y2
	VPERMD Z2, Z10, Z3
	VPCMPEQD Z12, Z3, K1
	VPCMPEQD Z13, Z3, K2
	// Every output's argmax must be one of its four window pixels.
	KORW K1, K2, K3
	KMOVW K3, AX
	MOVL AX, BX
	SHRL $1, BX
	ORL BX, AX
	ANDL R11, AX
	CMPL AX, R11
	JNE bfail
	VMOVAPS.Z Z1, K1, Z4
	VMOVAPS.Z Z1, K2, Z5
	VMOVUPS Z4, K5, (DI)
	VMOVUPS Z5, K5, (SI)
	VPADDD Z14, Z12, Z12
	VPADDD Z14, Z13, Z13
	ADDQ $32, DX
	ADDQ $32, R8
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $8, CX
	JMP bloop
bok:
	MOVB $1, ret+48(FP)
	VZEROUPPER
	RET
bfail:
	MOVB $0, ret+48(FP)
	VZEROUPPER
	RET
