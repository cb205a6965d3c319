package nn

import (
	"fmt"
	"math"
	"sync"

	"github.com/resq-dev/resq/tensor"
)

// Recurrent is the part LSTM and GRU share: the configuration, the
// input-to-hidden projection of all steps (one GEMM) and its backward, the
// sequence geometry and the optional quantization of the recurrent state.
//
// Inputs are [batch, T*In] with the steps of a sample contiguous (row-major
// [batch, T, In]); with Tokens each step is one token id in [0, In) stored
// as a float (the input is [batch, T]) and the projection is a column of
// Wih (a one-hot input without the GEMM).
type Recurrent struct {
	In, Hidden int // features per step (the vocabulary with Tokens), hidden units
	// Seq makes the layer return every step's hidden state, [batch,
	// T*Hidden]; otherwise it returns the last step's, [batch, Hidden].
	Seq bool
	// Tokens: every step's input is a token id in [0, In).
	Tokens bool
	// BPTT > 0 truncates backpropagation through time: the gradient does
	// not flow from a step t with t%BPTT == 0 to step t-1, so it spans at
	// most BPTT steps. 0 backpropagates through the whole sequence.
	BPTT int
	// StateBits > 0 quantizes the hidden state h (in [-1, 1]) after every
	// step to signed StateBits bits, h = round(h*L)/L with L =
	// 2^(StateBits-1)-1; the backward pass treats the rounding as the
	// identity (straight-through). 0 keeps the state in float.
	StateBits int
	// SkipInputGrad makes Backward return nil instead of dX (Build sets it
	// on the first layer).
	SkipInputGrad bool

	Wih, Whh *Param // [G*Hidden, In] and [G*Hidden, Hidden], G gates

	gates int
	idx   int
	n, t  int            // batch and steps of the last Forward
	x     *tensor.Tensor // the last input (owned by the caller)
	dx    *tensor.Tensor // [batch, T*In]
	hprev []float32      // [batch*T, Hidden]: h of the step before, 0 for t = 0
}

func newRecurrent(in, hidden, gates int, tokens bool) Recurrent {
	if in <= 0 || hidden <= 0 {
		panic(fmt.Sprintf("nn: recurrent: bad size in=%d hidden=%d", in, hidden))
	}
	g := gates * hidden
	return Recurrent{
		In: in, Hidden: hidden, Tokens: tokens, gates: gates,
		Wih: &Param{Name: "weight_ih", W: tensor.New(g, in), G: tensor.New(g, in), Quantizable: true, Decay: true, Groups: gates},
		Whh: &Param{Name: "weight_hh", W: tensor.New(g, hidden), G: tensor.New(g, hidden), Quantizable: true, Decay: true, Groups: gates},
	}
}

func (r *Recurrent) setIndex(i int) { r.idx = i }

// stepIn is the number of input values per step.
func (r *Recurrent) stepIn() int {
	if r.Tokens {
		return 1
	}
	return r.In
}

// shape checks x [batch, T*stepIn] and records batch and T.
func (r *Recurrent) shape(kind string, x *tensor.Tensor) (n, t int) {
	si := r.stepIn()
	if len(x.Shape) != 2 || x.Shape[1] == 0 || x.Shape[1]%si != 0 {
		panic(fmt.Sprintf("nn: %s %d: input %v is not [batch, steps*%d]", kind, r.idx, x.Shape, si))
	}
	r.x, r.n, r.t = x, x.Shape[0], x.Shape[1]/si
	return r.n, r.t
}

// project sets xp [rows, G*Hidden] = x*Wihᵀ + bias for x [rows, In], or
// for token ids the columns of Wih plus bias.
func (r *Recurrent) project(kind string, xp, x []float32, rows int, bias []float32) {
	g := r.gates * r.Hidden
	w := r.Wih.Value().Data
	if !r.Tokens {
		tensor.Gemm(false, true, rows, g, r.In, 1, x, r.In, w, r.In, 0, xp, g)
		tensor.AddBiasRows(xp, bias, rows, g)
		return
	}
	for i := 0; i < rows; i++ {
		id := r.token(kind, x[i])
		dst := xp[i*g : i*g+g]
		for j := range dst {
			dst[j] = w[j*r.In+id] + bias[j]
		}
	}
}

// token returns the id stored in v, panicking when it is not an integer in
// [0, In) (datasets check their ids when they load).
func (r *Recurrent) token(kind string, v float32) int {
	id := int(v)
	if float32(id) != v || id < 0 || id >= r.In {
		panic(fmt.Sprintf("nn: %s %d: token %v not an integer in [0, %d)", kind, r.idx, v, r.In))
	}
	return id
}

// projectBackward overwrites Wih.G from dxp [rows, G*Hidden] and returns
// dx (nil with SkipInputGrad or Tokens).
func (r *Recurrent) projectBackward(kind string, dxp []float32, rows int) *tensor.Tensor {
	g := r.gates * r.Hidden
	x := r.x.Data
	if r.Tokens {
		gw := r.Wih.G.Data
		clear(gw)
		for i := 0; i < rows; i++ {
			id := r.token(kind, x[i])
			src := dxp[i*g : i*g+g]
			for j, v := range src {
				gw[j*r.In+id] += v
			}
		}
		return nil
	}
	tensor.Gemm(true, false, g, r.In, rows, 1, dxp, g, x, r.In, 0, r.Wih.G.Data, r.In)
	if r.SkipInputGrad {
		return nil
	}
	r.dx = ensure(r.dx, r.x.Shape...)
	tensor.Gemm(false, false, rows, r.In, g, 1, dxp, g, r.Wih.Value().Data, r.In, 0, r.dx.Data, r.In)
	return r.dx
}

// recurrentGrad overwrites Whh.G = Σ_t dgᵀ_t h_{t-1} for dg [batch*T,
// G*Hidden] (the gradient of the recurrent pre-activations) and hs [batch,
// T, Hidden], the states of the last Forward, as one GEMM.
func (r *Recurrent) recurrentGrad(dg, hs []float32) {
	n, t, h := r.n, r.t, r.Hidden
	r.hprev = grow(r.hprev, n*t*h)
	for b := 0; b < n; b++ {
		row := r.hprev[b*t*h : (b+1)*t*h]
		clear(row[:h])
		copy(row[h:], hs[b*t*h:(b+1)*t*h-h])
	}
	g := r.gates * h
	tensor.Gemm(true, false, g, h, n*t, 1, dg, g, r.hprev, h, 0, r.Whh.G.Data, h)
}

// cut reports whether the gradient stops between step t and t-1.
func (r *Recurrent) cut(t int) bool { return t == 0 || (r.BPTT > 0 && t%r.BPTT == 0) }

// quantizeState rounds h to the StateBits grid (no-op when 0).
func (r *Recurrent) quantizeState(h []float32) {
	if r.StateBits <= 0 {
		return
	}
	l := float32(int(1)<<(r.StateBits-1) - 1)
	for i, v := range h {
		h[i] = float32(math.Round(float64(v*l))) / l
	}
}

// output returns y for the states hs [batch, T, Hidden]: a view of all of
// them with Seq, else a copy of the last step's.
func (r *Recurrent) output(y *tensor.Tensor, hs []float32) *tensor.Tensor {
	n, t, h := r.n, r.t, r.Hidden
	if r.Seq {
		return view(y, hs[:n*t*h], n, t*h)
	}
	y = ensure(y, n, h)
	for b := 0; b < n; b++ {
		copy(y.Data[b*h:(b+1)*h], hs[(b*t+t-1)*h:(b*t+t)*h])
	}
	return y
}

// addOutputGrad adds the gradient of step t's output from dy to dh, the
// rows [lo, hi) of the batch's [batch, Hidden] state gradient.
func (r *Recurrent) addOutputGrad(dh []float32, dy *tensor.Tensor, t, lo, hi int) {
	T, h := r.t, r.Hidden
	if r.Seq {
		for b := lo; b < hi; b++ {
			tensor.Axpy(dh[(b-lo)*h:(b-lo+1)*h], 1, dy.Data[(b*T+t)*h:(b*T+t+1)*h])
		}
	} else if t == T-1 {
		tensor.Axpy(dh[:(hi-lo)*h], 1, dy.Data[lo*h:hi*h])
	}
}

// checkGrad panics unless dy matches the last output.
func (r *Recurrent) checkGrad(kind string, dy *tensor.Tensor) {
	if r.x == nil {
		panic(fmt.Sprintf("nn: %s %d: Backward before Forward", kind, r.idx))
	}
	w := r.Hidden
	if r.Seq {
		w *= r.t
	}
	if len(dy.Shape) != 2 || dy.Shape[0] != r.n || dy.Shape[1] != w {
		panic(fmt.Sprintf("nn: %s %d: gradient %v does not match output [%d %d]", kind, r.idx, dy.Shape, r.n, w))
	}
}

// grow returns s with length n, reusing its storage when large enough.
func grow(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

// minRowsPerPart keeps a part's rows enough to pay for its goroutine and
// for GEMMs of that height.
const minRowsPerPart = 16

// forParts splits the batch [0, n) into up to tensor.Threads() contiguous
// parts and runs f on each concurrently, for a whole sequence: the
// samples of a batch are independent, so each part runs its own
// recurrence, with threads goroutines for its GEMMs (the others' cores
// are busy with their parts), and the parts meet only at the end. The
// result does not depend on the split.
func forParts(n int, f func(lo, hi, threads int)) {
	all := tensor.Threads()
	parts := min(all, n/minRowsPerPart)
	if parts <= 1 {
		f(0, n, all)
		return
	}
	var wg sync.WaitGroup
	for p := 1; p < parts; p++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi, 1)
		}(n*p/parts, n*(p+1)/parts)
	}
	f(0, n/parts, 1)
	wg.Wait()
}
