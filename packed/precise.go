package packed

import (
	"fmt"
	"math"

	"github.com/resq-dev/resq/packed/internal/kernels"
	"github.com/resq-dev/resq/tensor"
)

// Predict's decision check (see doc.go, "Predictions"). A sample whose
// two largest logits are closer than tau*max(1, max|logit|) is recomputed
// at the next precision.
const (
	// tau8 bounds the margin error of the 8-bit pass. Measured worst
	// relative logit errors: about 0.0065 on trained MNIST MLPs, up to
	// 0.019 on the random networks of the tests (tanh, 8-bit first and
	// last layers), so margin errors up to 0.038; tau8 leaves 1.5x on the
	// worst.
	tau8 = 0.06
	// tau16 is the same for the two-digit (16- or 14-bit) pass, whose
	// rounding error is 257 (129) times smaller: measured worst 1.4e-4,
	// margin error 2.8e-4.
	tau16 = 1e-3
	// tauRec8 and tauRec16 replace tau8 and tau16 for models with
	// recurrent layers, whose activation-coding error passes through the
	// gates and the state at every step (recint.go). Measured worst
	// relative logit errors of the 8-bit pass: up to 0.013 on the random
	// LSTM and GRU models of TestRecurrentIntegerClose (6..20 steps,
	// 2..8-bit weights), 0.018 and 0.015 on the retrained ternary
	// lstm:28-128-10 of sequential MNIST (28 steps, a step per matrix and
	// per gate; all 10000 test samples), so margin errors up to 0.037:
	// tauRec8 leaves 2.7x, more than tau8's 1.5x because the error grows
	// with the sequence length. Two-digit pass: worst 1.2e-4 (tests) and
	// 8.5e-5 (sequential MNIST, 2000 samples), margin error 2.3e-4;
	// tauRec16 leaves 8.7x.
	tauRec8  = 0.1
	tauRec16 = 2e-3
)

// taus returns the decision check's thresholds for the 8-bit and the
// two-digit pass.
func (m *Model) taus() (float64, float64) {
	if m.recurrent > 0 {
		return tauRec8, tauRec16
	}
	return tau8, tau16
}

// PredictCounts says how many samples PredictStats recomputed because
// their logits were too close to call.
type PredictCounts struct {
	Wide  int `json:"wide"`  // recomputed with two-digit activation codes
	Float int `json:"float"` // of those, recomputed again with float activations
}

// PredictStats is PredictLogits that also counts the samples it
// recomputed (the cost of Predict over Infer depends on them: a two-digit
// pass costs about two 8-bit ones, a float pass far more).
func (m *Model) PredictStats(dst []int32, logits, x []float32, batch int) PredictCounts {
	if batch < 0 || len(dst) < batch || len(x) != batch*m.dim || len(logits) < batch*m.Classes {
		panic(fmt.Sprintf("packed: Predict: dst has %d elements, logits %d, x %d, batch is %d of %d", len(dst), len(logits), len(x), batch, m.dim))
	}
	if m.intNet != nil {
		m.inferFloatAPI(logits, dst, x, batch)
		return PredictCounts{}
	}
	var n PredictCounts
	var idx []int
	t8, _ := m.taus()
	for r0 := 0; r0 < batch; r0 += m.chunk {
		rows := min(m.chunk, batch-r0)
		xs := x[r0*m.dim : (r0+rows)*m.dim]
		lg := logits[r0*m.Classes : (r0+rows)*m.Classes]
		m.Infer(lg, xs, rows)
		idx = idx[:0]
		for i := 0; i < rows; i++ {
			row := lg[i*m.Classes : (i+1)*m.Classes]
			dst[r0+i] = int32(tensor.Argmax(row))
			if uncertain(row, t8) {
				idx = append(idx, i)
			}
		}
		if len(idx) > 0 {
			n.Wide += len(idx)
			n.Float += m.recheck(dst[r0:r0+rows], xs, idx)
		}
	}
	return n
}

// uncertain reports whether the top two values of logits are within
// tau*max(1, max|logit|) of each other.
func uncertain(logits []float32, tau float64) bool {
	a, b := math.Inf(-1), math.Inf(-1)
	scale := 1.0
	for _, v := range logits {
		f := float64(v)
		scale = max(scale, math.Abs(f))
		if f > a {
			a, b = f, a
		} else if f > b {
			b = f
		}
	}
	return a-b < tau*scale || math.IsNaN(a-b)
}

// recheck recomputes the logits of the rows of x [rows, dim] listed in
// idx (their 8-bit logits were too close to call) with the two-digit
// activation codes, and those still too close with float activations, and
// writes their predictions into pred. It returns the number of samples
// that needed the float pass.
func (m *Model) recheck(pred []int32, x []float32, idx []int) int {
	s := m.getWideScratch()
	defer m.pool.Put(s)
	s.threads = 1
	n := len(idx)
	in := make([]float32, n*m.dim)
	for i, r := range idx {
		copy(in[i*m.dim:(i+1)*m.dim], x[r*m.dim:(r+1)*m.dim])
	}
	logits := make([]float32, n*m.Classes)
	for r0 := 0; r0 < n; r0 += m.chunk {
		rows := min(m.chunk, n-r0)
		m.forwardWide(s, logits[r0*m.Classes:(r0+rows)*m.Classes], in[r0*m.dim:(r0+rows)*m.dim], rows)
	}
	float := 0
	_, t16 := m.taus()
	for i, r := range idx {
		row := logits[i*m.Classes : (i+1)*m.Classes]
		if uncertain(row, t16) {
			m.forwardFloat(row, in[i*m.dim:(i+1)*m.dim])
			float++
		}
		pred[r] = int32(tensor.Argmax(row))
	}
	return float
}

// forwardWide is forward with two-digit activation codes: each weighted
// layer's input is quantized to base^2 levels (base = amax+1: 16 bits for
// weights of up to 7 bits, 14 for 8-bit weights), split into a high and a
// low digit of 0..amax each, and run through the same integer GEMM twice:
// sum u*c = base * sum hi*c + sum lo*c, combined in float64.
func (m *Model) forwardWide(s *scratch, dst, x []float32, rows int) {
	m.forward(s, dst, x, rows, true)
}

// float runs the ops that compute in float32 in every mode (pooling,
// standalone activations, signal quantizers).
func (o *op) float(out, in []float32, rows int) {
	switch o.kind {
	case opPool:
		for i := 0; i < rows; i++ {
			o.maxPool(out[i*o.outSize:(i+1)*o.outSize], in[i*o.inSize:(i+1)*o.inSize])
		}
	case opAct:
		for j, v := range in[:len(out)] {
			out[j] = o.act.apply(v)
		}
	case opActQ:
		quantizeSignals(out, in[:len(out)], o.grid, float32(o.gridLevels))
	case opRecurrent:
		o.rec.forwardAlone(out, in, rows, o.inSize)
	}
}

// quantizeWide codes x as u = hi*base + lo with x ~= (u - off) * scale
// (see quantizeRow; base = amax+1). On a signal quantizer's grid the codes
// are the levels (hi = 0), exactly as the 8-bit pass codes them.
func (o *op) quantizeWide(hi, lo []uint8, x []float32) (scale float32, off int32) {
	if o.gridLevels > 0 {
		if mn, _ := kernels.MinMax(x); mn >= 0 {
			kernels.Quantize(lo, x, 1/o.grid, 0.5, float32(o.gridLevels))
			clear(lo[len(x):])
			clear(hi)
			return o.grid, 0
		}
	}
	base := o.amax + 1
	full := base*base - 1
	mn, mx := kernels.MinMax(x)
	levels := float64(full)
	if mn < 0 {
		off = int32(base * base / 2)
		levels = float64(off - 1)
		mx = max(mx, -mn)
	}
	clear(hi[len(x):])
	clear(lo[len(x):])
	if !(mx > 0) || mx > math.MaxFloat32 {
		for i := range x {
			hi[i], lo[i] = uint8(int(off)/base), uint8(int(off)%base)
		}
		return 1, off
	}
	inv := levels / float64(mx)
	for i, v := range x {
		u := min(max(int(math.Floor(float64(v)*inv+float64(off)+0.5)), 0), full)
		hi[i], lo[i] = uint8(u/base), uint8(u%base)
	}
	return float32(float64(mx) / levels), off
}

// wideOut is one output of a two-digit layer:
// act(((base*hi + lo) - off*colsum) * scale * step + bias).
func (o *op) wideOut(hi, lo, off int32, scale float32, j int) float32 {
	t := float64(o.amax+1)*float64(hi) + float64(lo) - float64(off)*float64(o.colsum[j])
	return o.act.apply(float32(t*float64(scale)*float64(o.step[j])) + o.bias[j])
}

// denseWide is dense with two-digit activation codes.
func (o *op) denseWide(s *scratch, out, in []float32, rows int) {
	mp := (rows + kernels.MR - 1) / kernels.MR * kernels.MR
	kp, np := o.ldx(), kernels.Pad16(o.rows)
	hi, lo := s.xq[:mp*kp], s.xq2[:mp*kp]
	for i := 0; i < rows; i++ {
		s.scale[i], s.off[i] = o.quantizeWide(hi[i*kp:(i+1)*kp], lo[i*kp:(i+1)*kp], in[i*o.cols:(i+1)*o.cols])
	}
	clear(hi[rows*kp:])
	clear(lo[rows*kp:])
	acc, acc2 := s.acc[:mp*np], s.acc2[:mp*np]
	o.gemm(s.threads, rows, hi, kp, acc, np)
	o.gemm(s.threads, rows, lo, kp, acc2, np)
	for i := 0; i < rows; i++ {
		y := out[i*o.rows : (i+1)*o.rows]
		for j := range y {
			y[j] = o.wideOut(acc[i*np+j], acc2[i*np+j], s.off[i], s.scale[i], j)
		}
	}
}

// convWide is conv with two-digit activation codes (one sample).
func (o *op) convWide(s *scratch, out, in []float32) {
	xh, xl := s.xs[:len(in)], s.xs2[:len(in)]
	scale, off := o.quantizeWide(xh, xl, in)
	base := int32(o.amax + 1)
	npix := o.oh * o.ow
	mp := kernels.Pad4(npix)
	kp, np := o.ldx(), kernels.Pad16(o.rows)
	hi, lo := s.xq[:mp*kp], s.xq2[:mp*kp]
	o.im2col(hi, xh, uint8(off/base))
	o.im2col(lo, xl, uint8(off%base))
	acc, acc2 := s.acc[:mp*np], s.acc2[:mp*np]
	o.gemm(s.threads, npix, hi, kp, acc, np)
	o.gemm(s.threads, npix, lo, kp, acc2, np)
	for k := 0; k < o.rows; k++ {
		y := out[k*npix : (k+1)*npix]
		for p := range y {
			y[p] = o.wideOut(acc[p*np+k], acc2[p*np+k], off, scale, k)
		}
	}
}

// code returns weight code (j, q) from the panel layout of o.wp
// (kernels.PackW).
func (o *op) code(j, q int) int8 {
	kp := kernels.Pad4(o.cols)
	return o.wp[(j/16)*kp*16+(q/4)*64+(j%16)*4+q%4]
}

// denseFloat is a dense layer of forwardFloat: out[j] = act(step[j] *
// sum_q in[q]*code(j, q) + bias[j]) with float64 sums. It reads the codes
// in PackW's panel order, 8 outputs at a time, and adds every output's
// terms in the order q = 0, 1, ..., so the sums are those of the plain
// loop over q, bit for bit.
func (o *op) denseFloat(out, in []float32) {
	kp := kernels.Pad4(o.cols)
	in = in[:o.cols]
	for p := 0; p < kernels.Pad16(o.rows)/16; p++ {
		panel := o.wp[p*kp*16 : (p+1)*kp*16]
		for h := 0; h < 2; h++ {
			var a0, a1, a2, a3, a4, a5, a6, a7 float64
			for q, v := range in {
				off := q/4*64 + q%4 + 32*h
				b := panel[off : off+29]
				f := float64(v)
				a0 += f * float64(b[0])
				a1 += f * float64(b[4])
				a2 += f * float64(b[8])
				a3 += f * float64(b[12])
				a4 += f * float64(b[16])
				a5 += f * float64(b[20])
				a6 += f * float64(b[24])
				a7 += f * float64(b[28])
			}
			for i, t := range [8]float64{a0, a1, a2, a3, a4, a5, a6, a7} {
				if j := 16*p + 8*h + i; j < o.rows {
					out[j] = o.act.apply(float32(t*float64(o.step[j])) + o.bias[j])
				}
			}
		}
	}
}

// forwardFloat computes one sample's logits into dst with float
// activations: every weighted layer is y = act(step * sum x*code + bias)
// with float64 sums, the simulated-quantized float forward up to the
// order of float rounding. It is the last resort of Predict for samples
// whose logits are nearly tied, and slow (scalar).
func (m *Model) forwardFloat(dst, x []float32) {
	in := x
	for _, o := range m.ops {
		out := make([]float32, o.outSize)
		switch o.kind {
		case opDense:
			o.denseFloat(out, in)
		case opConv:
			npix := o.oh * o.ow
			for k := 0; k < o.rows; k++ {
				for oy := 0; oy < o.oh; oy++ {
					for ox := 0; ox < o.ow; ox++ {
						var t float64
						q := 0
						for c := 0; c < o.c; c++ {
							for r := 0; r < o.r; r++ {
								iy := oy*o.stride - o.pad + r
								for u := 0; u < o.s; u++ {
									ix := ox*o.stride - o.pad + u
									if iy >= 0 && iy < o.h && ix >= 0 && ix < o.w {
										t += float64(in[(c*o.h+iy)*o.w+ix]) * float64(o.code(k, q))
									}
									q++
								}
							}
						}
						out[k*npix+oy*o.ow+ox] = o.act.apply(float32(t*float64(o.step[k])) + o.bias[k])
					}
				}
			}
		default:
			o.float(out, in, 1)
		}
		in = out
	}
	copy(dst, in[:m.Classes])
}
