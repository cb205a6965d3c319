package tensor

// The filter gradient with col packed from the padded image.
//
// The filter gradient dw^T [CRS(+1), K] = col [CRS(+1), OH*OW] *
// dy[n]^T [OH*OW, K] contracts over pixels, while col is pixel-contiguous:
// packing col as GEMM A is a transpose. Through im2col it also writes and
// reads col (800×196 floats per image for the MNIST CNN's second layer).
// packConvAT packs the A slivers straight from the padded image instead:
// pixel q of tap p is xb[toffs[p] + (q/OW)*Wp + q%OW], so the pixels of
// one output row are consecutive floats of every tap row, and eight tap
// rows of such a segment are one 8×8 transpose per eight pixels
// (convPackT8). The bias gradient's row of ones and the rows that pad M
// to the kernel's mr read two constant regions after the image in the
// same buffer (ones, then zeros), so every sliver packs the same way.
//
// Where the kernel's mr is under 8 (AVX2's 6×16) the gradient runs
// untransposed, dw [K, CRS(+1)] = dy[n] * col^T, and col^T is GEMM B:
// its nr-column slivers are the same transposes of nr tap rows, so
// packConvAT packs them too, a block of convFilterBCols taps at a time
// (the block's B stays in L2 while the kernel sweeps it), with dy[n]
// packed once per image as A.

// convFilterBuf returns the worker buffer [padded image | ones | zeros |
// slack] for geometry g (buf reused when large enough), with the ones and
// zeros regions set; the image region is left for the caller.
func convFilterBuf(buf []float32, g ConvGeom) []float32 {
	n := g.C * (g.H + 2*g.Pad) * (g.W + 2*g.Pad)
	if cap(buf) < 3*n+convFilterSlack {
		buf = make([]float32, 3*n+convFilterSlack)
	}
	buf = buf[:3*n+convFilterSlack]
	for i := range buf[n : 2*n] {
		buf[n+i] = 1
	}
	clear(buf[2*n:])
	return buf
}

// convFilterIm2col, set by tests and benchmarks, keeps the filter
// gradient on im2col.
var convFilterIm2col bool

// convFilterSlack is the floats past the last region a segment's final
// 8-pixel group may read (convPackT8 reads up to 7 past a segment).
const convFilterSlack = 8

// usePackT reports whether the filter gradient packs col from the padded
// image for kernel kern (see the top of this file), as A slivers of mr
// rows when filterT, else as B slivers of nr columns: stride 1, the
// assembly transpose, slivers of at least 8, offsets that fit int32.
func (g ConvGeom) usePackT(kern *microKernel, filterT bool) bool {
	n := int64(g.C) * int64(g.H+2*g.Pad) * int64(g.W+2*g.Pad)
	return g.Stride == 1 && (hasPackAVX512 || useFMA) && packTWidth(kern, filterT) >= 8 &&
		3*n+convFilterSlack < 1<<31
}

// packTWidth is the sliver width packConvAT packs col in for kern: mr
// (A) when the gradient runs transposed, else nr (B).
func packTWidth(kern *microKernel, filterT bool) int {
	if filterT {
		return kern.mr
	}
	return kern.nr
}

// convFilterBCols is the taps of col^T packed as B at a time in the
// untransposed form (rounded down to a multiple of nr): 128 taps of the MNIST CNN's
// 14×14 second layer are 100 KB.
const convFilterBCols = 128

// convFilterOffsets returns the offset in the buffer of convFilterBuf of
// pixel 0 of each of the ceil(m/mr)*mr rows of col (mr: the sliver
// width, packTWidth): tap p < CRS reads the
// padded image (offs from convTapOffsets), row CRS the ones when m >
// CRS, and the rest the zeros (dst reused). The offsets ascend.
func convFilterOffsets(dst, offs []int32, m, mr int, g ConvGeom) []int32 {
	n := int32(g.C * (g.H + 2*g.Pad) * (g.W + 2*g.Pad))
	dst = append(dst[:0], offs...)
	if m > len(offs) {
		dst = append(dst, n)
	}
	for len(dst)%mr != 0 || len(dst) < m {
		dst = append(dst, 2*n)
	}
	return dst
}

// packConvAT packs col [m, OH*OW] of a stride-1 convolution from the
// buffer xb of convFilterBuf (the image padded in its first region) in
// slivers of mr rows (a multiple of 8, or at least 8), as prepackA packs
// A = col for kern when mr = kern.mr, and as prepackB packs B = col^T
// when mr = kern.nr and len(toffs) <= kern.nc: K panels of panelK(kern,
// OH*OW) pixels, in each the slivers of all len(toffs) rows, where
// col[p, q] = xb[toffs[p] + (q/OW)*Wp + q%OW]. It returns the packed
// buffer (dst reused when large and aligned enough).
func packConvAT(dst, xb []float32, toffs []int32, g ConvGeom, kern *microKernel, mr int) []float32 {
	oh, ow := g.OutH(), g.OutW()
	ohw := oh * ow
	wp := g.W + 2*g.Pad
	mR := len(toffs)
	maxo := int32(0)
	for _, o := range toffs {
		maxo = max(maxo, o)
	}
	// The furthest float a segment's last 8-pixel group reads.
	_ = xb[int(maxo)+(oh-1)*wp+ow+6]
	KC := panelK(kern, ohw)
	dst = aligned(dst, mR*ohw)
	for pc := 0; pc < ohw; pc += KC {
		kc := min(KC, ohw-pc)
		panel := dst[mR*pc : mR*pc+mR*kc]
		for i0 := 0; i0 < mR; i0 += mr {
			sl := panel[i0*kc : i0*kc+kc*mr]
			// Rows [h, h+8) of the sliver; the last group overlaps the
			// one before it when 8 does not divide mr (same values).
			for h := 0; h < mr; h += 8 {
				h = min(h, mr-8)
				o := toffs[i0+h : i0+h+8]
				for q := pc; q < pc+kc; {
					j := q % ow
					e := min(pc+kc, q+ow-j)
					convPackT8(sl[(q-pc)*mr+h:(e-pc-1)*mr+h+8], mr, xb, (q/ow)*wp+j, o, e-q)
					q = e
				}
			}
		}
	}
	return dst
}

// runFilterPackT is runFilter with col packed by packConvAT.
func (j *convJob) runFilterPackT(t, chunk, lo, hi int) {
	g, ohw, chw := j.g, j.ohw, j.chw
	m, nr := j.mrows, j.kern.nr
	acc := j.ws.dws[chunk][:m*g.K]
	w := &j.ws.wk[t] // allocated by do
	w.fx = convFilterBuf(w.fx, g)
	n := g.C * (g.H + 2*g.Pad) * (g.W + 2*g.Pad)
	for i := lo; i < hi; i++ {
		xn := j.w[i*chw : (i+1)*chw]
		if g.Pad == 0 {
			copy(w.fx[:n], xn)
		} else {
			padImage(w.fx[:n:n], xn, g)
		}
		beta := float32(1)
		if i == lo {
			beta = 0
		}
		dyi := j.in[i*g.K*ohw:]
		if j.directF {
			j.filterDirect(acc, w, dyi, beta)
			continue
		}
		if j.filterT {
			w.pa = packConvAT(w.pa, w.fx, j.ws.toffs, g, j.kern, j.kern.mr)
			// acc [M, K] += A [M, OHW] * dy[i]^T [OHW, K], A prepacked
			gemmSerial(j.kern, w.pa, nil, false, true, m, g.K, ohw, 1, nil, 0, dyi, ohw, beta, acc, g.K)
			continue
		}
		w.pdy = prepackA(j.kern, w.pdy, false, dyi, ohw, g.K, ohw)
		step := max(nr, convFilterBCols/nr*nr)
		for c0 := 0; c0 < m; c0 += step {
			c1 := min(c0+step, m)
			w.pa = packConvAT(w.pa, w.fx, j.ws.toffs[c0:roundUp(c1, nr)], g, j.kern, nr)
			// acc[:, c0:c1] [K, c1-c0] += dy[i] [K, OHW] * col^T
			// [OHW, c1-c0], both prepacked
			gemmSerial(j.kern, w.pdy, w.pa, false, false, g.K, c1-c0, ohw, 1, nil, 0, nil, 0, beta, acc[c0:], m)
		}
	}
}
