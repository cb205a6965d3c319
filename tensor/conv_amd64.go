//go:build amd64 && !purego

package tensor

// convPackAVX512 sets dst[p*mr+i] = src[offs[p]+i-lo] for lo <= i < hi,
// p < kc, leaving the other lanes of dst untouched (hi <= mr <= 16): one
// masked load and one masked store per kernel tap of a pixel-major A
// sliver (see packConvA).
//
//go:noescape
func convPackAVX512(kc int, offs *int32, src *float32, lo, hi, mr int, dst *float32)

// hasConvPack reports whether packConvA has an assembly sliver packer for
// kernels of mr rows.
func hasConvPack(mr int) bool { return hasPackAVX512 && mr <= 16 }

// convPackSeg packs lanes [lo, hi) of kc taps of one A sliver (see
// convPackAVX512); the caller has checked the bounds.
func convPackSeg(dst []float32, offs []int32, src []float32, lo, hi, mr int) {
	convPackAVX512(len(offs), &offs[0], &src[0], lo, hi, mr, &dst[0])
}
