//go:build amd64 && !purego

package kernels

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
