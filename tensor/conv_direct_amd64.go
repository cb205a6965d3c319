//go:build amd64 && !purego

package tensor

// convDirect14x32AVX512 computes one 14×32 tile of a pixel-major forward
// convolution straight from the padded image, A unpacked: for i < 14,
// j < 32,
//
//	c[i*ldc+j] = Σ_{p<k} x[offs[p]+i] * b[p*32+j]   (+= c[i*ldc+j] when load)
//
// where x points at the first of 14 consecutive pixels of one output row
// and b is a packed 32-column B sliver. Each sum runs over p in order with
// one FMA a step, the sums sgemmAVX512_14x32 forms on the sliver packConvA
// packs (alpha 1), so the two paths give the same bits.
//
//go:noescape
func convDirect14x32AVX512(k int, offs *int32, x *float32, b *float32, c *float32, ldc int, load bool)

// convDirectKernel reports whether runForwardPix can multiply kern's
// slivers straight from the padded image: the AVX-512 14×32 kernel.
func convDirectKernel(kern *microKernel) bool {
	return hasPackAVX512 && kern.mr == 14 && kern.nr == 32 && kern.name == "avx512-14x32"
}

// convDirectTile is convDirect14x32AVX512 on slices. It checks that x
// holds every float the tile reads (offs ascending, as convTapOffsets
// makes them), b the sliver and c the tile.
func convDirectTile(offs []int32, x, b, c []float32, ldc int, load bool) {
	k := len(offs)
	_ = x[int(offs[k-1])+13]
	_ = b[32*k-1]
	_ = c[13*ldc+31]
	convDirect14x32AVX512(k, &offs[0], &x[0], &b[0], &c[0], ldc, load)
}
