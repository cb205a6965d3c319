package tensor

// Direct convolutions: the pixel-major forward (and the data gradient run
// as one) and the transposed filter gradient with the GEMM's A read
// straight from the zero-padded image instead of packed. The tile kernels
// (conv_direct_amd64.s) form the packed path's sums exactly; these
// functions choose them and walk the tiles as gemmSerial does, so that
// every partial tile and K panel is the same.

// useDirect reports whether the pixel-major forward with kern can skip
// packing A (forwardDirect), with B in one column block (K <= nc): a
// 6-row kernel with a pixel-pointer form (any geometry), or the 14×32 one
// where its slivers tile every output row (OW a multiple of mr) and its B
// slivers tile K.
func (g ConvGeom) useDirect(kern *microKernel) bool {
	if convPackAlways || g.K > kern.nc {
		return false
	}
	return convPixDirect(kern) != 0 ||
		convDirectKernel(kern) && g.OutW()%kern.mr == 0 && g.K%kern.nr == 0
}

// directOr returns, in auto mode, a kernel with a direct form (forwardDirect)
// for the pixel-major forward of g when one exists and pads the GEMM
// [OH*OW, K] to no more work than kern; otherwise kern. It replaces
// a faster kernel only where convDirectSwitch allows: on the Xeon of
// family 6 model 167, 14×32 direct (170 GFLOP/s in BenchmarkMicroKernel)
// ran the MNIST CNN's second layer faster than 6×64r packed (190), but
// on AMD Zen 5 14×32 runs at 73-90% of 6×64r's rate, which the packing
// saved may not make up.
func directOr(kern *microKernel, g ConvGeom) *microKernel {
	if !autoMode.Load() || g.useDirect(kern) || !convDirectSwitch() {
		return kern
	}
	m, n := g.OutH()*g.OutW(), g.K
	work := func(k *microKernel) int { return roundUp(m, k.mr) * roundUp(n, k.nr) }
	for _, k := range kernels {
		if g.useDirect(k) && work(k) <= work(kern) {
			return k
		}
	}
	return kern
}

// convPackAlways, set by tests and benchmarks, keeps the pixel-major
// forward on packed A.
var convPackAlways bool

// forwardDirect sets yt [OH*OW, K] to col^T * w^T for the padded image xp
// as runForwardPix's packed path does, K panel by K panel of kc taps with
// the same sums, but each tile reads its A sliver, mr pixels of one output
// row, straight from xp (convDirectTile): no A is packed.
func (j *convJob) forwardDirect(yt, xp []float32, kc int) {
	g, ohw, crs := j.g, j.ohw, j.crs
	mr, nr := j.kern.mr, j.kern.nr
	ow, wp := g.OutW(), g.W+2*g.Pad
	if form := convPixDirect(j.kern); form != 0 {
		j.forwardPixDirect(form, yt, xp, kc)
		return
	}
	for pc := 0; pc < crs; pc += kc {
		kp := min(kc, crs-pc)
		offs := j.ws.offs[pc : pc+kp]
		bp := j.ws.pb[g.K*pc:] // the panel's K/nr slivers, kp*nr each
		for jr := 0; jr < g.K; jr += nr {
			bs := bp[jr*kp : (jr+nr)*kp]
			for q := 0; q < ohw; q += mr {
				base := (q/ow)*wp + q%ow
				convDirectTile(offs, xp[base:], bs, yt[q*g.K+jr:], g.K, pc > 0)
			}
		}
	}
}

// forwardPixDirect is forwardDirect for a 6-row kernel with a
// pixel-pointer direct form (convPixDirect): each tile's six pixels, in one
// output row or two, are read through their own offsets, and partial
// tiles (the last pixels, the last output channels) go through a scratch
// tile as in gemmSerial, so the sums are the packed path's.
func (j *convJob) forwardPixDirect(form int, yt, xp []float32, kc int) {
	g, ohw, crs := j.g, j.ohw, j.crs
	nr := j.kern.nr
	oh, ow, wp := g.OutH(), g.OutW(), g.W+2*g.Pad
	_ = xp[(oh-1)*wp+ow-1+int(j.ws.offs[crs-1])] // the furthest float a tile reads
	nR := roundUp(g.K, nr)
	var tile [6 * 64]float32
	var bases [6]int
	for pc := 0; pc < crs; pc += kc {
		kp := min(kc, crs-pc)
		offs := j.ws.offs[pc : pc+kp]
		bp := j.ws.pb[nR*pc:] // the panel's nR/nr slivers, kp*nr each
		for jr := 0; jr < g.K; jr += nr {
			bs := bp[jr*kp : (jr+nr)*kp]
			nw := min(nr, g.K-jr)
			for q := 0; q < ohw; q += 6 {
				rows := min(6, ohw-q)
				for i := range bases {
					p := q + min(i, rows-1)
					bases[i] = (p/ow)*wp + p%ow
				}
				if rows == 6 && nw == nr {
					convPixTile(form, nr, offs, xp, &bases, bs, yt[q*g.K+jr:], g.K, pc > 0)
					continue
				}
				convPixTile(form, nr, offs, xp, &bases, bs, tile[:6*nr], nr, false)
				addTile(yt[q*g.K+jr:], g.K, tile[:6*nr], nr, rows, nw, pc > 0)
			}
		}
	}
}

// useDirectFilter reports whether the transposed filter gradient with
// kern can skip packing col (filterDirect): a kernel with a direct form,
// stride 1, K a multiple of its nr in one column block, and offsets into convFilterBuf's buffer that fit int32.
func (g ConvGeom) useDirectFilter(kern *microKernel) bool {
	n := int64(g.C) * int64(g.H+2*g.Pad) * int64(g.W+2*g.Pad)
	return convDirectFilterKernel(kern) && g.Stride == 1 && g.K%kern.nr == 0 && g.K <= kern.nc && 3*n < 1<<31
}

// filterDirect adds col * dy^T [M, K] for one image into acc, dy^T
// packed (dyi is dy [K, OH*OW]) and col read straight from the image in
// w.fx (convFilterBuf, rows at j.ws.toffs): the K panels of pixels,
// tiles and sums of gemmSerial on col packed, so the same bits, with
// beta 0 or 1 as there.
func (j *convJob) filterDirect(acc []float32, w *convWorker, dyi []float32, beta float32) {
	g, ohw, kern := j.g, j.ohw, j.kern
	m, mr, nr := j.mrows, kern.mr, kern.nr
	oh, ow, wp := g.OutH(), g.OutW(), g.W+2*g.Pad
	last := int(j.ws.toffs[len(j.ws.toffs)-1]) // the largest: toffs ascends
	_ = w.fx[last+(oh-1)*wp+ow-1]              // the furthest float a tile reads
	w.pdy = prepackB(kern, w.pdy, true, dyi, ohw, ohw, g.K)
	if cap(w.yt) < mr*nr {
		w.yt = make([]float32, mr*nr)
	}
	tile := w.yt[:mr*nr]
	KC := panelK(kern, ohw)
	for pc := 0; pc < ohw; pc += KC {
		kc := min(KC, ohw-pc)
		load := pc > 0 || beta != 0
		for jr := 0; jr < g.K; jr += nr {
			bs := w.pdy[g.K*pc+jr*kc:][:kc*nr]
			for i0 := 0; i0 < m; i0 += mr {
				o := j.ws.toffs[i0 : i0+mr]
				if i0+mr <= m {
					convFilterTile(kern, kc, pc, ow, wp, w.fx, o, bs, acc[i0*g.K+jr:], g.K, load)
					continue
				}
				convFilterTile(kern, kc, pc, ow, wp, w.fx, o, bs, tile, nr, false)
				addTile(acc[i0*g.K+jr:], g.K, tile, nr, m-i0, nr, load)
			}
		}
	}
}

// directFilterOr returns, in auto mode, a kernel with a direct form of the
// transposed filter gradient (filterDirect) when g can use it and it pads
// the GEMM [m, K] to no more work than kern; otherwise kern. Reading col
// unpacked outweighs a slower kernel: on a Xeon (KVM family 6 model 167)
// the MNIST CNN's second layer took 6.0-6.2 ms with 6×64r direct against
// 8.0-8.2 with 14×32 and col packed, whose micro-kernel rates there are
// 190 and 170 GFLOP/s.
func directFilterOr(kern *microKernel, g ConvGeom, m int) *microKernel {
	if !autoMode.Load() {
		return kern
	}
	work := func(k *microKernel) int { return roundUp(m, k.mr) * roundUp(g.K, k.nr) }
	for _, k := range kernels {
		if convDirectFilterKernel(k) && g.useDirectFilter(k) && work(k) <= work(kern) {
			return k
		}
	}
	return kern
}
