//go:build amd64 && !purego

package tensor

// convPackAVX512 sets dst[p*mr+i] = src[offs[p]+i-lo] for lo <= i < hi,
// p < kc, leaving the other lanes of dst untouched (hi <= mr <= 16): one
// masked load and one masked store per kernel tap of a pixel-major A
// sliver (see packConvA).
//
//go:noescape
func convPackAVX512(kc int, offs *int32, src *float32, lo, hi, mr int, dst *float32)

// hasConvPack reports whether packConvA has an AVX-512 sliver packer for
// kernels of mr rows (the masked segment packer, also used by the padded
// im2col and col2im of im2col_pad.go).
func hasConvPack(mr int) bool { return hasPackAVX512 && mr <= 16 }

// hasConvPix reports whether packConvA has an assembly sliver packer for
// kernels of mr rows and output rows ow pixels wide: the AVX-512 one, or
// the AVX2 one for slivers of at most 8 pixels that span at most two
// output rows (mr <= ow).
func hasConvPix(mr, ow int) bool { return hasConvPack(mr) || useFMA && mr <= 8 && mr <= ow }

// convPixAVX2 sets dst[p*mr+i], for p < kc and i < 8, to
// xp[b1+offs[p]+i] where mask[i] is set, else to xp[b2+offs[p]+i] where
// mask[8+i] is set, else to 0: one A sliver of up to 8 pixels in at most
// two output rows, one masked load per row and tap. Each tap stores 8
// floats: the 8-mr past a tap's row are overwritten by the next tap's,
// and those of the last tap land 8-mr floats past the sliver.
//
//go:noescape
func convPixAVX2(kc int, offs *int32, xp *float32, b1, b2 int, mask *int32, mr int, dst *float32)

// convPackSeg packs lanes [lo, hi) of kc taps of one A sliver (see
// convPackAVX512); the caller has checked the bounds.
func convPackSeg(dst []float32, offs []int32, src []float32, lo, hi, mr int) {
	convPackAVX512(len(offs), &offs[0], &src[0], lo, hi, mr, &dst[0])
}

// convAddAVX512 sets dst[offs[i]+j] += src[i*lds+j] for j < n <= 16,
// i < rows: one col2im tap's row segments added into the padded image.
//
//go:noescape
func convAddAVX512(rows int, offs *int32, dst *float32, src *float32, lds, n int)

// convRowsSeg sets col[i*ldc+j] = xp[offs[i]+j] (add false) or
// xp[offs[i]+j] += col[i*ldc+j] (add true) for j < n <= 16, i <
// len(offs); the caller has checked the bounds.
func convRowsSeg(add bool, col []float32, ldc int, xp []float32, offs []int32, n int) {
	if add {
		convAddAVX512(len(offs), &offs[0], &xp[0], &col[0], ldc, n)
		return
	}
	convPackAVX512(len(offs), &offs[0], &xp[0], 0, n, ldc, &col[0])
}

// convPackT8AVX sets dst[j*ldd+i] = src[offs[i]+j] for i < 8, j < n,
// reading up to src[offs[i]+(n+7)/8*8-1]: eight tap rows of a
// filter-gradient A sliver, transposed pixel-major (see packConvAT).
//
//go:noescape
func convPackT8AVX(n int, src *float32, offs *int32, dst *float32, ldd int)

// convPackT8 is convPackT8AVX on slices: dst[j*ldd+i] = xb[base+offs[i]+j]
// for i < 8, j < n; the caller has checked that xb holds every float read,
// slack included, and dst every float written.
func convPackT8(dst []float32, ldd int, xb []float32, base int, offs []int32, n int) {
	convPackT8AVX(n, &xb[base], &offs[0], &dst[0], ldd)
}

// convPixSliver2 is convPixAVX2 on slices; the caller has checked that xp
// holds every float a set mask lane reads and dst every float written,
// the 8-mr past the last tap's row included.
func convPixSliver2(dst []float32, offs []int32, xp []float32, b1, b2 int, mask *[16]int32, mr int) {
	convPixAVX2(len(offs), &offs[0], &xp[0], b1, b2, &mask[0], mr, &dst[0])
}

// transpose8x8BiasAVX is transpose8x8AVX with bias[8b+i] added to row i
// of block b's output: dst[(8b+i)*ldd+j] = src[j*lds+8b+i] + bias[8b+i].
//
//go:noescape
func transpose8x8BiasAVX(blocks int, src *float32, lds int, dst *float32, ldd int, bias *float32)

// transposeBias is transpose8x8BiasAVX, for unpackPixelMajor.
var transposeBias = transpose8x8BiasAVX
