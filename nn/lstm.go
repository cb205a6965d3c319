package nn

import (
	"github.com/resq-dev/resq/tensor"
)

// LSTM is one long short-term memory layer over a sequence (Hochreiter and
// Schmidhuber 1997, with forget gate; the formulation of PyTorch's
// nn.LSTM with one bias):
//
//	[i f g o] = x_t Wihᵀ + h_{t-1} Whhᵀ + b      i, f, o: sigmoid; g: tanh
//	c_t = f*c_{t-1} + i*g
//	h_t = o*tanh(c_t)                               h_{-1} = c_{-1} = 0
//
// Wih is [4H, In], Whh [4H, H], B [4H], the gates stacked in the order i,
// f, g, o (PyTorch's). Forward computes the input projections of all steps
// with one GEMM and the recurrent part with one GEMM per step; Backward
// runs backpropagation through time (truncated with BPTT) with one GEMM
// per step for the recurrent gradient and one GEMM each for the weight
// gradients of all steps. Both compute with Param.Value(), so an attached
// quantizer quantizes Wih and Whh like a dense layer's weights.
type LSTM struct {
	Recurrent
	B *Param // [4H]

	xp, cs, tc, hs []float32 // [batch, T, 4H] gates (activated); [batch, T, H] c, tanh(c), h
	dg             []float32 // [batch, T, 4H] pre-activation gradients
	dh, dc         []float32 // [batch, H]
	y              *tensor.Tensor
}

// NewLSTM returns an LSTM layer with zero weights (Build initialises
// them): in features per step (the vocabulary when tokens), hidden units.
func NewLSTM(in, hidden int, tokens bool) *LSTM {
	l := &LSTM{Recurrent: newRecurrent(in, hidden, 4, tokens)}
	l.B = &Param{Name: "bias", W: tensor.New(4 * hidden), G: tensor.New(4 * hidden)}
	return l
}

// Kind returns "lstm".
func (l *LSTM) Kind() string { return "lstm" }

// Params returns [Wih, Whh, B].
func (l *LSTM) Params() []*Param { return []*Param{l.Wih, l.Whh, l.B} }

// Forward runs the sequence x [batch, T*In] (or [batch, T] token ids) and
// returns [batch, T*H] with Seq, else [batch, H].
func (l *LSTM) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	n, T := l.shape("lstm", x)
	h := l.Hidden
	g := 4 * h
	l.xp = grow(l.xp, n*T*g)
	l.cs, l.tc, l.hs = grow(l.cs, n*T*h), grow(l.tc, n*T*h), grow(l.hs, n*T*h)
	l.project("lstm", l.xp, x.Data, n*T, l.B.Value().Data)
	whh := l.Whh.Value().Data
	forParts(n, func(lo, hi, threads int) {
		for t := 0; t < T; t++ {
			if t > 0 { // [rows, 4H] += h_{t-1} [rows, H] * Whhᵀ
				tensor.GemmThreads(threads, false, true, hi-lo, g, h, 1, l.hs[(lo*T+t-1)*h:], T*h, whh, h, 1, l.xp[(lo*T+t)*g:], T*g)
			}
			for b := lo; b < hi; b++ {
				l.cell(b, t)
			}
		}
	})
	l.y = l.output(l.y, l.hs)
	return l.y
}

// cell activates the gates of sample b at step t and computes c_t and h_t.
func (l *LSTM) cell(b, t int) {
	h, T := l.Hidden, l.t
	o := (b*T + t) * h
	gt := l.xp[4*o : 4*o+4*h]
	sigmoidSlice(gt[:2*h], gt[:2*h])
	tanhSlice(gt[2*h:3*h], gt[2*h:3*h])
	sigmoidSlice(gt[3*h:], gt[3*h:])
	ig, fg, gg, og := gt[:h], gt[h:2*h], gt[2*h:3*h], gt[3*h:4*h]
	c, tc, hh := l.cs[o:o+h], l.tc[o:o+h], l.hs[o:o+h]
	if t == 0 {
		for j := range c {
			c[j] = ig[j] * gg[j]
		}
	} else {
		cp := l.cs[o-h : o]
		for j := range c {
			c[j] = fg[j]*cp[j] + ig[j]*gg[j]
		}
	}
	tanhSlice(tc, c)
	for j := range hh {
		hh[j] = og[j] * tc[j]
	}
	l.quantizeState(hh)
}

// Backward takes dy (the shape Forward returned), overwrites the
// gradients of Wih, Whh and B, and returns dx (nil with SkipInputGrad or
// Tokens).
func (l *LSTM) Backward(dy *tensor.Tensor) *tensor.Tensor {
	l.checkGrad("lstm", dy)
	n, T, h := l.n, l.t, l.Hidden
	g := 4 * h
	l.dg = grow(l.dg, n*T*g)
	l.dh, l.dc = grow(l.dh, n*h), grow(l.dc, n*h)
	clear(l.dh)
	clear(l.dc)
	whh := l.Whh.Value().Data
	forParts(n, func(lo, hi, threads int) {
		dh, dc := l.dh[lo*h:hi*h], l.dc[lo*h:hi*h]
		for t := T - 1; t >= 0; t-- {
			l.addOutputGrad(dh, dy, t, lo, hi)
			for b := lo; b < hi; b++ {
				l.cellBackward(b, t)
			}
			if l.cut(t) {
				clear(dh)
				clear(dc)
				continue
			}
			// dh_{t-1} [rows, H] = dg_t [rows, 4H] * Whh [4H, H]
			tensor.GemmThreads(threads, false, false, hi-lo, h, g, 1, l.dg[(lo*T+t)*g:], T*g, whh, h, 0, dh, h)
		}
	})
	l.recurrentGrad(l.dg, l.hs)
	tensor.SumRows(l.B.G.Data, l.dg, n*T, g)
	return l.projectBackward("lstm", l.dg, n*T)
}

// cellBackward turns dh and dc of sample b at step t into the gate
// pre-activation gradients and leaves dc_{t-1} in dc.
func (l *LSTM) cellBackward(b, t int) {
	h, T := l.Hidden, l.t
	o := (b*T + t) * h
	gt := l.xp[4*o : 4*o+4*h]
	d := l.dg[4*o : 4*o+4*h]
	ig, fg, gg, og := gt[:h], gt[h:2*h], gt[2*h:3*h], gt[3*h:4*h]
	tc := l.tc[o : o+h]
	dh, dc := l.dh[b*h:(b+1)*h], l.dc[b*h:(b+1)*h]
	var cp []float32
	if t > 0 {
		cp = l.cs[o-h : o]
	}
	for j := 0; j < h; j++ {
		i, f, gv, ov, tj := ig[j], fg[j], gg[j], og[j], tc[j]
		c := dc[j] + dh[j]*ov*(1-tj*tj)
		p := float32(0)
		if cp != nil {
			p = cp[j]
		}
		d[j] = c * gv * i * (1 - i)
		d[h+j] = c * p * f * (1 - f)
		d[2*h+j] = c * i * (1 - gv*gv)
		d[3*h+j] = dh[j] * tj * ov * (1 - ov)
		dc[j] = c * f
	}
}
