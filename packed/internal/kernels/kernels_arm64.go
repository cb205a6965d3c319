//go:build arm64 && !purego

package kernels

import "golang.org/x/sys/cpu"

//go:generate go run gen_arm64.go

// archOK reports x86 assembly: none in this build.
const archOK = false

// kern4x16NEON computes C[4, 16] (int32, row stride ldc elements) from 4
// uint8 activation rows (stride ldx bytes) and one packed panel of k4
// steps with Advanced SIMD multiplies; exact under Gemm's pair bound.
//
//go:noescape
func kern4x16NEON(x *uint8, ldx uintptr, w *int8, k4 uintptr, c *int32, ldc uintptr)

// kern4x16Dot is kern4x16NEON with SDOT (FEAT_DotProd); exact for any
// uint8 activations and int8 codes.
//
//go:noescape
func kern4x16Dot(x *uint8, ldx uintptr, w *int8, k4 uintptr, c *int32, ldc uintptr)

// armAvailable lists the arm64 kernels this CPU runs, fastest last (the
// choice is made at run time from the CPU's feature bits).
func armAvailable() []string {
	var out []string
	if cpu.ARM64.HasASIMD {
		out = append(out, NameNEON)
	}
	if cpu.ARM64.HasASIMDDP {
		out = append(out, NameDotProd)
	}
	return out
}

func byName(name string) impl {
	switch name {
	case NameNEON:
		return impl{name: NameNEON, narrow: kern4x16NEON}
	case NameDotProd:
		return impl{name: NameDotProd, narrow: kern4x16Dot}
	}
	return implGo
}

func epilogueAVX2(y *float32, acc *int32, colsum *int32, step *float32, bias *float32, n8 int, off int32, scale float32, relu int) {
	panic("kernels: no AVX2 kernels in this build")
}

func minMaxAVX2(x *float32, n8 int, out *[16]float32) {
	panic("kernels: no AVX2 kernels in this build")
}

func quantizeAVX2(u *uint8, x *float32, n8 int, inv float32, bias float32, top float32) {
	panic("kernels: no AVX2 kernels in this build")
}
