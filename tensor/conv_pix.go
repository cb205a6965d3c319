package tensor

// Pixel-major GEMM orientations of the convolution.
//
// The im2col orientation of the forward pass, y[n] [K, OH*OW] = w [K, CRS]
// * col [CRS, OH*OW], pads both C dimensions to the micro-kernel's
// register block: for the MNIST CNN's second layer (K = 64, OH*OW = 196)
// the 14×32 kernel computes 70×224 for 64×196, a quarter more work, and
// the first layer (K = 32) wastes more. Transposed, y[n]^T [OH*OW, K] =
// col^T [OH*OW, CRS] * w^T [CRS, K], the same shapes pad to nothing
// (196 = 14·14, 784 = 14·56 rows, 32 and 64 columns), and A = col^T is
// packed straight from the zero-padded image: with stride 1 the mr pixels
// of a sliver that share an output row read mr consecutive floats of the
// padded image for every kernel tap (c, r, s), at a fixed offset per tap,
// so a sliver is one masked load and store per tap (convPackAVX512) and
// the im2col matrix is never written. With AVX2 (kernels of at most 8
// rows, slivers in at most two output rows) a sliver is two masked loads,
// one per output row, and one store per tap (convPixAVX2). The K×OH*OW
// output is transposed back to NCHW (with the bias added) while it is in
// cache.
//
// The filter gradient is computed as dw^T [CRS, K] = col [CRS, OH*OW] *
// dy[n]^T [OH*OW, K] for the same reason (M = CRS pads by less than M = K),
// with a row of ones appended to col when the bias gradient is wanted: its
// output row is the bias gradient, sum over pixels of dy, at no extra cost
// while CRS+1 stays within the padding of M.

// convWorker is one worker's scratch for the pixel-major paths.
type convWorker struct {
	pad []float32 // the zero-padded image [C, H+2*Pad, W+2*Pad]
	pa  []float32 // its taps packed as GEMM A slivers (packConvA)
	yt  []float32 // y[n]^T [OH*OW, K]
	fx  []float32 // the filter gradient's [padded image | ones | zeros] (conv_filter.go)
	pdy []float32 // the untransposed filter gradient's dy[n] packed as GEMM A
}

// usePixelMajor reports whether the forward pass runs pixel-major with
// kernel kern: stride 1, an assembly sliver packer for kern, and tap
// offsets that fit int32.
func (g ConvGeom) usePixelMajor(kern *microKernel) bool {
	return g.Stride == 1 && hasConvPix(kern.mr, g.OutW()) && g.paddedFitsInt32()
}

// paddedFitsInt32 reports whether every offset into the zero-padded image
// [C, H+2*Pad, W+2*Pad] fits int32 (the tap and row offset tables).
func (g ConvGeom) paddedFitsInt32() bool {
	hp, wp := g.H+2*g.Pad, g.W+2*g.Pad
	return int64(g.C)*int64(hp)*int64(wp) < 1<<31
}

// zeroPadded returns buf, grown when too small, as the cleared padded
// image [C, H+2*Pad, W+2*Pad].
func zeroPadded(buf []float32, g ConvGeom) []float32 {
	n := g.C * (g.H + 2*g.Pad) * (g.W + 2*g.Pad)
	if cap(buf) < n {
		buf = make([]float32, n)
	}
	buf = buf[:n]
	clear(buf)
	return buf
}

// convTapOffsets returns, for every tap (c, r, s) in weight order, the
// offset c*Hp*Wp + r*Wp + s of the padded-image pixel that output pixel
// (0, 0) reads (dst reused).
func convTapOffsets(dst []int32, g ConvGeom) []int32 {
	hp, wp := g.H+2*g.Pad, g.W+2*g.Pad
	dst = dst[:0]
	for c := 0; c < g.C; c++ {
		for r := 0; r < g.R; r++ {
			for s := 0; s < g.S; s++ {
				dst = append(dst, int32(c*hp*wp+r*wp+s))
			}
		}
	}
	return dst
}

// padImage returns image x [C, H, W] zero-padded by g.Pad on every side,
// in buf when it is large enough; x itself when g.Pad is 0.
func padImage(buf, x []float32, g ConvGeom) []float32 {
	if g.Pad == 0 {
		return x[:g.C*g.H*g.W]
	}
	hp, wp := g.H+2*g.Pad, g.W+2*g.Pad
	buf = zeroPadded(buf, g)
	for c := 0; c < g.C; c++ {
		for i := 0; i < g.H; i++ {
			copy(buf[(c*hp+i+g.Pad)*wp+g.Pad:][:g.W], x[(c*g.H+i)*g.W:][:g.W])
		}
	}
	return buf
}

// packConvA packs A = col^T [OH*OW, CRS] of a stride-1 convolution from
// the padded image xp as prepackA would pack it for kern (K panels of
// panelK taps; in each, the mr-pixel slivers of all OH*OW pixels), where
// col^T[q, p] = xp[offs[p] + (q/OW)*Wp + q%OW]. It returns the packed
// buffer (dst reused when large and aligned enough), which has 8 floats of
// slack past the packed A for the AVX2 packer (packSliver2).
func packConvA(dst, xp []float32, offs []int32, g ConvGeom, kern *microKernel) []float32 {
	ow := g.OutW()
	ohw := g.OutH() * ow
	wp := g.W + 2*g.Pad
	mr := kern.mr
	mR := (ohw + mr - 1) / mr * mr
	crs := len(offs)
	KC := panelK(kern, crs)
	dst = aligned(dst, mR*crs+8)
	for pc := 0; pc < crs; pc += KC {
		kc := min(KC, crs-pc)
		o := offs[pc : pc+kc]
		for q0 := 0; q0 < ohw; q0 += mr {
			qe := min(ohw, q0+mr)
			if !hasConvPack(mr) {
				packSliver2(dst[mR*pc+q0*kc:][:(kc-1)*mr+8], xp, o, q0, qe, ow, wp, mr)
				continue
			}
			sl := dst[mR*pc+q0*kc:][:kc*mr]
			if qe-q0 < mr || q0/ow != (qe-1)/ow {
				// Lanes no segment writes (rows past OH*OW) must be zero.
				clear(sl)
			}
			// One segment per output row the sliver's pixels lie in.
			last := int(o[kc-1])
			for q := q0; q < qe; {
				j := q % ow
				e := min(qe, q+ow-j)
				base := (q/ow)*wp + j
				src := xp[base : base+last+e-q]
				convPackSeg(sl, o, src, q-q0, e-q0, mr)
				q = e
			}
		}
	}
	return dst[:mR*crs]
}

// packSliver2 packs the sliver of pixels [q0, qe) (at most mr <= OW, so in
// one output row or two) with the AVX2 packer, one lane mask per row. It
// stores 8 floats per tap, sl holding the 8-mr past the last tap's row:
// every sliver is written whole, zero lanes included, and the next
// sliver is packed after the previous one's spill.
func packSliver2(sl, xp []float32, o []int32, q0, qe, ow, wp, mr int) {
	e := min(qe, q0+ow-q0%ow) // end of the first row's pixels
	b1 := (q0/ow)*wp + q0%ow
	b2 := (e/ow)*wp - (e - q0) // lane i of the second row reads b2+i
	var mask [16]int32
	for i := range 8 {
		switch q := q0 + i; {
		case q < e:
			mask[i] = -1
		case q < qe:
			mask[8+i] = -1
		}
	}
	last := int(o[len(o)-1])
	_ = xp[b1+last+e-q0-1]
	if qe > e {
		_ = xp[b2+last+qe-q0-1]
	}
	convPixSliver2(sl, o, xp, b1, b2, &mask, mr)
}

// unpackPixelMajor writes yt [ohw, k] (plus bias[c] on channel c when bias
// is non-nil) to y [k, ohw]; tr, when non-nil, is the kernel's 8×8 block
// transpose. Full 8×8 blocks add the bias as they are transposed
// (transposeBias); every element gets the one addition yt + bias either way.
func unpackPixelMajor(y, yt, bias []float32, ohw, k int, tr func(blocks int, src *float32, lds int, dst *float32, ldd int)) {
	yt, y = yt[:ohw*k], y[:k*ohw]
	if bias != nil {
		bias = bias[:k]
	}
	q8, k8 := 0, 0
	if tr != nil && k >= 8 {
		q8, k8 = ohw/8*8, k/8*8
		for q := 0; q < q8; q += 8 {
			// Rows q..q+7 of yt, columns [0, k8), to columns q..q+7 of y.
			_ = yt[(q+7)*k+k8-1]
			_ = y[(k8-1)*ohw+q+7]
			if bias != nil && transposeBias != nil {
				transposeBias(k8/8, &yt[q*k], k, &y[q], ohw, &bias[0])
			} else {
				if bias != nil {
					for i := q; i < q+8; i++ {
						addRow(yt[i*k:i*k+k8], bias[:k8])
					}
				}
				tr(k8/8, &yt[q*k], k, &y[q], ohw)
			}
			for c := k8; c < k; c++ {
				for i := q; i < q+8; i++ {
					y[c*ohw+i] = unpackAt(yt[i*k+c], bias, c)
				}
			}
		}
	}
	for q := q8; q < ohw; q++ {
		row := yt[q*k : q*k+k]
		for c, v := range row {
			y[c*ohw+q] = unpackAt(v, bias, c)
		}
	}
}

// unpackAt is v plus bias[c], or v itself without a bias (adding zero
// would turn -0 into +0).
func unpackAt(v float32, bias []float32, c int) float32 {
	if bias == nil {
		return v
	}
	return v + bias[c]
}

// runForwardPix is convFwd on images [lo, hi) in the pixel-major
// orientation (see the top of this file).
func (j *convJob) runForwardPix(t, lo, hi int) {
	g, ohw, crs, chw := j.g, j.ohw, j.crs, j.chw
	w := &j.ws.wk[t] // allocated by do
	if cap(w.yt) < ohw*g.K {
		w.yt = make([]float32, ohw*g.K)
	}
	yt := w.yt[:ohw*g.K]
	kc, nR := panelK(j.kern, crs), roundUp(g.K, j.kern.nr)
	if nR > j.kern.nc {
		kc = crs // B has several column blocks: one call
	}
	for n := lo; n < hi; n++ {
		xp := padImage(w.pad, j.in[n*chw:(n+1)*chw], g)
		if g.Pad > 0 {
			w.pad = xp
		}
		// y[n]^T [OHW, K] = col^T [OHW, CRS] * w^T [CRS, K], both packed,
		// one K panel at a time: the panel of A just packed is still in
		// L2 when the kernel reads it (the whole of A, 634 KB for the
		// MNIST CNN's second layer, is not). The sum is the one
		// gemmSerial forms over the panels of a single call.
		if j.direct {
			j.forwardDirect(yt, xp, kc)
			unpackPixelMajor(j.out[n*g.K*ohw:], yt, j.bias, ohw, g.K, j.kern.transpose)
			continue
		}
		for pc := 0; pc < crs; pc += kc {
			kp := min(kc, crs-pc)
			w.pa = packConvA(w.pa, xp, j.ws.offs[pc:pc+kp], g, j.kern)
			beta := float32(1)
			if pc == 0 {
				beta = 0
			}
			gemmSerial(j.kern, w.pa, j.ws.pb[nR*pc:], false, false, ohw, g.K, kp, 1, nil, 0, nil, 0, beta, yt, g.K)
		}
		unpackPixelMajor(j.out[n*g.K*ohw:], yt, j.bias, ohw, g.K, j.kern.transpose)
	}
}

// runBackwardDataPadded is convBwdData on images [lo, hi) (at most
// convDataGroup) with col2imPadded: the images' dy side by side as one
// B [K, (hi-lo)*OHW], so that one GEMM's columns pad to the kernel's nr
// once for the group (OH*OW = 196 pads to 224 alone, 392 to 416 in pairs);
// every column of dcol is the same sum as image by image.
func (j *convJob) runBackwardDataPadded(t, lo, hi int) {
	g, ohw, crs, chw := j.g, j.ohw, j.crs, j.chw
	w := &j.ws.wk[t] // allocated by do
	nb := hi - lo
	ld := nb * ohw
	col := j.ws.cols[t][:crs*ld]
	b, ldb := j.in[lo*g.K*ohw:], ohw
	if nb > 1 {
		if cap(w.yt) < g.K*ld {
			w.yt = make([]float32, g.K*ld)
		}
		b, ldb = w.yt[:g.K*ld], ld
		for k := 0; k < g.K; k++ {
			for i := 0; i < nb; i++ {
				copy(b[k*ld+i*ohw:][:ohw], j.in[((lo+i)*g.K+k)*ohw:][:ohw])
			}
		}
	}
	// col [CRS, nb*OHW] = w^T [CRS, K] * dy [K, nb*OHW], w^T prepacked
	gemmSerial(j.kern, j.ws.pa, nil, true, false, crs, ld, g.K, 1, j.w, crs, b, ldb, 0, col, ld)
	for i := 0; i < nb; i++ {
		w.pad = col2imPadded(j.out[(lo+i)*chw:(lo+i+1)*chw], col[i*ohw:], ld, w.pad, j.ws.offs, j.ws.rows, g)
	}
}

// convDataGroup is the most images runBackwardDataPadded multiplies in one
// GEMM.
const convDataGroup = 2

// runFilter is convBwdFilter on images [lo, hi), image range chunk: the
// range's dw^T [CRS(+1), K] (with the bias gradient as its last row when
// j.db is non-nil) is summed into ws.dws[chunk]; without j.filterT, its
// dw [K, CRS(+1)] (the bias gradient as the last column). The transposed
// form packs col as A with the AVX-512 sliver transposes; without them
// packing col^T as B (8x8 block transposes, AVX) costs less than packing
// 801 rows of col with the Go interleave.
func (j *convJob) runFilter(t, chunk, lo, hi int) {
	g, ohw, crs, chw := j.g, j.ohw, j.crs, j.chw
	m := j.mrows
	acc := j.ws.dws[chunk][:m*g.K]
	col := j.ws.cols[t][:m*ohw]
	if m > crs {
		ones := col[crs*ohw : m*ohw]
		for i := range ones {
			ones[i] = 1
		}
	}
	for n := lo; n < hi; n++ {
		xn := j.w[n*chw : (n+1)*chw]
		switch {
		case g.isPointwise():
			copy(col, xn)
		case j.padded:
			w := &j.ws.wk[t] // allocated by do
			xp := padImage(w.pad, xn, g)
			if g.Pad > 0 {
				w.pad = xp
			}
			im2colPadded(col[:crs*ohw], xp, j.ws.offs, j.ws.rows, g)
		default:
			Im2col(col[:crs*ohw], xn, g)
		}
		beta := float32(1)
		if n == lo {
			beta = 0
		}
		dyn := j.in[n*g.K*ohw:]
		if j.filterT {
			// acc [M, K] += col [M, OHW] * dy[n]^T [OHW, K]
			gemmSerial(j.kern, nil, nil, false, true, m, g.K, ohw, 1, col, ohw, dyn, ohw, beta, acc, g.K)
			continue
		}
		// acc [K, M] += dy[n] [K, OHW] * col^T [OHW, M]
		gemmSerial(j.kern, nil, nil, false, true, g.K, m, ohw, 1, dyn, ohw, col, ohw, beta, acc, m)
	}
}

// finishFilter sums the image ranges' partials (range order, fixed) and
// writes dw [K, CRS] and, when db is non-nil, db [K]; the partials are
// dw^T [m, k] when tr, else dw [k, m] (m = CRS, or CRS+1 with db).
func finishFilter(dw, db []float32, ws *ConvWork, chunks, m, crs, k int, tr bool) {
	acc := ws.dws[0][:m*k]
	for c := 1; c < chunks; c++ {
		Axpy(acc, 1, ws.dws[c][:m*k])
	}
	dw = dw[:k*crs]
	if !tr {
		for c := 0; c < k; c++ {
			copy(dw[c*crs:c*crs+crs], acc[c*m:c*m+crs])
			if db != nil {
				db[c] = acc[c*m+crs]
			}
		}
		return
	}
	for i := 0; i < crs; i++ {
		row := acc[i*k : i*k+k]
		for c, v := range row {
			dw[c*crs+i] = v
		}
	}
	if db != nil {
		copy(db[:k], acc[crs*k:crs*k+k])
	}
}

// convKernelGain is the padded work a later (slower) kernel of the list
// must stay under, as a fraction of the kernel chosen so far, to replace it
// for a convolution GEMM: about the rate of the embedded-broadcast AVX-512
// kernels against the register-broadcast ones on Zen 5 (BenchmarkMicroKernel:
// 175-204 against 222-228 GFLOP/s).
const convKernelGain = 0.8

// convKernel returns the kernel for a convolution GEMM of C [m, n]. In
// auto mode the convolutions' shapes are few and fixed per layer, and some
// pad badly to the best kernel's block (the MNIST CNN's first layer has 32
// output channels, which the 6×64 kernel pads to 64), so it walks the
// kernels of the best one's family (fastest first) and altKernel, taking
// a later one when it pads m and n to under convKernelGain of the work of
// the one taken so far. Otherwise (a kernel set by SetKernel) it is
// active. The choice depends on the shape only.
func convKernel(m, n int) *microKernel {
	kern := active.Load()
	if !autoMode.Load() {
		return kern
	}
	work := func(k *microKernel) float64 {
		return float64((m+k.mr-1)/k.mr*k.mr) * float64((n+k.nr-1)/k.nr*k.nr)
	}
	best := kern
	try := func(k *microKernel) {
		if k != nil && work(k) < convKernelGain*work(best) {
			best = k
		}
	}
	for _, k := range kernels {
		if familyOf(k.name) == familyOf(kern.name) {
			try(k)
		}
	}
	try(altKernel)
	return best
}
