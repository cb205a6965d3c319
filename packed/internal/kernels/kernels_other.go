//go:build !(amd64 || arm64) || purego

package kernels

const archOK = false

func byName(string) impl { return implGo }

func epilogueAVX2(y *float32, acc *int32, colsum *int32, step *float32, bias *float32, n8 int, off int32, scale float32, relu int) {
	panic("kernels: no AVX2 kernels in this build")
}

func minMaxAVX2(x *float32, n8 int, out *[16]float32) {
	panic("kernels: no AVX2 kernels in this build")
}

func quantizeAVX2(u *uint8, x *float32, n8 int, inv float32, bias float32, top float32) {
	panic("kernels: no AVX2 kernels in this build")
}
