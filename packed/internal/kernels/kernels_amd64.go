//go:build amd64 && !purego

package kernels

import (
	"math"
	"strings"

	"github.com/resq-dev/resq/internal/host"
)

const archOK = true

// kern4x16AVX2 computes C[4, 16] (int32, row stride ldc elements) from 4
// uint8 activation rows (stride ldx bytes) and one packed panel of k4 steps.
//
//go:noescape
func kern4x16AVX2(x *uint8, ldx uintptr, w *int8, k4 uintptr, c *int32, ldc uintptr)

// kern4x16AVX2S16 is kern4x16AVX2 with int16 partial sums over blocks of
// inner steps (see the package documentation).
//
//go:noescape
func kern4x16AVX2S16(x *uint8, ldx uintptr, w *int8, k4 uintptr, c *int32, ldc uintptr, inner uintptr)

// kern4x16VNNI is kern4x16AVX2 with AVX-512 VNNI.
//
//go:noescape
func kern4x16VNNI(x *uint8, ldx uintptr, w *int8, k4 uintptr, c *int32, ldc uintptr)

// kern4x64VNNI computes C[4, 64] from 4 consecutive panels pstride bytes
// apart.
//
//go:noescape
func kern4x64VNNI(x *uint8, ldx uintptr, w *int8, pstride uintptr, k4 uintptr, c *int32, ldc uintptr)

func byName(name string) impl {
	switch name {
	case NameAVX2:
		return impl{name: NameAVX2, narrow: kern4x16AVX2, narrow16: kern4x16AVX2S16}
	case NameVNNI:
		return impl{name: NameVNNI, narrow: kern4x16VNNI, wide: kern4x64VNNI}
	}
	return implGo
}

//go:noescape
func epilogueAVX2(y *float32, acc *int32, colsum *int32, step *float32, bias *float32, n8 int, off int32, scale float32, relu int)

//go:noescape
func minMaxAVX2(x *float32, n8 int, out *[16]float32)

//go:noescape
func quantizeAVX2(u *uint8, x *float32, n8 int, inv float32, bias float32, top float32)

// T2 kernels (t2_amd64.s); see t2.go for the contracts.

//go:noescape
func t2x4x64VNNI(x *uint8, ldx uintptr, w *uint8, pstride uintptr, ng uintptr, c *int32, ldc uintptr, neg *int32, inner uintptr)

//go:noescape
func t2x4x16VNNI(x *uint8, ldx uintptr, w *uint8, ng uintptr, c *int32, ldc uintptr, neg *int32, inner uintptr)

//go:noescape
func t2v64VNNI(x *uint8, w *uint8, pstride uintptr, ng uintptr, c *int32, neg int32, inner uintptr)

//go:noescape
func t2x4x16AVX2(x *uint8, ldx uintptr, w *uint8, ng uintptr, c *int32, ldc uintptr, neg *int32, inner uintptr)

//go:noescape
func t2vAVX2(xs *uint8, w *uint8, pstride uintptr, ng uintptr, c *int32, neg int32, panels uintptr, tot *int32)

//go:noescape
func t2BcastAVX2(dst *uint8, x *uint8, nq uintptr)

//go:noescape
func sum32AVX2(b *uint8, n32 int) uint32

func init() {
	// int16 blocks of 8 groups: 32 steps of pairs <= 2*255*2 stay <= 32767.
	t2Asm[NameAVX2] = t2impl{x4: t2x4x16AVX2, vn: t2vAVX2, bcast: t2BcastAVX2, inner: 8, sum32: sum32AVX2}
	t2Asm[NameVNNI] = t2impl{x4: t2x4x16VNNI, x4w: t2x4x64VNNI, v4: t2v64VNNI, sum32: sum32AVX2}
}

// One-row kernels (gemv_amd64.s); see gemv.go.

//go:noescape
func kern1x64VNNI(x *uint8, w *int8, pstride uintptr, k4 uintptr, c *int32)

//go:noescape
func kern1x64AVX2(x *uint8, w *int8, pstride uintptr, k4 uintptr, c *int32)

func init() {
	gemvAsm[NameAVX2] = gemvImpl{v4: kern1x64AVX2}
	gemvAsm[NameVNNI] = gemvImpl{v4: kern1x64VNNI}
}

// Decoded-path kernels (t2dec_amd64.s); see t2dec.go.

//go:noescape
func t2DecodeVNNI(dst *uint8, w *uint8, ng uintptr)

//go:noescape
func kern4x64VNNIAcc(x *uint8, ldx uintptr, w *uint8, pstride uintptr, ng uintptr, c *int32, ldc uintptr, neg *int32)

func init() {
	t2DecAsm[NameVNNI] = t2dec{decode: t2DecodeVNNI, x64: kern4x64VNNIAcc}
	t2DecRows = t2DecRowsFor(host.CPU())
}

// t2DecRowsFor is the row count from which the decoded path runs on the
// named CPU: 16 on Intel, where VPDPBUSD zmm and the decode's shifts and
// ANDs share ports 0 and 5; never elsewhere, since AMD Zen 4 (512-bit
// operations on two 256-bit halves) runs the direct 4-row kernel faster at
// every row count (BenchmarkGemmT2Paths, one thread, direct / decoded: 16
// rows 233 / 202, 100x1024x1024 220 / 207, 100x2048x2048 231 / 221 G
// multiply-adds/s).
func t2DecRowsFor(cpu string) int {
	if strings.Contains(cpu, "Intel") {
		return 16
	}
	return math.MaxInt
}
