//go:build amd64 && !purego

#include "textflag.h"

// Vectorised gate nonlinearities of the recurrent layers (AVX2 + FMA, 8
// floats per step): the same Cody-Waite reduction and degree-6 polynomial
// as expf32 in rnnmath.go. Each constant is 8 copies (a 32-byte memory
// operand).

DATA rnnc_one<>+0(SB)/4, $0x3f800000
DATA rnnc_one<>+4(SB)/4, $0x3f800000
DATA rnnc_one<>+8(SB)/4, $0x3f800000
DATA rnnc_one<>+12(SB)/4, $0x3f800000
DATA rnnc_one<>+16(SB)/4, $0x3f800000
DATA rnnc_one<>+20(SB)/4, $0x3f800000
DATA rnnc_one<>+24(SB)/4, $0x3f800000
DATA rnnc_one<>+28(SB)/4, $0x3f800000
GLOBL rnnc_one<>(SB), RODATA|NOPTR, $32
DATA rnnc_two<>+0(SB)/4, $0x40000000
DATA rnnc_two<>+4(SB)/4, $0x40000000
DATA rnnc_two<>+8(SB)/4, $0x40000000
DATA rnnc_two<>+12(SB)/4, $0x40000000
DATA rnnc_two<>+16(SB)/4, $0x40000000
DATA rnnc_two<>+20(SB)/4, $0x40000000
DATA rnnc_two<>+24(SB)/4, $0x40000000
DATA rnnc_two<>+28(SB)/4, $0x40000000
GLOBL rnnc_two<>(SB), RODATA|NOPTR, $32
DATA rnnc_log2e<>+0(SB)/4, $0x3fb8aa3b
DATA rnnc_log2e<>+4(SB)/4, $0x3fb8aa3b
DATA rnnc_log2e<>+8(SB)/4, $0x3fb8aa3b
DATA rnnc_log2e<>+12(SB)/4, $0x3fb8aa3b
DATA rnnc_log2e<>+16(SB)/4, $0x3fb8aa3b
DATA rnnc_log2e<>+20(SB)/4, $0x3fb8aa3b
DATA rnnc_log2e<>+24(SB)/4, $0x3fb8aa3b
DATA rnnc_log2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL rnnc_log2e<>(SB), RODATA|NOPTR, $32
DATA rnnc_ln2hi<>+0(SB)/4, $0x3f318000
DATA rnnc_ln2hi<>+4(SB)/4, $0x3f318000
DATA rnnc_ln2hi<>+8(SB)/4, $0x3f318000
DATA rnnc_ln2hi<>+12(SB)/4, $0x3f318000
DATA rnnc_ln2hi<>+16(SB)/4, $0x3f318000
DATA rnnc_ln2hi<>+20(SB)/4, $0x3f318000
DATA rnnc_ln2hi<>+24(SB)/4, $0x3f318000
DATA rnnc_ln2hi<>+28(SB)/4, $0x3f318000
GLOBL rnnc_ln2hi<>(SB), RODATA|NOPTR, $32
DATA rnnc_ln2lo<>+0(SB)/4, $0xb95e8083
DATA rnnc_ln2lo<>+4(SB)/4, $0xb95e8083
DATA rnnc_ln2lo<>+8(SB)/4, $0xb95e8083
DATA rnnc_ln2lo<>+12(SB)/4, $0xb95e8083
DATA rnnc_ln2lo<>+16(SB)/4, $0xb95e8083
DATA rnnc_ln2lo<>+20(SB)/4, $0xb95e8083
DATA rnnc_ln2lo<>+24(SB)/4, $0xb95e8083
DATA rnnc_ln2lo<>+28(SB)/4, $0xb95e8083
GLOBL rnnc_ln2lo<>(SB), RODATA|NOPTR, $32
DATA rnnc_hi<>+0(SB)/4, $0x42b00000
DATA rnnc_hi<>+4(SB)/4, $0x42b00000
DATA rnnc_hi<>+8(SB)/4, $0x42b00000
DATA rnnc_hi<>+12(SB)/4, $0x42b00000
DATA rnnc_hi<>+16(SB)/4, $0x42b00000
DATA rnnc_hi<>+20(SB)/4, $0x42b00000
DATA rnnc_hi<>+24(SB)/4, $0x42b00000
DATA rnnc_hi<>+28(SB)/4, $0x42b00000
GLOBL rnnc_hi<>(SB), RODATA|NOPTR, $32
DATA rnnc_lo<>+0(SB)/4, $0xc2ae0000
DATA rnnc_lo<>+4(SB)/4, $0xc2ae0000
DATA rnnc_lo<>+8(SB)/4, $0xc2ae0000
DATA rnnc_lo<>+12(SB)/4, $0xc2ae0000
DATA rnnc_lo<>+16(SB)/4, $0xc2ae0000
DATA rnnc_lo<>+20(SB)/4, $0xc2ae0000
DATA rnnc_lo<>+24(SB)/4, $0xc2ae0000
DATA rnnc_lo<>+28(SB)/4, $0xc2ae0000
GLOBL rnnc_lo<>(SB), RODATA|NOPTR, $32
DATA rnnc_thi<>+0(SB)/4, $0x41100000
DATA rnnc_thi<>+4(SB)/4, $0x41100000
DATA rnnc_thi<>+8(SB)/4, $0x41100000
DATA rnnc_thi<>+12(SB)/4, $0x41100000
DATA rnnc_thi<>+16(SB)/4, $0x41100000
DATA rnnc_thi<>+20(SB)/4, $0x41100000
DATA rnnc_thi<>+24(SB)/4, $0x41100000
DATA rnnc_thi<>+28(SB)/4, $0x41100000
GLOBL rnnc_thi<>(SB), RODATA|NOPTR, $32
DATA rnnc_tlo<>+0(SB)/4, $0xc1100000
DATA rnnc_tlo<>+4(SB)/4, $0xc1100000
DATA rnnc_tlo<>+8(SB)/4, $0xc1100000
DATA rnnc_tlo<>+12(SB)/4, $0xc1100000
DATA rnnc_tlo<>+16(SB)/4, $0xc1100000
DATA rnnc_tlo<>+20(SB)/4, $0xc1100000
DATA rnnc_tlo<>+24(SB)/4, $0xc1100000
DATA rnnc_tlo<>+28(SB)/4, $0xc1100000
GLOBL rnnc_tlo<>(SB), RODATA|NOPTR, $32
DATA rnnc_p0<>+0(SB)/4, $0x39506967
DATA rnnc_p0<>+4(SB)/4, $0x39506967
DATA rnnc_p0<>+8(SB)/4, $0x39506967
DATA rnnc_p0<>+12(SB)/4, $0x39506967
DATA rnnc_p0<>+16(SB)/4, $0x39506967
DATA rnnc_p0<>+20(SB)/4, $0x39506967
DATA rnnc_p0<>+24(SB)/4, $0x39506967
DATA rnnc_p0<>+28(SB)/4, $0x39506967
GLOBL rnnc_p0<>(SB), RODATA|NOPTR, $32
DATA rnnc_p1<>+0(SB)/4, $0x3ab743ce
DATA rnnc_p1<>+4(SB)/4, $0x3ab743ce
DATA rnnc_p1<>+8(SB)/4, $0x3ab743ce
DATA rnnc_p1<>+12(SB)/4, $0x3ab743ce
DATA rnnc_p1<>+16(SB)/4, $0x3ab743ce
DATA rnnc_p1<>+20(SB)/4, $0x3ab743ce
DATA rnnc_p1<>+24(SB)/4, $0x3ab743ce
DATA rnnc_p1<>+28(SB)/4, $0x3ab743ce
GLOBL rnnc_p1<>(SB), RODATA|NOPTR, $32
DATA rnnc_p2<>+0(SB)/4, $0x3c088908
DATA rnnc_p2<>+4(SB)/4, $0x3c088908
DATA rnnc_p2<>+8(SB)/4, $0x3c088908
DATA rnnc_p2<>+12(SB)/4, $0x3c088908
DATA rnnc_p2<>+16(SB)/4, $0x3c088908
DATA rnnc_p2<>+20(SB)/4, $0x3c088908
DATA rnnc_p2<>+24(SB)/4, $0x3c088908
DATA rnnc_p2<>+28(SB)/4, $0x3c088908
GLOBL rnnc_p2<>(SB), RODATA|NOPTR, $32
DATA rnnc_p3<>+0(SB)/4, $0x3d2aa9c1
DATA rnnc_p3<>+4(SB)/4, $0x3d2aa9c1
DATA rnnc_p3<>+8(SB)/4, $0x3d2aa9c1
DATA rnnc_p3<>+12(SB)/4, $0x3d2aa9c1
DATA rnnc_p3<>+16(SB)/4, $0x3d2aa9c1
DATA rnnc_p3<>+20(SB)/4, $0x3d2aa9c1
DATA rnnc_p3<>+24(SB)/4, $0x3d2aa9c1
DATA rnnc_p3<>+28(SB)/4, $0x3d2aa9c1
GLOBL rnnc_p3<>(SB), RODATA|NOPTR, $32
DATA rnnc_p4<>+0(SB)/4, $0x3e2aaaaa
DATA rnnc_p4<>+4(SB)/4, $0x3e2aaaaa
DATA rnnc_p4<>+8(SB)/4, $0x3e2aaaaa
DATA rnnc_p4<>+12(SB)/4, $0x3e2aaaaa
DATA rnnc_p4<>+16(SB)/4, $0x3e2aaaaa
DATA rnnc_p4<>+20(SB)/4, $0x3e2aaaaa
DATA rnnc_p4<>+24(SB)/4, $0x3e2aaaaa
DATA rnnc_p4<>+28(SB)/4, $0x3e2aaaaa
GLOBL rnnc_p4<>(SB), RODATA|NOPTR, $32
DATA rnnc_p5<>+0(SB)/4, $0x3f000000
DATA rnnc_p5<>+4(SB)/4, $0x3f000000
DATA rnnc_p5<>+8(SB)/4, $0x3f000000
DATA rnnc_p5<>+12(SB)/4, $0x3f000000
DATA rnnc_p5<>+16(SB)/4, $0x3f000000
DATA rnnc_p5<>+20(SB)/4, $0x3f000000
DATA rnnc_p5<>+24(SB)/4, $0x3f000000
DATA rnnc_p5<>+28(SB)/4, $0x3f000000
GLOBL rnnc_p5<>(SB), RODATA|NOPTR, $32
DATA rnnc_bias<>+0(SB)/4, $127
DATA rnnc_bias<>+4(SB)/4, $127
DATA rnnc_bias<>+8(SB)/4, $127
DATA rnnc_bias<>+12(SB)/4, $127
DATA rnnc_bias<>+16(SB)/4, $127
DATA rnnc_bias<>+20(SB)/4, $127
DATA rnnc_bias<>+24(SB)/4, $127
DATA rnnc_bias<>+28(SB)/4, $127
GLOBL rnnc_bias<>(SB), RODATA|NOPTR, $32

// EXP(Y0) leaves e^Y0 in Y0 (Y0 clamped to [-87, 88]); uses Y1..Y3.
#define EXP \
	VMINPS rnnc_hi<>(SB), Y0, Y0 \
	VMAXPS rnnc_lo<>(SB), Y0, Y0 \
	VMULPS rnnc_log2e<>(SB), Y0, Y1 \
	VROUNDPS $0, Y1, Y1 \
	VFNMADD231PS rnnc_ln2hi<>(SB), Y1, Y0 \
	VFNMADD231PS rnnc_ln2lo<>(SB), Y1, Y0 \
	VMOVUPS rnnc_p0<>(SB), Y2 \
	VFMADD213PS rnnc_p1<>(SB), Y0, Y2 \
	VFMADD213PS rnnc_p2<>(SB), Y0, Y2 \
	VFMADD213PS rnnc_p3<>(SB), Y0, Y2 \
	VFMADD213PS rnnc_p4<>(SB), Y0, Y2 \
	VFMADD213PS rnnc_p5<>(SB), Y0, Y2 \
	VMULPS Y0, Y0, Y3 \
	VFMADD213PS Y0, Y3, Y2 \
	VADDPS rnnc_one<>(SB), Y2, Y2 \
	VCVTPS2DQ Y1, Y1 \
	VPADDD rnnc_bias<>(SB), Y1, Y1 \
	VPSLLD $23, Y1, Y1 \
	VMULPS Y1, Y2, Y0

// func sigmoidAVX2(y, x []float32)
// y[i] = 1/(1+e^-x[i]) for the first len(x)/8*8 elements.
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-48
	MOVQ y_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	SHRQ $3, CX
	JZ   sdone
sloop:
	VXORPS Y0, Y0, Y0
	VSUBPS (SI), Y0, Y0
	EXP
	VADDPS rnnc_one<>(SB), Y0, Y0
	VMOVUPS rnnc_one<>(SB), Y1
	VDIVPS Y0, Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  sloop
sdone:
	VZEROUPPER
	RET

// func tanhAVX2(y, x []float32)
// y[i] = 1 - 2/(e^(2x[i])+1), x clamped to [-9, 9], for the first
// len(x)/8*8 elements.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-48
	MOVQ y_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	SHRQ $3, CX
	JZ   tdone
tloop:
	VMOVUPS (SI), Y0
	VMINPS rnnc_thi<>(SB), Y0, Y0
	VMAXPS rnnc_tlo<>(SB), Y0, Y0
	VADDPS Y0, Y0, Y0
	EXP
	VADDPS rnnc_one<>(SB), Y0, Y0
	VMOVUPS rnnc_two<>(SB), Y1
	VDIVPS Y0, Y1, Y0
	VMOVUPS rnnc_one<>(SB), Y1
	VSUBPS Y0, Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  tloop
tdone:
	VZEROUPPER
	RET
