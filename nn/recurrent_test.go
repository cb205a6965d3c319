package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/resq-dev/resq/tensor"
)

// smallInit draws params from N(0, 0.5²) like initParams, which keeps the
// gates away from saturation so central differences stay accurate.
func recurrentLayers(in, hidden int, tokens bool) []Layer {
	return []Layer{NewLSTM(in, hidden, tokens), NewGRU(in, hidden, tokens)}
}

func TestGradRecurrent(t *testing.T) {
	for _, c := range []struct{ n, steps, in, hidden int }{
		{1, 1, 1, 1}, {2, 3, 4, 3}, {3, 5, 2, 5}, {1, 17, 3, 2}, {4, 2, 7, 9},
	} {
		for _, seq := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(uint64(c.n*131+c.steps), uint64(c.hidden)))
			for _, l := range recurrentLayers(c.in, c.hidden, false) {
				setSeq(l, seq)
				initParams(rng, l)
				x := randTensor(rng, c.n, c.steps*c.in)
				gradCheck(t, fmt.Sprintf("%s %+v seq=%v", l.Kind(), c, seq), l, x, true, rng)
			}
		}
	}
}

func TestGradRecurrentTokens(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	n, steps, vocab := 3, 6, 5
	for _, l := range recurrentLayers(vocab, 4, true) {
		setSeq(l, true)
		initParams(rng, l)
		x := tensor.New(n, steps)
		for i := range x.Data {
			x.Data[i] = float32(rng.IntN(vocab))
		}
		gradCheck(t, l.Kind()+" tokens", l, x, true, rng)
	}
}

// TestRecurrentTokensMatchOneHot checks that token ids compute what the
// one-hot encoded input computes.
func TestRecurrentTokensMatchOneHot(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	n, steps, vocab, h := 2, 4, 6, 3
	ids := tensor.New(n, steps)
	oh := tensor.New(n, steps*vocab)
	for i := range ids.Data {
		id := rng.IntN(vocab)
		ids.Data[i] = float32(id)
		oh.Data[i*vocab+id] = 1
	}
	a, b := recurrentLayers(vocab, h, true), recurrentLayers(vocab, h, false)
	for k := range a {
		initParams(rng, a[k])
		for i, p := range a[k].Params() {
			copy(b[k].Params()[i].W.Data, p.W.Data)
		}
		ya, yb := a[k].Forward(ids, false), b[k].Forward(oh, false)
		for i := range ya.Data {
			if d := ya.Data[i] - yb.Data[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%s: y[%d] tokens %v, one-hot %v", a[k].Kind(), i, ya.Data[i], yb.Data[i])
			}
		}
	}
}

// TestRecurrentBPTT: with truncation after one step and only the last
// output used, no gradient reaches the inputs of earlier steps, and a
// truncation as long as the sequence changes nothing.
func TestRecurrentBPTT(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	n, steps, in, h := 2, 5, 3, 4
	x := randTensor(rng, n, steps*in)
	for _, l := range recurrentLayers(in, h, false) {
		initParams(rng, l)
		r := recurrentOf(l)
		dy := randTensor(rng, n, h)
		l.Forward(x, true)
		full := append([]float32(nil), l.Backward(dy).Data...)
		r.BPTT = steps
		l.Forward(x, true)
		same := l.Backward(dy).Data
		for i := range full {
			if full[i] != same[i] {
				t.Fatalf("%s: BPTT=T changed dx[%d]: %v vs %v", l.Kind(), i, full[i], same[i])
			}
		}
		r.BPTT = 1
		l.Forward(x, true)
		dx := l.Backward(dy).Data
		for b := 0; b < n; b++ {
			for i := 0; i < (steps-1)*in; i++ {
				if v := dx[b*steps*in+i]; v != 0 {
					t.Fatalf("%s: BPTT=1: dx of an earlier step is %v", l.Kind(), v)
				}
			}
			nz := false
			for i := (steps - 1) * in; i < steps*in; i++ {
				nz = nz || dx[b*steps*in+i] != 0
			}
			if !nz {
				t.Fatalf("%s: BPTT=1: no gradient at the last step", l.Kind())
			}
		}
	}
}

// TestRecurrentStateBits checks that the hidden states lie on the grid.
func TestRecurrentStateBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	for _, l := range recurrentLayers(3, 5, false) {
		initParams(rng, l)
		setSeq(l, true)
		recurrentOf(l).StateBits = 3
		y := l.Forward(randTensor(rng, 2, 12), false)
		for _, v := range y.Data {
			if k := v * 3; k != float32(int(k)) || v < -1 || v > 1 {
				t.Fatalf("%s: state %v not on the 3-bit grid k/3", l.Kind(), v)
			}
		}
	}
}

func recurrentOf(l Layer) *Recurrent {
	r, _ := RecurrentOf(l)
	return r
}

func setSeq(l Layer, seq bool) { recurrentOf(l).Seq = seq }

// TestRecurrentSplit runs a batch large enough to be split over parts
// (forParts) and compares outputs and gradients with the unsplit run.
func TestRecurrentSplit(t *testing.T) {
	defer tensor.SetThreads(tensor.SetThreads(0))
	rng := rand.New(rand.NewPCG(13, 13))
	x := randTensor(rng, 37, 5*3)
	for _, seq := range []bool{false, true} {
		for _, l := range recurrentLayers(3, 6, false) {
			setSeq(l, seq)
			initParams(rng, l)
			run := func(threads int) ([]float32, []float32, [][]float32) {
				tensor.SetThreads(threads)
				y := append([]float32(nil), l.Forward(x, true).Data...)
				dy := tensor.New(len(y) / 37 * 37)
				for i := range dy.Data {
					dy.Data[i] = float32(i%7) - 3
				}
				dy.Shape = []int{37, len(y) / 37}
				dx := append([]float32(nil), l.Backward(dy).Data...)
				var gs [][]float32
				for _, p := range l.Params() {
					gs = append(gs, append([]float32(nil), p.G.Data...))
				}
				return y, dx, gs
			}
			y1, dx1, g1 := run(1)
			y3, dx3, g3 := run(3) // 37/16: two parts of 18 and 19 rows
			for i := range y1 {
				if y1[i] != y3[i] {
					t.Fatalf("%s seq=%v: y[%d] %v unsplit, %v split", l.Kind(), seq, i, y1[i], y3[i])
				}
			}
			for i := range dx1 {
				if math.Abs(float64(dx1[i]-dx3[i])) > 1e-5 {
					t.Fatalf("%s seq=%v: dx[%d] %v unsplit, %v split", l.Kind(), seq, i, dx1[i], dx3[i])
				}
			}
			for k := range g1 {
				for i := range g1[k] {
					if math.Abs(float64(g1[k][i]-g3[k][i])) > 1e-4*math.Max(1, math.Abs(float64(g1[k][i]))) {
						t.Fatalf("%s seq=%v: grad %d[%d] %v unsplit, %v split", l.Kind(), seq, k, i, g1[k][i], g3[k][i])
					}
				}
			}
		}
	}
}
