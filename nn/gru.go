package nn

import (
	"github.com/resq-dev/resq/tensor"
)

// GRU is one gated recurrent unit layer over a sequence (Cho et al. 2014,
// in the formulation of PyTorch's nn.GRU):
//
//	[r z] = sigmoid(x_t Wih[r z]ᵀ + b[r z] + h_{t-1} Whh[r z]ᵀ + bhh[r z])
//	n     = tanh(x_t Wih[n]ᵀ + b[n] + r*(h_{t-1} Whh[n]ᵀ + bhh[n]))
//	h_t   = (1-z)*n + z*h_{t-1}                        h_{-1} = 0
//
// Wih is [3H, In], Whh [3H, H], B and BHH [3H], the gates stacked in the
// order r, z, n (PyTorch's). The GEMM structure is the LSTM's: one GEMM for
// the input projections of all steps, one per step for the recurrent part.
type GRU struct {
	Recurrent
	B, BHH *Param // [3H] input-side and recurrent-side biases

	xp, hp, hs []float32 // [batch, T, 3H] gates (activated), recurrent pre-activations; [batch, T, H] h
	dxp, dhp   []float32 // [batch, T, 3H] gradients of the input and recurrent pre-activations
	dh, dhz    []float32 // [batch, H]
	y          *tensor.Tensor
}

// NewGRU returns a GRU layer with zero weights (Build initialises them).
func NewGRU(in, hidden int, tokens bool) *GRU {
	l := &GRU{Recurrent: newRecurrent(in, hidden, 3, tokens)}
	l.B = &Param{Name: "bias", W: tensor.New(3 * hidden), G: tensor.New(3 * hidden)}
	l.BHH = &Param{Name: "bias_hh", W: tensor.New(3 * hidden), G: tensor.New(3 * hidden)}
	return l
}

// Kind returns "gru".
func (l *GRU) Kind() string { return "gru" }

// Params returns [Wih, Whh, B, BHH].
func (l *GRU) Params() []*Param { return []*Param{l.Wih, l.Whh, l.B, l.BHH} }

// Forward runs the sequence x [batch, T*In] (or [batch, T] token ids) and
// returns [batch, T*H] with Seq, else [batch, H].
func (l *GRU) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	n, T := l.shape("gru", x)
	h := l.Hidden
	g := 3 * h
	l.xp, l.hp, l.hs = grow(l.xp, n*T*g), grow(l.hp, n*T*g), grow(l.hs, n*T*h)
	l.project("gru", l.xp, x.Data, n*T, l.B.Value().Data)
	whh, bhh := l.Whh.Value().Data, l.BHH.Value().Data
	forParts(n, func(lo, hi, threads int) {
		for t := 0; t < T; t++ {
			for b := lo; b < hi; b++ {
				copy(l.hp[(b*T+t)*g:(b*T+t+1)*g], bhh)
			}
			if t > 0 { // [rows, 3H] += h_{t-1} [rows, H] * Whhᵀ
				tensor.GemmThreads(threads, false, true, hi-lo, g, h, 1, l.hs[(lo*T+t-1)*h:], T*h, whh, h, 1, l.hp[(lo*T+t)*g:], T*g)
			}
			for b := lo; b < hi; b++ {
				l.cell(b, t)
			}
		}
	})
	l.y = l.output(l.y, l.hs)
	return l.y
}

// cell computes the gates and h_t of sample b at step t.
func (l *GRU) cell(b, t int) {
	h, T := l.Hidden, l.t
	o := (b*T + t) * h
	xg, hg := l.xp[3*o:3*o+3*h], l.hp[3*o:3*o+3*h]
	rz := xg[:2*h]
	for j := range rz {
		rz[j] += hg[j]
	}
	sigmoidSlice(rz, rz)
	r, z, nn := xg[:h], xg[h:2*h], xg[2*h:]
	hn := hg[2*h:]
	for j := range nn {
		nn[j] += r[j] * hn[j]
	}
	tanhSlice(nn, nn)
	hh := l.hs[o : o+h]
	if t == 0 {
		for j := range hh {
			hh[j] = (1 - z[j]) * nn[j]
		}
	} else {
		hp := l.hs[o-h : o]
		for j := range hh {
			hh[j] = (1-z[j])*nn[j] + z[j]*hp[j]
		}
	}
	l.quantizeState(hh)
}

// Backward takes dy (the shape Forward returned), overwrites the
// gradients of Wih, Whh, B and BHH, and returns dx (nil with
// SkipInputGrad or Tokens).
func (l *GRU) Backward(dy *tensor.Tensor) *tensor.Tensor {
	l.checkGrad("gru", dy)
	n, T, h := l.n, l.t, l.Hidden
	g := 3 * h
	l.dxp, l.dhp = grow(l.dxp, n*T*g), grow(l.dhp, n*T*g)
	l.dh, l.dhz = grow(l.dh, n*h), grow(l.dhz, n*h)
	clear(l.dh)
	whh := l.Whh.Value().Data
	forParts(n, func(lo, hi, threads int) {
		dh, dhz := l.dh[lo*h:hi*h], l.dhz[lo*h:hi*h]
		for t := T - 1; t >= 0; t-- {
			l.addOutputGrad(dh, dy, t, lo, hi)
			for b := lo; b < hi; b++ {
				l.cellBackward(b, t, dh, dhz, lo)
			}
			if l.cut(t) {
				clear(dh)
				continue
			}
			// dh_{t-1} [rows, H] = dh*z + dhp_t [rows, 3H] * Whh [3H, H]
			tensor.GemmThreads(threads, false, false, hi-lo, h, g, 1, l.dhp[(lo*T+t)*g:], T*g, whh, h, 1, dhz, h)
			dh, dhz = dhz, dh
		}
	})
	l.recurrentGrad(l.dhp, l.hs)
	tensor.SumRows(l.BHH.G.Data, l.dhp, n*T, g)
	tensor.SumRows(l.B.G.Data, l.dxp, n*T, g)
	return l.projectBackward("gru", l.dxp, n*T)
}

// cellBackward turns dh of sample b at step t into the pre-activation
// gradients and leaves dh*z (the direct path to h_{t-1}) in dhz; dh and
// dhz hold the rows of the part starting at sample lo.
func (l *GRU) cellBackward(b, t int, dhPart, dhzPart []float32, lo int) {
	h, T := l.Hidden, l.t
	o := (b*T + t) * h
	xg, hg := l.xp[3*o:3*o+3*h], l.hp[3*o:3*o+3*h]
	dx, dhp := l.dxp[3*o:3*o+3*h], l.dhp[3*o:3*o+3*h]
	r, z, nn := xg[:h], xg[h:2*h], xg[2*h:]
	hn := hg[2*h:]
	dh, dhz := dhPart[(b-lo)*h:(b-lo+1)*h], dhzPart[(b-lo)*h:(b-lo+1)*h]
	var hp []float32
	if t > 0 {
		hp = l.hs[o-h : o]
	}
	for j := 0; j < h; j++ {
		p := float32(0)
		if hp != nil {
			p = hp[j]
		}
		d := dh[j]
		an := d * (1 - z[j]) * (1 - nn[j]*nn[j])
		ar := an * hn[j] * r[j] * (1 - r[j])
		az := d * (p - nn[j]) * z[j] * (1 - z[j])
		dx[j], dx[h+j], dx[2*h+j] = ar, az, an
		dhp[j], dhp[h+j], dhp[2*h+j] = ar, az, an*r[j]
		dhz[j] = d * z[j]
	}
}
