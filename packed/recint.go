package packed

import (
	"fmt"
	"math"
	"slices"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed/internal/kernels"
	"github.com/resq-dev/resq/tensor"
)

// Integer recurrence. A recurrent layer's two matrix products run on the
// dense layers' integer kernels: every step's input x_t and previous
// hidden state h_{t-1} is coded per sample like a dense layer's input
// (quantizeRow: 0..amax codes, one scale and zero point per row, amax and
// the pair bound from the weight bits), multiplied with the Wih and Whh
// codes as exact int32 sums, and turned back to float32 with the weight
// step of each row (per matrix or per gate) and the activation scale and
// zero point (kernels.Epilogue). The biases, the gate nonlinearities
// (nn.SigmoidSlice, nn.TanhSlice: nn's float32 functions), the cell
// update and the state quantization stay float32, in nn's order. All
// steps' input projections run as one GEMM over [rows*T, In]; the
// recurrent product is one GEMM per step over [rows, H]. Token inputs
// (one-hot) skip the input GEMM: their projection is a column of
// code*step plus the bias, exact in float as in nn.

// recMats are the integer forms of a recurrent layer's matrices: dense
// ops without activation; ih carries the bias (nil for token inputs), hh
// the GRU's recurrent bias (zeros for an LSTM).
type recMats struct {
	ih, hh *op
}

// matrixOp returns a dense op over codes [rows, cols] with steps (1 or
// rows) and bias [rows], coded as buildWeighted codes a dense layer.
func matrixOp(codes []int8, rows, cols, bits int, steps, bias []float32) *op {
	o := &op{kind: opDense, rows: rows, cols: cols, bias: bias, amax: 255}
	if bits == 8 {
		o.amax = 127
	}
	o.pairMax = 2 * o.amax * qmax(bits)
	o.step = steps
	if len(steps) == 1 && rows > 1 {
		o.step = slices.Repeat(steps, rows)
	}
	o.setCodes(codes, bits == 2)
	return o
}

// recScratch is a recurrent op's working memory in one scratch.
type recScratch struct {
	xp []float32 // [rows, T, G*H] input projections plus bias, then the gates
	hg []float32 // [rows, G*H] recurrent products
	h  []float32 // [rows, H] the state h_{t-1}, then h_t
	c  []float32 // [rows, H] LSTM cell state
	tc []float32 // [H] tanh(c_t)
	// float is the nn layer a layer with a quantized state runs on
	// (shared read-only weights).
	float nn.Layer
}

func (s *scratch) recBuf(i int) *recScratch {
	for len(s.rec) <= i {
		s.rec = append(s.rec, &recScratch{})
	}
	return s.rec[i]
}

// product runs the dense op d over in [n, d.cols] into out [n, d.rows] in
// chunks the scratch holds, with 8-bit or two-digit activation codes.
func (d *op) product(s *scratch, out, in []float32, n int, wide bool) {
	step := len(s.scale)
	for r0 := 0; r0 < n; r0 += step {
		rr := min(step, n-r0)
		o, x := out[r0*d.rows:(r0+rr)*d.rows], in[r0*d.cols:(r0+rr)*d.cols]
		if wide {
			d.denseWide(s, o, x, rr)
		} else {
			d.dense(s, o, x, rr)
		}
	}
}

// forward runs rows samples of in [rows, T*stepIn] into out ([rows, T*H]
// with Seq, else [rows, H]): with the products on the integer kernels, or
// with nn's float32 recurrence on code*step for a layer with a quantized
// state. Rounding the state to 2^(StateBits-1)-1 levels is not
// continuous: an activation-coding error of any size can move a state
// value across a rounding boundary and change the rest of the sequence by
// a whole level, so no decision check bounds such a layer's integer error.
func (o *recOp) forward(s *scratch, out, in []float32, rows int, wide bool) {
	if o.arch.Rec.StateBits > 0 {
		b := s.recBuf(o.idx)
		if b.float == nil {
			b.float = o.layer()
		}
		x := tensor.Tensor{Data: in[:rows*o.steps*o.stepIn()], Shape: []int{rows, o.steps * o.stepIn()}}
		copy(out, b.float.Forward(&x, false).Data)
		return
	}
	o.forwardInt(s, out, in, rows, wide)
}

// stepIn is the number of input values per step.
func (o *recOp) stepIn() int {
	if o.arch.Rec.Tokens {
		return 1
	}
	return o.arch.In
}

// accumulate adds the product of the dense op d (zero bias) over in [n,
// d.cols] with 8-bit activation codes to the rows of y (row i at
// y[i*ldy:], d.rows values; n <= the scratch's chunk): the epilogue takes
// y's row as its bias, so y = product + y with the rounding of a product
// followed by an addition.
func (d *op) accumulate(s *scratch, y []float32, ldy int, in []float32, n int) {
	mp := (n + kernels.MR - 1) / kernels.MR * kernels.MR
	kp, np := d.ldx(), kernels.Pad16(d.rows)
	xq := s.xq[:mp*kp]
	for i := 0; i < n; i++ {
		s.scale[i], s.off[i] = quantizeRow(xq[i*kp:(i+1)*kp], in[i*d.cols:(i+1)*d.cols], d.amax)
	}
	clear(xq[n*kp:])
	acc := s.acc[:mp*np]
	d.gemm(s.threads, n, xq, kp, acc, np)
	for i := 0; i < n; i++ {
		row := y[i*ldy : i*ldy+d.rows]
		kernels.Epilogue(row, acc[i*np:i*np+d.rows], d.colsum, d.step, row, s.off[i], s.scale[i], false)
	}
}

// forwardInt is forward with the products on the integer kernels (any
// StateBits). The hook of InferHook does not see these products.
func (o *recOp) forwardInt(s *scratch, out, in []float32, rows int, wide bool) {
	hook := s.hook
	s.hook = nil
	defer func() { s.hook = hook }()
	l, T := o.arch, o.steps
	h := l.Out
	g := l.gates() * h
	b := s.recBuf(o.idx)
	b.xp, b.hg = grow32(b.xp, rows*T*g), grow32(b.hg, rows*g)
	b.h, b.c, b.tc = grow32(b.h, rows*h), grow32(b.c, rows*h), grow32(b.tc, h)
	if o.ints.ih != nil {
		o.ints.ih.product(s, b.xp, in, rows*T, wide)
	} else {
		o.projectTokens(b.xp, in[:rows*T])
	}
	lstm := l.Kind == "lstm"
	for t := 0; t < T; t++ {
		switch {
		case t > 0 && lstm && !wide:
			o.ints.hh.accumulate(s, b.xp[t*g:], T*g, b.h, rows)
		case t > 0:
			o.ints.hh.product(s, b.hg, b.h, rows, wide)
		}
		for i := 0; i < rows; i++ {
			gt := b.xp[(i*T+t)*g : (i*T+t+1)*g]
			hi := b.h[i*h : (i+1)*h]
			if l.Kind == "gru" {
				hg := o.biasHH
				if t > 0 {
					hg = b.hg[i*g : (i+1)*g]
				}
				gruCell(hi, gt, hg, t == 0)
			} else {
				if t > 0 && wide {
					for j, v := range b.hg[i*g : (i+1)*g] {
						gt[j] += v
					}
				}
				lstmCell(hi, b.c[i*h:(i+1)*h], b.tc, gt, t == 0)
			}
			quantizeState(hi, l.Rec.StateBits)
			if l.Rec.Seq {
				copy(out[(i*T+t)*h:(i*T+t+1)*h], hi)
			}
		}
	}
	if !l.Rec.Seq {
		copy(out[:rows*h], b.h)
	}
}

// projectTokens sets xp [n, G*H] to the columns of code*step of the token
// ids ids [n] plus the bias, as nn's projection of token inputs.
func (o *recOp) projectTokens(xp, ids []float32) {
	in := o.arch.In
	g := o.arch.gates() * o.arch.Out
	for i, v := range ids {
		id := int(v)
		if float32(id) != v || id < 0 || id >= in {
			panic(fmt.Sprintf("packed: %s: token %v not an integer in [0, %d)", o.arch.Kind, v, in))
		}
		dst := xp[i*g : (i+1)*g]
		for j := range dst {
			dst[j] = o.wih[j*in+id] + o.bias[j]
		}
	}
}

// lstmCell activates the gates gt [4H] (i, f, g, o pre-activations) and
// sets c = f*c + i*g (i*g at the first step) and h = o*tanh(c); tc [H] is
// scratch.
func lstmCell(h, c, tc, gt []float32, first bool) {
	n := len(h)
	nn.SigmoidSlice(gt[:2*n], gt[:2*n])
	nn.TanhSlice(gt[2*n:3*n], gt[2*n:3*n])
	nn.SigmoidSlice(gt[3*n:], gt[3*n:])
	ig, fg, gg, og := gt[:n], gt[n:2*n], gt[2*n:3*n], gt[3*n:4*n]
	if first {
		for j := range c {
			c[j] = ig[j] * gg[j]
		}
	} else {
		for j := range c {
			c[j] = fg[j]*c[j] + ig[j]*gg[j]
		}
	}
	nn.TanhSlice(tc, c)
	for j := range h {
		h[j] = og[j] * tc[j]
	}
}

// gruCell computes h = (1-z)*n + z*h (without z*h at the first step) from
// the input gates xg [3H] (r, z, n pre-activations with the input bias)
// and the recurrent ones hg [3H] (with the recurrent bias); xg is
// overwritten.
func gruCell(h, xg, hg []float32, first bool) {
	n := len(h)
	rz := xg[:2*n]
	for j := range rz {
		rz[j] += hg[j]
	}
	nn.SigmoidSlice(rz, rz)
	r, z, nc := xg[:n], xg[n:2*n], xg[2*n:]
	hn := hg[2*n:]
	for j := range nc {
		nc[j] += r[j] * hn[j]
	}
	nn.TanhSlice(nc, nc)
	if first {
		for j := range h {
			h[j] = (1 - z[j]) * nc[j]
		}
		return
	}
	for j := range h {
		h[j] = (1-z[j])*nc[j] + z[j]*h[j]
	}
}

// quantizeState rounds h to nn's state grid, round(h*L)/L with L =
// 2^(bits-1)-1 (no-op for bits 0).
func quantizeState(h []float32, bits int) {
	if bits <= 0 {
		return
	}
	l := float32(int(1)<<(bits-1) - 1)
	for i, v := range h {
		h[i] = float32(math.Round(float64(v*l))) / l
	}
}

func grow32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
