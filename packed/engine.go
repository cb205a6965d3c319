package packed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"

	"github.com/resq-dev/resq/internal/safetensors"
	"github.com/resq-dev/resq/packed/internal/kernels"
	"github.com/resq-dev/resq/tensor"
)

// Model is a loaded packed model, ready for integer inference. It is
// immutable after Load: Infer and Predict may be called from any number of
// goroutines at once (each call takes its own scratch from a pool).
type Model struct {
	In      []int             // per-sample input shape
	Classes int               // logits width
	Spec    string            // model spec the file was exported from ("" if unknown)
	Meta    map[string]string // every metadata entry of the file (provenance)

	dim   int // product of In
	ops   []*op
	chunk int // samples per pass through the network
	// scratch sizes (elements)
	actMax, xqMax, accMax, sampleMax int
	pool                             sync.Pool
	intNet                           *intNet // integer mode (nil: float epilogue)
	recurrent                        int     // number of opRecurrent ops (scratch slots)
}

// act is an activation fused into a weighted layer's epilogue.
type act uint8

const (
	actNone act = iota
	actReLU
	actSigmoid
	actTanh
)

var actByName = map[string]act{"relu": actReLU, "sigmoid": actSigmoid, "tanh": actTanh}

type opKind uint8

const (
	opDense opKind = iota
	opConv
	opPool
	opAct       // a standalone activation (not after dense or conv)
	opActQ      // a signal quantizer: y = sign(x) * D * min(floor(|x|/D + 0.5), levels)
	opRecurrent // an LSTM or GRU layer (recurrent.go)
)

// op is one engine stage. Dense and conv compute
// y = act((codes . x) * step + bias) with integer dot products; pool is a
// float max pool. Activations between stages are float32, one row of
// inSize/outSize values per sample (NCHW order for 3-D shapes).
type op struct {
	kind            opKind
	inSize, outSize int // per sample

	// dense and conv: rows outputs (dense Out, conv K), cols inputs per
	// output (dense In, conv C*R*S).
	rows, cols int
	wp         []int8      // codes in the kernels' panel layout, 1 byte per weight
	sp         *sparseCols // dense layers with few nonzero codes: the sparse kernel's form (nil: dense kernel)
	w2         []uint8     // ternary layers: the codes in the kernels' T2 layout, 4 per byte (nil otherwise)
	colsum     []int32     // [rows] sum of each output's codes (for the activation offset)
	step       []float32   // [rows] (a per-tensor step is repeated)
	bias       []float32   // [rows]
	act        act
	// amax is the largest activation code: 255 for weights of up to 7
	// bits, 127 for 8-bit weights, so that an AVX2 VPMADDUBSW pair never
	// saturates (2*255*63 and 2*127*127 are both <= 32767).
	amax int
	// pairMax = 2*amax*qmax bounds a pair of products (kernels.Gemm).
	pairMax int

	// grid, when > 0, is the step D of a signal quantizer whose levels
	// 0..gridLevels*D reach this weighted layer's input unchanged (through
	// max pooling, flatten or ReLU): such rows are coded exactly as
	// u = level, scale = D. For opActQ, grid and gridLevels define it.
	grid       float32
	gridLevels int

	// conv and pool geometry: input [c, h, w], output [., oh, ow]; conv
	// kernel r x s (pool window r x r), stride, pad.
	c, h, w, r, s, stride, pad, oh, ow int

	rec *recOp // opRecurrent
}

// Load reads and validates the packed model at path.
func Load(path string) (*Model, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("packed: %q is a folder, not a packed model", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("packed: %v", err)
	}
	m, err := LoadBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%v (file %q)", err, path)
	}
	return m, nil
}

// LoadBytes parses a packed model from b (untrusted: any malformed,
// truncated or inconsistent input gives an error starting with "packed:",
// never a panic). The model does not keep b.
func LoadBytes(b []byte) (*Model, error) {
	f, err := safetensors.Read(b)
	if err != nil {
		return nil, fmt.Errorf("packed: %v", err)
	}
	if f.Meta["format"] != FormatName {
		return nil, fmt.Errorf("packed: not a packed model (format %q, want %q)", f.Meta["format"], FormatName)
	}
	if v := f.Meta["format_version"]; !readableVersions[v] {
		return nil, fmt.Errorf("packed: format version %q not supported (want 1..%s)", v, FormatVersion)
	}
	var a arch
	dec := json.NewDecoder(bytes.NewReader([]byte(f.Meta["arch"])))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("packed: arch metadata: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("packed: arch metadata: trailing data")
	}
	shapes, err := a.validate()
	if err != nil {
		return nil, fmt.Errorf("packed: arch: %v", err)
	}
	if err := checkSpec(f.Meta["spec"], &a); err != nil {
		return nil, fmt.Errorf("packed: %v", err)
	}
	m := &Model{In: a.In, Classes: a.Classes, Spec: f.Meta["spec"], Meta: f.Meta, dim: tensor.Numel(a.In)}
	if err := checkMode(f.Meta, &a); err != nil {
		return nil, fmt.Errorf("packed: %v", err)
	}
	if a.Integer != nil {
		if m.intNet, err = loadInteger(f, &a, shapes); err != nil {
			return nil, fmt.Errorf("packed: %v", err)
		}
		return m, nil
	}
	m.sampleMax = m.dim
	used := 0
	for i, l := range a.Layers {
		in, out := shapes[i], shapes[i+1]
		m.sampleMax = max(m.sampleMax, tensor.Numel(out))
		var o *op
		switch l.Kind {
		case "relu", "sigmoid", "tanh":
			if i > 0 && a.Layers[i-1].weighted() {
				m.ops[len(m.ops)-1].act = actByName[l.Kind]
				continue
			}
			o = &op{kind: opAct, act: actByName[l.Kind]}
		case "flatten":
			continue // NCHW rows are already flat
		case "actquant":
			levels := 1<<l.Bits - 1
			o = &op{kind: opActQ, grid: l.Clip / float32(levels), gridLevels: levels}
		case "maxpool":
			o = &op{kind: opPool, c: in[0], h: in[1], w: in[2], r: l.K, stride: l.Stride, oh: out[1], ow: out[2]}
		case "lstm", "gru":
			stepIn := l.In
			if l.Rec.Tokens {
				stepIn = 1
			}
			ro, err := buildRecurrent(f, i, l, tensor.Numel(in)/stepIn)
			if err != nil {
				return nil, fmt.Errorf("packed: layer %d (%s): %v", i, l.Kind, err)
			}
			ro.idx = m.recurrent
			m.recurrent++
			used += l.recTensors()
			o = &op{kind: opRecurrent, rec: ro}
			for _, d := range []*op{ro.ints.ih, ro.ints.hh} {
				if d != nil {
					m.xqMax = max(m.xqMax, rowChunk*d.ldx())
					m.accMax = max(m.accMax, rowChunk*kernels.Pad16(d.rows))
				}
			}
		default:
			o, err = buildWeighted(f, i, l)
			if err != nil {
				return nil, fmt.Errorf("packed: layer %d (%s): %v", i, l.Kind, err)
			}
			used += 3
			kp, np := o.ldx(), kernels.Pad16(o.rows)
			if l.Kind == "conv" {
				o.c, o.h, o.w, o.oh, o.ow = in[0], in[1], in[2], out[1], out[2]
				mp := kernels.Pad4(o.oh * o.ow)
				m.xqMax = max(m.xqMax, mp*kp)
				m.accMax = max(m.accMax, mp*np)
			} else {
				m.xqMax = max(m.xqMax, rowChunk*kp)
				m.accMax = max(m.accMax, rowChunk*np)
			}
		}
		o.inSize, o.outSize = tensor.Numel(in), tensor.Numel(out)
		m.ops = append(m.ops, o)
	}
	if len(f.Tensors) != used {
		return nil, fmt.Errorf("packed: %d tensors in file, the arch uses %d", len(f.Tensors), used)
	}
	// Give weighted layers the grid of a signal quantizer that reaches
	// them through pooling, flatten (not an op) or ReLU.
	var grid float32
	levels := 0
	for _, o := range m.ops {
		switch {
		case o.kind == opActQ:
			grid, levels = o.grid, o.gridLevels
		case o.kind == opDense || o.kind == opConv:
			if levels > 0 && levels <= o.amax && grid > 0 {
				o.grid, o.gridLevels = grid, levels
			}
			grid, levels = 0, 0
		case o.kind == opPool || (o.kind == opAct && o.act == actReLU):
		default:
			grid, levels = 0, 0
		}
	}
	// Keep a chunk's float activations around 8 MiB per buffer.
	m.chunk = min(rowChunk, max(1, (2<<20)/m.sampleMax))
	m.actMax = m.chunk * m.sampleMax
	return m, nil
}

func buildWeighted(f *safetensors.File, i int, l archLayer) (*op, error) {
	codes, err := decodeCodes(f, i, l)
	if err != nil {
		return nil, err
	}
	rows, cols := l.rows(), l.cols()
	steps, err := readF32(f, tensorName(i, "step"), l.Steps)
	if err != nil {
		return nil, err
	}
	bias, err := readF32(f, tensorName(i, "bias"), rows)
	if err != nil {
		return nil, err
	}
	o := &op{kind: opDense, rows: rows, cols: cols, bias: bias, amax: 255}
	if l.Kind == "conv" {
		o.kind, o.r, o.s, o.stride, o.pad = opConv, l.R, l.S, l.Stride, l.Pad
	}
	if l.Bits == 8 {
		o.amax = 127
	}
	o.pairMax = 2 * o.amax * qmax(l.Bits)
	o.step = steps
	if len(steps) == 1 && rows > 1 {
		o.step = make([]float32, rows)
		for j := range o.step {
			o.step[j] = steps[0]
		}
	}
	if err := checkScales(tensorName(i, "step"), o.step, tensorName(i, "bias"), bias, codes, cols); err != nil {
		return nil, err
	}
	o.setCodes(codes, l.Bits == 2)
	if o.kind == opDense {
		o.sp = newSparseCols(codes, rows, cols, sparseDensity)
	}
	return o, nil
}

// rowChunk is the largest number of samples Infer pushes through the
// network at a time (fewer for large conv activations): it bounds scratch
// memory and keeps a chunk's activations in cache.
const rowChunk = 128

// scratch is one Infer call's working memory.
type scratch struct {
	xq  []uint8 // quantized activations: [chunk, Kp] (dense) or im2col [Pad4(OH*OW), Kp] (conv)
	xs  []uint8 // [sampleMax] one conv input sample, quantized
	acc []int32 // integer sums, [.., Pad16(rows)]
	// second digits of Predict's recheck (forwardWide), allocated on first use
	xq2     []uint8
	xs2     []uint8
	acc2    []int32
	h0, h1  []float32 // [chunk, sampleMax] float activations between stages
	scale   []float32 // [chunk] activation scale of each row
	off     []int32   // [chunk] activation zero point of each row
	threads int       // goroutines per GEMM (0 = GOMAXPROCS)
	// hook, when set, sees (and may change) the activation codes every
	// weighted layer's kernel reads (InferHook); layer is the weighted
	// layer's index, sample the row of the first chunk sample r0 plus
	// the row in the chunk (cur: the sample a conv is computing).
	hook           func(layer, sample int, codes []uint8)
	layer, r0, cur int
	rec            []*recScratch // per opRecurrent: its buffers (recint.go)
}

func (m *Model) getScratch() *scratch {
	if s, ok := m.pool.Get().(*scratch); ok {
		return s
	}
	return &scratch{
		xq:    make([]uint8, m.xqMax),
		xs:    make([]uint8, m.sampleMax),
		acc:   make([]int32, m.accMax),
		h0:    make([]float32, m.actMax),
		h1:    make([]float32, m.actMax),
		scale: make([]float32, m.chunk),
		off:   make([]int32, m.chunk),
	}
}

// wide allocates the second-digit buffers of forwardWide.
func (m *Model) getWideScratch() *scratch {
	s := m.getScratch()
	if s.xq2 == nil {
		s.xq2 = make([]uint8, m.xqMax)
		s.xs2 = make([]uint8, m.sampleMax)
		s.acc2 = make([]int32, m.accMax)
	}
	return s
}

// Infer writes the logits [batch, Classes] of the samples x [batch, D]
// (D = product of In, rows are flattened samples) into dst.
//
// Weights stay integer codes; each layer's input is quantized on the fly to
// 8-bit codes with one scale per sample (see doc.go for the error this
// adds), the dot products are exact int32 sums, and step, scale and bias
// are applied once per output. Batches of 32 samples or more are split
// over up to GOMAXPROCS goroutines, each running the whole network on its
// rows; smaller ones run on the caller's goroutine with the GEMMs split
// over columns. Inputs must be finite. Infer panics if the slices do not
// match batch (a programming error).
func (m *Model) Infer(dst []float32, x []float32, batch int) {
	if batch < 0 || len(x) != batch*m.dim || len(dst) < batch*m.Classes {
		panic(fmt.Sprintf("packed: Infer: x has %d values, dst %d, want [%d, %d] and [%d, %d]", len(x), len(dst), batch, m.dim, batch, m.Classes))
	}
	if m.intNet != nil {
		m.inferFloatAPI(dst, nil, x, batch)
		return
	}
	workers := min(runtime.GOMAXPROCS(0), batch/32)
	if workers <= 1 {
		m.inferRows(0, dst, x, batch)
		return
	}
	var wg sync.WaitGroup
	for t := 0; t < workers; t++ {
		// Row ranges in multiples of the kernels' row block.
		r0 := batch * t / workers / kernels.MR * kernels.MR
		r1 := batch * (t + 1) / workers / kernels.MR * kernels.MR
		if t == workers-1 {
			r1 = batch
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.inferRows(1, dst[r0*m.Classes:r1*m.Classes], x[r0*m.dim:r1*m.dim], r1-r0)
		}()
	}
	wg.Wait()
}

// inferRows runs batch samples chunk by chunk with GEMMs on up to threads
// goroutines (0 = GOMAXPROCS).
func (m *Model) inferRows(threads int, dst, x []float32, batch int) {
	s := m.getScratch()
	defer m.pool.Put(s)
	s.threads = threads
	for r0 := 0; r0 < batch; r0 += m.chunk {
		rows := min(m.chunk, batch-r0)
		m.forward(s, dst[r0*m.Classes:(r0+rows)*m.Classes], x[r0*m.dim:(r0+rows)*m.dim], rows, false)
	}
}

// Predict writes the predicted class of each sample of x [batch, D] into
// dst [batch]: the class the simulated-quantized float forward predicts.
// It runs Infer, and recomputes the few samples whose two best logits are
// too close for the 8-bit pass's error with 16-bit activation codes, and
// those still too close with float activations (see doc.go,
// "Predictions"). Ties go to the lowest class index.
func (m *Model) Predict(dst []int32, x []float32, batch int) {
	m.PredictLogits(dst, make([]float32, max(batch, 0)*m.Classes), x, batch)
}

// PredictLogits is Predict that also returns Infer's logits [batch,
// Classes] in logits (the 8-bit pass, before any recheck), for callers
// that want both without running the network twice.
func (m *Model) PredictLogits(dst []int32, logits, x []float32, batch int) {
	m.PredictStats(dst, logits, x, batch)
}

// forward runs rows (<= m.chunk) samples through every stage, with 8-bit
// activation codes, or with two-digit ones when wide (see forwardWide).
func (m *Model) forward(s *scratch, dst, x []float32, rows int, wide bool) {
	in := x // [rows, inSize]
	s.layer = 0
	for li, o := range m.ops {
		out := s.h0[:rows*o.outSize]
		if li%2 == 1 {
			out = s.h1[:rows*o.outSize]
		}
		switch {
		case o.kind == opDense && wide:
			o.denseWide(s, out, in, rows)
		case o.kind == opDense:
			o.dense(s, out, in, rows)
		case o.kind == opRecurrent:
			o.rec.forward(s, out, in, rows, wide)
		case o.kind == opConv:
			for i := 0; i < rows; i++ {
				if wide {
					o.convWide(s, out[i*o.outSize:(i+1)*o.outSize], in[i*o.inSize:(i+1)*o.inSize])
				} else {
					s.cur = s.r0 + i
					o.conv(s, out[i*o.outSize:(i+1)*o.outSize], in[i*o.inSize:(i+1)*o.inSize])
				}
			}
		default:
			o.float(out, in, rows)
		}
		if o.kind == opDense || o.kind == opConv {
			s.layer++
		}
		in = out
	}
	copy(dst, in[:rows*m.Classes])
}

// useT2 lets tests turn the T2 kernels off to compare with PackW's layout.
var useT2 = true

// setCodes derives the kernels' operands from the layer's codes [o.rows,
// o.cols]: the row sums of the codes (colsum, for the activations' zero
// point), PackW's layout and, when t2 is set, the T2 layout (nil if a code
// is not ternary).
func (o *op) setCodes(codes []int8, t2 bool) {
	o.colsum = make([]int32, o.rows)
	for j := range o.colsum {
		var s int32
		for _, c := range codes[j*o.cols : (j+1)*o.cols] {
			s += int32(c)
		}
		o.colsum[j] = s
	}
	o.wp = make([]int8, kernels.PackedLen(o.rows, o.cols))
	kernels.PackW(o.wp, codes, o.rows, o.cols)
	o.w2 = nil
	if t2 {
		o.w2 = packT2(codes, o.rows, o.cols)
	}
}

// packT2 returns the codes [rows, cols] in the T2 layout, or nil if one is
// not ternary (a fault-injected image may hold any code).
func packT2(codes []int8, rows, cols int) []uint8 {
	for _, c := range codes[:rows*cols] {
		if c < -1 || c > 1 {
			return nil
		}
	}
	w2 := make([]uint8, kernels.T2Len(rows, cols))
	kernels.PackT2(w2, codes, rows, cols)
	return w2
}

// ldx returns the row stride of the layer's quantized activations: T2
// reads Pad16(cols) bytes a row, PackW's layout Pad4(cols).
func (o *op) ldx() int {
	if o.w2 != nil {
		return kernels.Pad16(o.cols)
	}
	return kernels.Pad4(o.cols)
}

// gemm computes acc [rows, ldc] = x [rows, ldx] . codes^T with the T2
// kernels for ternary layers when the selected kernel runs them faster
// for this many rows (kernels.T2Rows: VNNI always, decoding T2 into an
// L1-resident byte layout from 16 rows; AVX2 below 8 rows; a single
// sample runs a GEMV), else with Gemm on PackW's layout and the layer's
// pair bound (x must then have its rows up to a multiple of kernels.MR,
// the padding zero), or Gemv for a single sample. All give the same
// exact sums.
func (o *op) gemm(threads, rows int, x []uint8, ldx int, acc []int32, ldc int) {
	o.gemmOn(o.path(rows), threads, rows, x, ldx, acc, ldc)
}

// gemmPath is the product gemm runs for a number of rows.
type gemmPath int

const (
	pathGemm gemmPath = iota // Gemm on PackW's layout: reads x's padding rows up to a multiple of kernels.MR
	pathT2                   // GemmT2: reads rows rows only
	pathGemv                 // Gemv: one row
)

// path returns the product gemm runs for rows rows.
func (o *op) path(rows int) gemmPath {
	switch {
	case o.w2 != nil && useT2 && kernels.T2Rows(rows):
		return pathT2
	case rows == 1 && kernels.GemvNative():
		return pathGemv
	}
	return pathGemm
}

// gemmOn is gemm along path p (o.path(rows)).
func (o *op) gemmOn(p gemmPath, threads, rows int, x []uint8, ldx int, acc []int32, ldc int) {
	switch p {
	case pathT2:
		kernels.GemmT2(threads, rows, o.rows, o.cols, x, ldx, o.w2, acc, ldc)
	case pathGemv:
		kernels.Gemv(threads, o.pairMax, o.rows, o.cols, x[:ldx], o.wp, acc[:ldc])
	default:
		mp := (rows + kernels.MR - 1) / kernels.MR * kernels.MR
		kernels.Gemm(threads, o.pairMax, mp, o.rows, o.cols, x, ldx, o.wp, acc, ldc)
	}
}

// dense computes out [rows, o.rows] from in [rows, o.cols].
func (o *op) dense(s *scratch, out, in []float32, rows int) {
	mp := (rows + kernels.MR - 1) / kernels.MR * kernels.MR
	kp, np := o.ldx(), kernels.Pad16(o.rows)
	xq := s.xq[:mp*kp]
	for i := 0; i < rows; i++ {
		s.scale[i], s.off[i] = o.quantizeInput(xq[i*kp:(i+1)*kp], in[i*o.cols:(i+1)*o.cols])
		if s.hook != nil {
			o.callHook(s, s.r0+i, xq[i*kp:i*kp+o.cols])
		}
	}
	p := o.path(rows)
	if o.sp != nil || p == pathGemm {
		clear(xq[rows*kp:]) // padding rows: computed, never read
	}
	acc := s.acc[:mp*np]
	if o.sp != nil {
		o.sp.gemm(rows, o.rows, o.cols, xq, kp, acc, np)
	} else {
		o.gemmOn(p, s.threads, rows, xq, kp, acc, np)
	}
	for i := 0; i < rows; i++ {
		o.finishRow(out[i*o.rows:(i+1)*o.rows], acc[i*np:i*np+o.rows], s.off[i], s.scale[i])
	}
}

// conv computes one sample: out [K, OH, OW] from in [C, H, W], through an
// int8 im2col [OH*OW, C*R*S] and one integer GEMM.
func (o *op) conv(s *scratch, out, in []float32) {
	xs := s.xs[:len(in)]
	scale, off := o.quantizeInput(xs, in)
	if s.hook != nil {
		o.callHook(s, s.cur, xs)
	}
	npix := o.oh * o.ow
	mp := kernels.Pad4(npix)
	kp, np := o.ldx(), kernels.Pad16(o.rows)
	xq := s.xq[:mp*kp]
	o.im2col(xq, xs, uint8(off)) // zero padding is the zero point
	acc := s.acc[:mp*np]
	o.gemm(s.threads, npix, xq, kp, acc, np)
	for k := 0; k < o.rows; k++ {
		y := out[k*npix : (k+1)*npix]
		for p := range y {
			y[p] = o.finish(acc[p*np+k], off, scale, k)
		}
	}
}

// callHook passes a sample's codes to the scratch's hook and reads a code
// it leaves above amax as amax, the bound of the kernels' pairs.
func (o *op) callHook(s *scratch, sample int, codes []uint8) {
	s.hook(s.layer, sample, codes)
	if o.amax < 255 {
		for j, v := range codes {
			codes[j] = min(v, uint8(o.amax))
		}
	}
}

// im2col writes the int8 im2col [Pad4(OH*OW), o.ldx()] of the coded
// sample xs [C, H, W] into xq, with pad outside the image and zeros in
// the padding rows and columns.
func (o *op) im2col(xq, xs []uint8, pad uint8) {
	npix := o.oh * o.ow
	kp := o.ldx()
	for oy := 0; oy < o.oh; oy++ {
		for ox := 0; ox < o.ow; ox++ {
			row := xq[(oy*o.ow+ox)*kp : (oy*o.ow+ox+1)*kp]
			q := 0
			for c := 0; c < o.c; c++ {
				plane := xs[c*o.h*o.w : (c+1)*o.h*o.w]
				for r := 0; r < o.r; r++ {
					iy := oy*o.stride - o.pad + r
					for t := 0; t < o.s; t++ {
						ix := ox*o.stride - o.pad + t
						if iy < 0 || iy >= o.h || ix < 0 || ix >= o.w {
							row[q] = pad
						} else {
							row[q] = plane[iy*o.w+ix]
						}
						q++
					}
				}
			}
			clear(row[q:])
		}
	}
	clear(xq[npix*kp:])
}

// maxPool pools one sample [C, H, W] to [C, OH, OW].
func (o *op) maxPool(out, in []float32) {
	for c := 0; c < o.c; c++ {
		plane := in[c*o.h*o.w : (c+1)*o.h*o.w]
		for oy := 0; oy < o.oh; oy++ {
			for ox := 0; ox < o.ow; ox++ {
				best := float32(math.Inf(-1))
				for r := 0; r < o.r; r++ {
					base := (oy*o.stride+r)*o.w + ox*o.stride
					for _, v := range plane[base : base+o.r] {
						best = max(best, v)
					}
				}
				out[(c*o.oh+oy)*o.ow+ox] = best
			}
		}
	}
}

// finishRow turns a row of integer sums into activations, y[j] =
// act((acc[j] - off*colsum[j]) * scale * step[j] + bias[j]), with the
// activation hoisted out of the loop.
func (o *op) finishRow(y []float32, acc []int32, off int32, scale float32) {
	kernels.Epilogue(y, acc, o.colsum, o.step, o.bias, off, scale, o.act == actReLU)
	if o.act == actSigmoid || o.act == actTanh {
		for j, v := range y {
			y[j] = o.act.apply(v)
		}
	}
}

// finish turns one integer sum of output j into an activation:
// act((acc - off*colsum) * scale * step + bias).
func (o *op) finish(acc, off int32, scale float32, j int) float32 {
	return o.act.apply(float32(acc-off*o.colsum[j])*(scale*o.step[j]) + o.bias[j])
}

// apply returns the activation of v.
func (a act) apply(v float32) float32 {
	switch a {
	case actReLU:
		return max(v, 0)
	case actSigmoid:
		return float32(1 / (1 + math.Exp(-float64(v))))
	case actTanh:
		return float32(math.Tanh(float64(v)))
	}
	return v
}

// quantizeInput codes one input row of a weighted layer: exactly on the
// grid of a preceding signal quantizer when there is one and the row is on
// it (nonnegative), else dynamically with quantizeRow.
func (o *op) quantizeInput(u []uint8, x []float32) (scale float32, off int32) {
	if o.gridLevels > 0 {
		if lo, _ := kernels.MinMax(x); lo >= 0 {
			kernels.Quantize(u, x, 1/o.grid, 0.5, float32(o.gridLevels))
			clear(u[len(x):])
			return o.grid, 0
		}
	}
	return quantizeRow(u, x, o.amax)
}

// quantizeSignals is quant.ActQuant's forward: y = sign(x) * D *
// min(floor(|x|/D + 0.5), levels), in float32; D <= 0 gives zeros.
func quantizeSignals(y, x []float32, d, levels float32) {
	if !(d > 0) {
		clear(y)
		return
	}
	for i, v := range x {
		a := float32(math.Abs(float64(v)))
		k := min(max(float32(int32(min(a/d+0.5, levels))), 0), levels)
		if v < 0 {
			k = -k
		}
		y[i] = d * k
	}
}

// quantizeRow maps x to activation codes u (len(u) >= len(x); the tail up
// to len(u) is zeroed) with x ~= (u - off) * scale. Nonnegative rows (after
// ReLU or sigmoid, pixels) use 0..amax with off = 0; rows with negative
// values use a symmetric grid, off = (amax+1)/2 and u in 1..amax.
func quantizeRow(u []uint8, x []float32, amax int) (scale float32, off int32) {
	lo, hi := kernels.MinMax(x)
	levels := float32(amax)
	if lo < 0 {
		off = int32(amax+1) / 2
		levels = float32(off - 1)
		hi = max(hi, -lo)
	}
	if !(hi > 0) || hi > math.MaxFloat32 {
		// All zero (or non-finite input, which has no meaningful result):
		// every code is the zero point.
		for i := range u {
			u[i] = uint8(off)
		}
		clear(u[len(x):])
		return 1, off
	}
	// v*inv + off lies in [0, amax] up to rounding; +0.5 and truncation
	// round half up.
	kernels.Quantize(u, x, levels/hi, float32(off)+0.5, float32(amax))
	clear(u[len(x):])
	return hi / levels, off
}
