package tensor

import (
	"fmt"
	"sync/atomic"
)

// ConvGeom describes a 2-D convolution over NCHW tensors: N images of C
// channels and H×W pixels, K output channels (filters) of size R×S (kh×kw),
// applied with the same Stride and zero padding Pad on both axes.
// Weights are [K, C*R*S], i.e. [K, C, R, S] flattened.
type ConvGeom struct{ N, C, H, W, K, R, S, Stride, Pad int }

// OutH returns the output height (H + 2*Pad - R)/Stride + 1.
func (g ConvGeom) OutH() int { return (g.H+2*g.Pad-g.R)/g.Stride + 1 }

// OutW returns the output width (W + 2*Pad - S)/Stride + 1.
func (g ConvGeom) OutW() int { return (g.W+2*g.Pad-g.S)/g.Stride + 1 }

// Check returns an error when the geometry is unusable (non-positive sizes,
// negative padding, or a kernel larger than the padded input).
func (g ConvGeom) Check() error {
	if g.N <= 0 || g.C <= 0 || g.H <= 0 || g.W <= 0 || g.K <= 0 || g.R <= 0 || g.S <= 0 {
		return fmt.Errorf("tensor: conv geometry %+v: sizes must be positive", g)
	}
	if g.Stride <= 0 {
		return fmt.Errorf("tensor: conv geometry %+v: stride must be positive", g)
	}
	if g.Pad < 0 {
		return fmt.Errorf("tensor: conv geometry %+v: negative padding", g)
	}
	if g.H+2*g.Pad < g.R || g.W+2*g.Pad < g.S {
		return fmt.Errorf("tensor: conv geometry %+v: kernel %dx%d larger than padded input %dx%d",
			g, g.R, g.S, g.H+2*g.Pad, g.W+2*g.Pad)
	}
	return nil
}

func (g ConvGeom) mustCheck(op string, lens ...int) {
	if err := g.Check(); err != nil {
		panic(err.Error())
	}
	oh, ow := g.OutH(), g.OutW()
	want := []int{g.N * g.C * g.H * g.W, g.K * g.C * g.R * g.S, g.N * g.K * oh * ow}
	names := []string{"x [N,C,H,W]", "w [K,C*R*S]", "y [N,K,OH,OW]"}
	for i, l := range lens {
		if l < want[i] {
			panic(fmt.Sprintf("tensor: %s: %s has %d elements, geometry %+v needs %d", op, names[i], l, g, want[i]))
		}
	}
}

// ConvWork is reusable scratch for the convolution kernels (im2col columns
// per worker and per-worker filter-gradient partial sums). The zero value is
// ready; buffers grow on demand and are kept, so steady-state calls with the
// same geometry allocate nothing. A ConvWork must not be used by two calls
// at once. A nil *ConvWork is allowed and allocates per call.
type ConvWork struct {
	cols  [][]float32  // per worker: [C*R*S, OH*OW]
	pa    []float32    // the weights as packed GEMM A panels (forward, data gradient)
	dws   [][]float32  // per image range (ConvBackwardFilter): dw^T [C*R*S(+1), K]
	wk    []convWorker // per worker: the pixel-major paths' scratch (conv_pix.go)
	pb    []float32    // the weights as packed GEMM B panels (pixel-major forward)
	wf    []float32    // the flipped filters [C, K*R*S] (data gradient as a forward pass, conv_data.go)
	offs  []int32      // per kernel tap: its offset in the padded image (pixel-major forward, padded im2col)
	rows  []int32      // per output row: its offset in the padded image (padded im2col)
	toffs []int32      // per row of the filter gradient's A: its offset in the worker's fx (conv_filter.go)
	job   convJob      // the call in progress (kept here so it does not escape per call)
	join  join
}

func (ws *ConvWork) col(i, n int) []float32 {
	for len(ws.cols) <= i {
		ws.cols = append(ws.cols, nil)
	}
	if cap(ws.cols[i]) < n {
		ws.cols[i] = make([]float32, n)
	}
	return ws.cols[i][:n]
}

func (ws *ConvWork) dw(i, n int) []float32 {
	for len(ws.dws) <= i {
		ws.dws = append(ws.dws, nil)
	}
	if cap(ws.dws[i]) < n {
		ws.dws[i] = make([]float32, n)
	}
	return ws.dws[i][:n]
}

// isPointwise reports whether im2col is the identity (1×1, stride 1, no pad).
func (g ConvGeom) isPointwise() bool {
	return g.R == 1 && g.S == 1 && g.Stride == 1 && g.Pad == 0
}

// Im2col unrolls one image x [C,H,W] into col [C*R*S, OH*OW] (overwritten):
// col[(c*R+r)*S+s, oh*OW+ow] = x[c, oh*Stride-Pad+r, ow*Stride-Pad+s], zero
// outside the image. g.N is ignored.
//
// With stride 1 the valid output columns [lo, hi) of a row depend only on
// s and the valid output rows [i0, i1) only on r, so they are computed once
// per (c, r, s). When in addition OW == W ("same" padding) the valid part
// of a col row is one contiguous, shifted slice of the channel: it is
// copied with one memmove and the few wrapped edge columns zeroed after.
// Results are the copies im2colRef makes, bit for bit.
func Im2col(col, x []float32, g ConvGeom) {
	oh, ow := g.OutH(), g.OutW()
	checkLen("Im2col x", len(x), g.C*g.H*g.W)
	checkLen("Im2col col", len(col), g.C*g.R*g.S*oh*ow)
	if g.Stride != 1 {
		im2colRef(col, x, g)
		return
	}
	hw := g.H * g.W
	for c := 0; c < g.C; c++ {
		xc := x[c*hw : (c+1)*hw]
		for r := 0; r < g.R; r++ {
			// Output row i reads input row ih = i - Pad + r.
			i0 := min(oh, max(0, g.Pad-r))
			i1 := max(i0, min(oh, g.H+g.Pad-r))
			for s := 0; s < g.S; s++ {
				row := col[((c*g.R+r)*g.S+s)*oh*ow:][:oh*ow]
				lo := min(ow, max(0, g.Pad-s))
				hi := max(lo, min(ow, g.W+g.Pad-s))
				clear(row[:i0*ow])
				clear(row[i1*ow:])
				if i1 == i0 {
					continue
				}
				shift := s - g.Pad // input column = output column + shift
				if ow == g.W && hi > lo {
					// Linear index k = i*W + j reads xc[k + (r-Pad)*W + shift].
					off := (r-g.Pad)*g.W + shift
					k0, k1 := i0*ow+lo, (i1-1)*ow+hi
					copy(row[k0:k1], xc[k0+off:k1+off])
					clearPadCols(row, ow, i0, i1, lo, hi)
					continue
				}
				clearPadCols(row, ow, i0, i1, lo, hi)
				if hi > lo {
					for i := i0; i < i1; i++ {
						copy(row[i*ow+lo:i*ow+hi], xc[(i-g.Pad+r)*g.W+lo+shift:][:hi-lo])
					}
				}
			}
		}
	}
}

// Col2im is the adjoint of Im2col: it overwrites dx [C,H,W] with the sum of
// every col [C*R*S, OH*OW] entry at the pixel it was read from (entries that
// came from padding are dropped). g.N is ignored.
//
// With stride 1 the valid rows and columns are hoisted out of the row loop
// as in Im2col and each row segment is added with the vector row add; every
// pixel receives the same additions in the same order as in col2imRef, so
// the result is bit-identical.
func Col2im(dx, col []float32, g ConvGeom) {
	oh, ow := g.OutH(), g.OutW()
	checkLen("Col2im dx", len(dx), g.C*g.H*g.W)
	checkLen("Col2im col", len(col), g.C*g.R*g.S*oh*ow)
	if g.Stride != 1 {
		col2imRef(dx, col, g)
		return
	}
	col2imTaps(dx, col, g, func(xc, row []float32, r, s, i0, i1, lo, hi int) {
		shift := s - g.Pad
		for i := i0; i < i1; i++ {
			addRow(xc[(i-g.Pad+r)*g.W+lo+shift:][:hi-lo], row[i*ow+lo:i*ow+hi])
		}
	})
}

// clearPadCols zeroes columns [0, lo) and [hi, ow) of rows [i0, i1) of a
// col row [OH*OW]: the entries that read padding columns. Short loops, not
// clear: the runs are a few floats, and a memclr call each costs more.
func clearPadCols(row []float32, ow, i0, i1, lo, hi int) {
	for i := i0; i < i1; i++ {
		d := row[i*ow : i*ow+ow]
		for j := 0; j < lo; j++ {
			d[j] = 0
		}
		for j := hi; j < ow; j++ {
			d[j] = 0
		}
	}
}

// col2imTaps clears dx and calls add for every kernel tap (c, r, s) of a
// stride-1 Col2im that reaches the image: xc is channel c of dx, row the
// tap's col row [OH*OW], and output rows [i0, i1) and columns [lo, hi)
// (both non-empty) are the ones that read inside the image.
func col2imTaps(dx, col []float32, g ConvGeom, add func(xc, row []float32, r, s, i0, i1, lo, hi int)) {
	oh, ow := g.OutH(), g.OutW()
	hw := g.H * g.W
	clear(dx[:g.C*hw])
	for c := 0; c < g.C; c++ {
		xc := dx[c*hw : (c+1)*hw]
		for r := 0; r < g.R; r++ {
			i0 := min(oh, max(0, g.Pad-r))
			i1 := max(i0, min(oh, g.H+g.Pad-r))
			for s := 0; s < g.S; s++ {
				lo := min(ow, max(0, g.Pad-s))
				hi := max(lo, min(ow, g.W+g.Pad-s))
				if hi == lo || i1 == i0 {
					continue
				}
				add(xc, col[((c*g.R+r)*g.S+s)*oh*ow:][:oh*ow], r, s, i0, i1, lo, hi)
			}
		}
	}
}

// col2imScratch is Col2im for callers that own col and do not need it
// afterwards (the convolution jobs): for stride 1 with OW == W it first
// zeroes the entries of col that came from padding columns, after which
// the valid part of every col row is one contiguous shifted add into the
// channel. Adding those +0 entries leaves every pixel's bits unchanged (a
// pixel starts at +0 and round-to-nearest sums never give -0 from it), and
// each pixel receives its other additions in the same order as in
// col2imRef, so the result is bit-identical to Col2im.
func col2imScratch(dx, col []float32, g ConvGeom) {
	oh, ow := g.OutH(), g.OutW()
	if g.Stride != 1 || ow != g.W {
		Col2im(dx, col, g)
		return
	}
	checkLen("Col2im dx", len(dx), g.C*g.H*g.W)
	checkLen("Col2im col", len(col), g.C*g.R*g.S*oh*ow)
	col2imTaps(dx, col, g, func(xc, row []float32, r, s, i0, i1, lo, hi int) {
		clearPadCols(row, ow, i0, i1, lo, hi)
		off := (r-g.Pad)*g.W + s - g.Pad
		k0, k1 := i0*ow+lo, (i1-1)*ow+hi
		addRow(xc[k0+off:k1+off], row[k0:k1])
	})
}

type convOp int

const (
	convFwd convOp = iota
	convBwdData
	convBwdFilter
)

// convJob is one convolution call split over images; a struct with a
// method (not a closure) so the single-threaded path allocates nothing.
type convJob struct {
	op                  convOp
	g                   ConvGeom
	kern                *microKernel // the GEMM kernel of the whole call (pa is packed for it)
	ws                  *ConvWork
	out, in, w          []float32 // op-specific: see run
	bias                []float32 // convFwd: added per image when non-nil
	db                  []float32 // convBwdFilter: the bias gradient, when wanted
	pix                 bool      // convFwd: pixel-major (runForwardPix)
	direct              bool      // pix with A read unpacked (forwardDirect)
	padded              bool      // gradients: im2col/col2im through the padded image (im2col_pad.go)
	mrows               int       // convBwdFilter: rows of dw^T, crs (+1 with db)
	filterT             bool      // convBwdFilter: dw^T = col * dy^T (else dw = dy * col^T)
	packT               bool      // convBwdFilter: A packed from the padded image (conv_filter.go)
	directF             bool      // packT with A read unpacked (filterDirect)
	ohw, crs, chw, kcrs int
	parts               int          // goroutines
	chunks              int          // image ranges (>= parts)
	next                atomic.Int64 // next image range to claim
}

// run processes images [lo, hi) (image range chunk) on worker t with
// single-threaded GEMMs; the filter gradient of range chunk accumulates
// into dw itself for chunk 0 and into ws.dws[chunk] otherwise.
//
//	convFwd:       out = y,  in = x,  w = w
//	convBwdData:   out = dx, in = dy, w = w
//	convBwdFilter: out = dw, in = dy, w = x
func (j *convJob) run(t, chunk, lo, hi int) {
	g, ohw, crs, chw := j.g, j.ohw, j.crs, j.chw
	var col []float32
	if j.op != convBwdFilter && !j.pix {
		col = j.ws.cols[t][:crs*ohw]
	}
	switch j.op {
	case convFwd:
		if j.pix {
			j.runForwardPix(t, lo, hi)
			return
		}
		for n := lo; n < hi; n++ {
			xn := j.in[n*chw : (n+1)*chw]
			if g.isPointwise() {
				col = xn
			} else {
				Im2col(col, xn, g)
			}
			// y[n] [K, OHW] = w [K, CRS] * col [CRS, OHW], w prepacked
			gemmSerial(j.kern, j.ws.pa, nil, false, false, g.K, ohw, crs, 1, j.w, crs, col, ohw, 0, j.out[n*g.K*ohw:], ohw)
			if j.bias != nil {
				// While y[n] is still in cache.
				AddBiasChannels(j.out[n*g.K*ohw:(n+1)*g.K*ohw], j.bias, 1, g.K, ohw)
			}
		}
	case convBwdData:
		if j.padded {
			j.runBackwardDataPadded(t, lo, hi)
			return
		}
		for n := lo; n < hi; n++ {
			dxn := j.out[n*chw : (n+1)*chw]
			if g.isPointwise() {
				col = dxn
			}
			// col [CRS, OHW] = w^T [CRS, K] * dy[n] [K, OHW], w^T prepacked
			gemmSerial(j.kern, j.ws.pa, nil, true, false, crs, ohw, g.K, 1, j.w, crs, j.in[n*g.K*ohw:], ohw, 0, col, ohw)
			if !g.isPointwise() {
				col2imScratch(dxn, col, g)
			}
		}
	case convBwdFilter:
		if j.packT {
			j.runFilterPackT(t, chunk, lo, hi)
			return
		}
		j.runFilter(t, chunk, lo, hi)
	}
}

// do prepares the scratch and runs the job over the N images split across
// up to Threads() goroutines (per-image GEMMs are small, so splitting images
// beats splitting each GEMM). It returns the number of workers used.
func (j *convJob) do() int {
	g := j.g
	j.ohw, j.crs, j.chw = g.OutH()*g.OutW(), g.C*g.R*g.S, g.C*g.H*g.W
	j.kcrs = g.K * j.crs
	nt := max(1, min(Threads(), g.N))
	// Workers claim image ranges dynamically (a loaded core then takes
	// fewer of them). Forward and data gradient are per image, so any
	// grouping gives the same bits: one image per range.
	j.chunks = g.N
	if j.op == convBwdFilter {
		// A fixed number of image ranges, each summed into its own
		// partial gradient, whatever the thread count and whoever runs
		// it: the reduction order, hence every bit of dw, does not
		// depend on Threads().
		j.chunks = min(g.N, convFilterChunks)
		nt = min(nt, j.chunks)
		j.mrows = j.crs
		if j.db != nil {
			j.mrows++
		}
		for c := 0; c < j.chunks; c++ {
			j.ws.dw(c, j.mrows*g.K)
		}
		// By CRS, not the rows: dw has the same bits with and without db.
		j.filterT = filterTransposed(g, j.crs, g.K)
		if j.filterT {
			j.kern = directFilterOr(convKernel(j.crs, g.K), g, j.crs)
		} else {
			j.kern = convKernel(g.K, j.crs)
		}
		j.directF = !convFilterIm2col && !convPackAlways && j.filterT && g.useDirectFilter(j.kern)
		j.packT = !convFilterIm2col && (j.directF || g.usePackT(j.kern, j.filterT))
		if j.packT {
			j.ws.offs = convTapOffsets(j.ws.offs, g)
			j.ws.toffs = convFilterOffsets(j.ws.toffs, j.ws.offs, j.mrows, packTWidth(j.kern, j.filterT), g)
		}
	}
	// Forward and data gradient multiply every image by the same weights:
	// pack them once for the call.
	switch j.op {
	case convFwd:
		if kern := directOr(convKernel(j.ohw, g.K), g); g.usePixelMajor(kern) {
			j.kern, j.pix = kern, true
			j.direct = g.useDirect(kern)
			j.ws.offs = convTapOffsets(j.ws.offs, g)
			j.ws.pb = prepackB(kern, j.ws.pb, true, j.w, j.crs, j.crs, g.K)
			break
		}
		j.kern = pickKernel(g.K, j.ohw)
		j.ws.pa = prepackA(j.kern, j.ws.pa, false, j.w, j.crs, g.K, j.crs)
	case convBwdData:
		j.kern = pickKernel(j.crs, j.ohw)
		if g.usePadded() {
			// Image pairs (runBackwardDataPadded).
			j.kern = convKernel(j.crs, convDataGroup*j.ohw)
			j.chunks = (g.N + convDataGroup - 1) / convDataGroup
			nt = min(nt, j.chunks)
		}
		j.ws.pa = prepackA(j.kern, j.ws.pa, true, j.w, j.crs, j.crs, g.K)
	}
	if j.op != convFwd && !j.packT && g.usePadded() {
		j.padded = true
		j.ws.offs = convTapOffsets(j.ws.offs, g)
		j.ws.rows = convRowOffsets(j.ws.rows, g)
	}
	if j.pix || j.padded || j.packT {
		for len(j.ws.wk) < nt {
			j.ws.wk = append(j.ws.wk, convWorker{})
		}
	}
	if !j.pix && !j.packT {
		rows := j.crs
		switch {
		case j.op == convBwdFilter:
			rows = j.mrows
		case j.padded:
			rows *= convDataGroup
		}
		for t := 0; t < nt; t++ {
			j.ws.col(t, rows*j.ohw)
		}
	}
	j.parts = nt
	j.next.Store(0)
	parallel(j, nt, &j.ws.join)
	return j.chunks
}

// filterTransposed reports whether the filter gradient of a layer with crs
// weights per filter and k filters runs transposed, dw^T = col * dy^T (M =
// CRS), rather than dw = dy * col^T (M = K). With AVX-512 it always does
// (its A packs from the padded image, conv_filter.go). With AVX2 it does
// where the 6×16 kernel reads col straight from the image (filterDirect:
// K a multiple of 16). Otherwise the untransposed form packs col^T as B
// from the padded image where g allows
// it (stride 1), and runs then; otherwise both pack col from im2col, the
// transposed form at a higher cost, so it runs only when it pads the GEMM
// to under convFilterTGain of the other form's work. On an AMD EPYC Zen 2
// (2 threads, batch 100) the MNIST CNN's first layer (CRS = 25, K = 32)
// took 2.07-2.10 ms untransposed packed from the image, 2.15 ms
// transposed through im2col and 2.65-3.03 ms untransposed through im2col;
// its second (CRS = 800, K = 64) 13.6-13.8 ms untransposed from the image,
// 16.2 ms through im2col and 18.7-19.4 ms transposed.
func filterTransposed(g ConvGeom, crs, k int) bool {
	if hasPackAVX512 || !useFMA {
		return hasPackAVX512
	}
	if !convFilterIm2col && g.useDirectFilter(directFilterOr(convKernel(crs, k), g, crs)) {
		return true // col read from the image unpacked: filterDirect
	}
	untr := convKernel(k, crs)
	if !convFilterIm2col && g.usePackT(untr, false) {
		return false
	}
	work := func(kern *microKernel, m, n int) float64 {
		return float64(roundUp(m, kern.mr)) * float64(roundUp(n, kern.nr))
	}
	return work(convKernel(crs, k), crs, k) < convFilterTGain*work(untr, k, crs)
}

// convFilterTGain is the padded work ratio below which the AVX2 filter
// gradient runs transposed (filterTransposed).
const convFilterTGain = 0.9

// convFilterChunks is the number of image ranges ConvBackwardFilter
// reduces over (fewer for smaller batches); it bounds the goroutines that
// call uses.
const convFilterChunks = 4

// runPart runs worker t: it claims image ranges until none is left.
func (j *convJob) runPart(t int) {
	for {
		c := int(j.next.Add(1)) - 1
		if c >= j.chunks {
			return
		}
		j.run(t, c, c*j.g.N/j.chunks, (c+1)*j.g.N/j.chunks)
	}
}

// ConvForward computes y = conv(x, w) without bias (y overwritten).
// x [N,C,H,W], w [K,C*R*S], y [N,K,OH,OW]. y must not alias x or w.
func ConvForward(y, x, w []float32, g ConvGeom, ws *ConvWork) {
	g.mustCheck("ConvForward", len(x), len(w), len(y))
	if ws == nil {
		ws = new(ConvWork)
	}
	ws.job = convJob{op: convFwd, g: g, ws: ws, out: y, in: x, w: w}
	ws.job.do()
	ws.job = convJob{}
}

// ConvForwardBias computes y = conv(x, w) + bias[k] on every element of
// output channel k (y overwritten): the same bits as ConvForward followed by
// AddBiasChannels, with the bias added per image while its output is in
// cache. bias [K]; otherwise the contract of ConvForward.
func ConvForwardBias(y, x, w, bias []float32, g ConvGeom, ws *ConvWork) {
	g.mustCheck("ConvForwardBias", len(x), len(w), len(y))
	checkLen("ConvForwardBias bias", len(bias), g.K)
	if ws == nil {
		ws = new(ConvWork)
	}
	ws.job = convJob{op: convFwd, g: g, ws: ws, out: y, in: x, w: w, bias: bias[:g.K]}
	ws.job.do()
	ws.job = convJob{}
}

// ConvBackwardData computes dx = dL/dx from dy = dL/dy (dx overwritten).
// dy [N,K,OH,OW], w [K,C*R*S], dx [N,C,H,W]. dx must not alias dy or w.
func ConvBackwardData(dx, dy, w []float32, g ConvGeom, ws *ConvWork) {
	g.mustCheck("ConvBackwardData", len(dx), len(w), len(dy))
	if ws == nil {
		ws = new(ConvWork)
	}
	if t, ok := g.dataAsForward(); ok {
		// dx = conv(dy, flipped filters) (conv_data.go).
		ws.wf = flipFilters(ws.wf, w, g)
		ws.job = convJob{op: convFwd, g: t, ws: ws, out: dx, in: dy, w: ws.wf}
		ws.job.do()
		ws.job = convJob{}
		return
	}
	ws.job = convJob{op: convBwdData, g: g, ws: ws, out: dx, in: dy, w: w}
	ws.job.do()
	ws.job = convJob{}
}

// ConvBackwardFilter computes dw = dL/dw summed over the batch (dw
// overwritten). dy [N,K,OH,OW], x [N,C,H,W], dw [K,C*R*S]. dw must not alias
// dy or x.
func ConvBackwardFilter(dw, dy, x []float32, g ConvGeom, ws *ConvWork) {
	g.mustCheck("ConvBackwardFilter", len(x), len(dw), len(dy))
	if ws == nil {
		ws = new(ConvWork)
	}
	convBackwardFilter(dw, nil, dy, x, g, ws)
}

// ConvBackwardFilterBias computes dw = dL/dw and db = dL/db (the bias
// gradient, sum over images and pixels of dy per output channel), both
// summed over the batch and overwritten, in one pass: the same dw as
// ConvBackwardFilter. db [K]; otherwise the contract of ConvBackwardFilter.
func ConvBackwardFilterBias(dw, db, dy, x []float32, g ConvGeom, ws *ConvWork) {
	g.mustCheck("ConvBackwardFilterBias", len(x), len(dw), len(dy))
	checkLen("ConvBackwardFilterBias db", len(db), g.K)
	if ws == nil {
		ws = new(ConvWork)
	}
	convBackwardFilter(dw, db[:g.K], dy, x, g, ws)
}

func convBackwardFilter(dw, db, dy, x []float32, g ConvGeom, ws *ConvWork) {
	ws.job = convJob{op: convBwdFilter, g: g, ws: ws, out: dw, in: dy, w: x, db: db}
	used := ws.job.do()
	m, crs, tr := ws.job.mrows, ws.job.crs, ws.job.filterT
	ws.job = convJob{}
	finishFilter(dw, db, ws, used, m, crs, g.K, tr)
}
