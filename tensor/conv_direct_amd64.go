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
	return hasPackAVX512 && kern.name == "avx512-14x32"
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

// convFilter6x64rAVX512 computes one 6×64 tile of the transposed filter
// gradient dw^T = col * dy^T straight from the padded image, col
// unpacked: for i < 6, j < 64,
//
//	c[i*ldc+j] = Σ_{t<n} x[offs[i]+pix(t)] * b[t*64+j]   (+= c[i*ldc+j] when load)
//
// where pix walks n pixels of the padded image from x: one float on,
// and after each output row's last pixel (left pixels into the first row,
// ow into the later ones) jump more bytes, the padding columns. Each sum
// runs over t in order with one FMA a step, the sums sgemmAVX512_6x64r
// forms on the packed col sliver (alpha 1), so both give the same bits.
//
//go:noescape
func convFilter6x64rAVX512(n, left, ow, jump int, x *float32, offs *int32, b *float32, c *float32, ldc int, load bool)

// convFilter6x16AVX2 is convFilter6x64rAVX512 for the AVX2 6×16 kernel:
// 16 output channels a tile, the sums sgemmAVX2_6x16 forms on the packed
// col sliver.
//
//go:noescape
func convFilter6x16AVX2(n, left, ow, jump int, x *float32, offs *int32, b *float32, c *float32, ldc int, load bool)

// convDirectFilterKernel reports whether the transposed filter gradient
// can read kern's A slivers straight from the padded image: the AVX-512
// 6×64 register-broadcast kernel and the AVX2 6×16 one.
func convDirectFilterKernel(kern *microKernel) bool {
	return hasPackAVX512 && kern.name == "avx512-6x64r" || useFMA && kern.name == "avx2-6x16"
}

// convFilterTile runs kern's direct filter-gradient tile on slices, for
// the n pixels of the padded image from pixel q0 of output rows ow wide
// (row stride wp): x is the buffer the tap offsets offs index from pixel
// (0, 0). The caller has checked that x holds every float read; it checks
// b and c.
func convFilterTile(kern *microKernel, n, q0, ow, wp int, x []float32, offs []int32, b, c []float32, ldc int, load bool) {
	nr := kern.nr
	_ = offs[5]
	_ = b[nr*n-1]
	_ = c[5*ldc+nr-1]
	base := (q0/ow)*wp + q0%ow
	if nr == 64 {
		convFilter6x64rAVX512(n, ow-q0%ow, ow, 4*(wp-ow), &x[base], &offs[0], &b[0], &c[0], ldc, load)
		return
	}
	convFilter6x16AVX2(n, ow-q0%ow, ow, 4*(wp-ow), &x[base], &offs[0], &b[0], &c[0], ldc, load)
}

// convDirectSwitch reports whether a pixel-major forward may leave the
// kernel convKernel picks for one with a direct form (directOr): not on
// AMD Zen 5 (family 26 and later).
func convDirectSwitch() bool { return amdFamily() < 26 }

// convPix6x64rAVX512 and convPix6x16AVX2 compute one 6×nr tile of a
// pixel-major forward convolution straight from the padded image, A
// unpacked: for i < 6, j < nr (64, 16),
//
//	c[i*ldc+j] = Σ_{p<k} x[bases[i]+offs[p]] * b[p*nr+j]   (+= c[i*ldc+j] when load)
//
// where bases[i] is pixel i's offset in x (any pixels: a sliver may span
// output rows) and b a packed nr-column B sliver. Each sum runs over p in
// order with one FMA a step, as sgemmAVX512_6x64r and sgemmAVX2_6x16 do
// on the packed sliver (alpha 1), so both paths give the same bits.
//
//go:noescape
func convPix6x64rAVX512(k int, offs *int32, x *float32, bases *int, b *float32, c *float32, ldc int, load bool)

//go:noescape
func convPix6x16AVX2(k int, offs *int32, x *float32, bases *int, b *float32, c *float32, ldc int, load bool)

// convPixDirect returns kern's pixel-pointer direct form for convPixTile
// (1: convPix6x64rAVX512, 2: convPix6x16AVX2), or 0 for none.
func convPixDirect(kern *microKernel) int {
	switch {
	case hasPackAVX512 && kern.name == "avx512-6x64r":
		return 1
	case useFMA && kern.name == "avx2-6x16":
		return 2
	}
	return 0
}

// convPixTile runs the direct form form (convPixDirect) of a kernel of nr
// columns on slices: the caller has checked that x holds
// x[bases[i]+offs[p]] for every i and p; it checks b and c.
func convPixTile(form, nr int, offs []int32, x []float32, bases *[6]int, b, c []float32, ldc int, load bool) {
	k := len(offs)
	_ = b[nr*k-1]
	_ = c[5*ldc+nr-1]
	if form == 1 {
		convPix6x64rAVX512(k, &offs[0], &x[0], &bases[0], &b[0], &c[0], ldc, load)
		return
	}
	convPix6x16AVX2(k, &offs[0], &x[0], &bases[0], &b[0], &c[0], ldc, load)
}
