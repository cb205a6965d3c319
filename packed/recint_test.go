package packed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
)

// refProduct is the plain loop of a recurrent matrix product with 8-bit
// activation codes: each row of x [n, cols] coded by quantizeRow, y =
// (sum (u-off)*code) * scale * step + bias with int64 sums.
func refProduct(y, x []float32, n int, codes []int8, rows, cols, bits int, step, bias []float32) {
	amax := 255
	if bits == 8 {
		amax = 127
	}
	u := make([]uint8, cols)
	for i := 0; i < n; i++ {
		scale, off := quantizeRow(u, x[i*cols:(i+1)*cols], amax)
		for j := 0; j < rows; j++ {
			var s int64
			for q := 0; q < cols; q++ {
				s += (int64(u[q]) - int64(off)) * int64(codes[j*cols+q])
			}
			y[i*rows+j] = float32(s)*(scale*step[j]) + bias[j]
		}
	}
}

// TestRecurrentProductMatchesPlainLoop checks the integer products of a
// recurrent step (8-bit codes on the T2, Gemv and Gemm paths by row count)
// against the plain loop over odd sizes, and the two-digit products
// against the float products within their rounding.
func TestRecurrentProductMatchesPlainLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 51))
	for _, bits := range []int{2, 3, 8} {
		q := qmax(bits)
		for _, hidden := range []int{1, 3, 17} {
			for _, in := range []int{1, 5, 29, 3} {
				rows := 4 * hidden
				codes := make([]int8, rows*in)
				for k := range codes {
					codes[k] = int8(r.IntN(2*q+1) - q)
				}
				step, bias := make([]float32, rows), make([]float32, rows)
				for j := range step {
					step[j], bias[j] = float32(0.01+r.Float64()), float32(r.NormFloat64())
				}
				o := matrixOp(codes, rows, in, bits, step, bias)
				for _, n := range []int{1, 3, 130} {
					x := make([]float32, n*in)
					for k := range x {
						x[k] = float32(r.NormFloat64())
						if n == 3 {
							x[k] = float32(math.Abs(float64(x[k]))) // nonnegative rows: off = 0
						}
					}
					s := &scratch{xq: make([]uint8, rowChunk*o.ldx()), xq2: make([]uint8, rowChunk*o.ldx()),
						acc: make([]int32, rowChunk*16*((rows+15)/16)), acc2: make([]int32, rowChunk*16*((rows+15)/16)),
						scale: make([]float32, 64), off: make([]int32, 64)}
					got, want, wide := make([]float32, n*rows), make([]float32, n*rows), make([]float32, n*rows)
					o.product(s, got, x, n, false)
					o.product(s, wide, x, n, true)
					refProduct(want, x, n, codes, rows, in, bits, step, bias)
					base := float64(o.amax + 1)
					for k := range got {
						j, i := k%rows, k/rows
						var exact, l1 float64
						for c := 0; c < in; c++ {
							exact += float64(x[i*in+c]) * float64(codes[j*in+c])
							l1 += math.Abs(float64(codes[j*in+c]))
						}
						exact = exact*float64(step[j]) + float64(bias[j])
						if got[k] != want[k] {
							t.Fatalf("bits %d in %d hidden %d n %d: output %d = %v, plain loop %v", bits, in, hidden, n, k, got[k], want[k])
						}
						// Two digits: each code off by at most half a level
						// of base^2-1 (signed rows: base^2/2-1) over max|x|.
						lo, hi := minMax64(x[i*in : (i+1)*in])
						levels := base*base - 1
						if lo < 0 {
							levels = base*base/2 - 1
						}
						tol := 0.5*max(hi, -lo)/levels*l1*float64(step[j]) + 1e-5*(1+math.Abs(exact))
						if d := math.Abs(float64(wide[k]) - exact); d > tol {
							t.Fatalf("bits %d in %d hidden %d n %d: two-digit output %d = %v, float %v", bits, in, hidden, n, k, wide[k], exact)
						}
					}
				}
			}
		}
	}
}

func minMax64(x []float32) (lo, hi float64) {
	for _, v := range x {
		lo, hi = min(lo, float64(v)), max(hi, float64(v))
	}
	return lo, hi
}

// TestRecurrentStepMatchesPlainLoop runs the integer recurrence of LSTM
// and GRU layers over odd sizes against a plain-loop reference (the
// products of refProduct, the cells in nn's order), bit for bit.
func TestRecurrentStepMatchesPlainLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(53, 53))
	for _, kind := range []string{"lstm", "gru"} {
		for _, hidden := range []int{1, 3, 17} {
			for _, in := range []int{1, 5, 29} {
				for _, bits := range []int{2, 4} {
					const steps, rows = 4, 6
					// 4 bits: a step per gate, state bits 3, token inputs.
					tokens := bits == 4
					spec, shape, stepIn := fmt.Sprintf("%s:%d-%d-3", kind, in, hidden), []int{steps, in}, in
					if tokens {
						spec, shape, stepIn = spec+",tokens", []int{steps}, 1
					}
					_, pm := recModel(t, spec, shape, quant.Config{Bits: bits, PerGate: tokens}, 3*(bits-2)/2, uint64(hidden*in+bits), 3)
					ro := pm.ops[0].rec
					x := make([]float32, rows*steps*stepIn)
					for k := range x {
						x[k] = float32(r.NormFloat64())
						if tokens {
							x[k] = float32(r.IntN(in))
						}
					}
					s := pm.getScratch()
					got := make([]float32, rows*hidden)
					ro.forwardInt(s, got, x, rows, false)
					pm.pool.Put(s)
					if want := refRecurrence(ro, x, rows); !slices.Equal(got, want) {
						t.Fatalf("%s %d bits: integer recurrence %v, plain loop %v", spec, bits, got, want)
					}
				}
			}
		}
	}
}

// refRecurrence is the plain loop of recOp.forwardInt for the last step's
// state (token inputs: the columns of code*step plus the bias).
func refRecurrence(o *recOp, x []float32, rows int) []float32 {
	l, T := o.arch, o.steps
	h, g := l.Out, l.gates()*l.Out
	codesOf := func(d *op) []int8 {
		c := make([]int8, d.rows*d.cols)
		for j := 0; j < d.rows; j++ {
			for q := 0; q < d.cols; q++ {
				c[j*d.cols+q] = d.code(j, q)
			}
		}
		return c
	}
	ih, hh := o.ints.ih, o.ints.hh
	whh := codesOf(hh)
	xp := make([]float32, rows*T*g)
	if ih != nil {
		refProduct(xp, x, rows*T, codesOf(ih), g, l.In, l.Bits, ih.step, ih.bias)
	} else {
		for i, v := range x[:rows*T] {
			for j := 0; j < g; j++ {
				xp[i*g+j] = o.wih[j*l.In+int(v)] + o.bias[j]
			}
		}
	}
	state, c, tc := make([]float32, rows*h), make([]float32, rows*h), make([]float32, h)
	hg := make([]float32, rows*g)
	for t := 0; t < T; t++ {
		if t > 0 {
			refProduct(hg, state, rows, whh, g, h, l.Rec.HHBits, hh.step, hh.bias)
		}
		for i := 0; i < rows; i++ {
			gt, hi := xp[(i*T+t)*g:(i*T+t+1)*g], state[i*h:(i+1)*h]
			if l.Kind == "gru" {
				hgi := hh.bias
				if t > 0 {
					hgi = hg[i*g : (i+1)*g]
				}
				gruCell(hi, gt, hgi, t == 0)
			} else {
				for j := 0; t > 0 && j < g; j++ {
					gt[j] += hg[i*g+j]
				}
				lstmCell(hi, c[i*h:(i+1)*h], tc, gt, t == 0)
			}
			quantizeState(hi, l.Rec.StateBits)
		}
	}
	return state
}

// recModel exports a random quantized recurrent model and returns it with
// its packed form.
func recModel(t *testing.T, spec string, in []int, cfg quant.Config, stateBits int, seed uint64, gain float32) (*nn.Model, *Model) {
	t.Helper()
	m, err := nn.Build(spec, in, seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		if rc, ok := nn.RecurrentOf(l); ok {
			rc.StateBits = stateBits
			for _, p := range l.Params() {
				for i := range p.W.Data {
					p.W.Data[i] *= gain
				}
			}
		}
	}
	s, err := quant.Attach(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.resq")
	if _, err := Export(path, m, s, Meta{}); err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	pm, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m, pm
}

// relErr is the largest |got-want| of a logits row relative to
// max(1, max|want|), the scale of Predict's decision check.
func relErr(got, want []float32) float64 {
	scale, d := 1.0, 0.0
	for j, v := range want {
		scale = max(scale, math.Abs(float64(v)))
		d = max(d, math.Abs(float64(got[j]-v)))
	}
	return d / scale
}

// TestRecurrentIntegerClose measures the relative logit error of the
// integer recurrence's 8-bit and two-digit passes against nn's
// simulated-quantized forward on random LSTM and GRU models (the figures
// behind tauRec8 and tauRec16: a margin error is at most twice the
// logit error), and checks that Predict equals nn's predictions on every
// sample, close calls included.
func TestRecurrentIntegerClose(t *testing.T) {
	r := rand.New(rand.NewPCG(52, 52))
	tests := []struct {
		spec      string
		in        []int
		cfg       quant.Config
		stateBits int
		gain      float32
	}{
		{"lstm:5-17-4", []int{12, 5}, quant.Config{Bits: 2}, 0, 3},
		{"lstm:29-12-3", []int{8, 29}, quant.Config{Bits: 3, PerChannel: true}, 0, 2},
		{"gru:4-17-5", []int{10, 4}, quant.Config{Bits: 2, PerChannel: true}, 0, 3},
		{"gru:5-9x2-4", []int{6, 5}, quant.Config{Bits: 4, FirstLastBits: 8}, 0, 3},
		{"lstm:1-3-3", []int{20, 1}, quant.Config{Bits: 8}, 0, 3},
		{"lstm:5-9x2-3", []int{7, 5}, quant.Config{Bits: 2}, 3, 3},
		{"lstm:7-8-3,tokens", []int{9}, quant.Config{Bits: 2}, 0, 3},
	}
	const batch = 400
	var worst8, worst16 float64
	closeCalls := 0
	for k, tt := range tests {
		m, pm := recModel(t, tt.spec, tt.in, tt.cfg, tt.stateBits, uint64(60+k), tt.gain)
		x := tensor.New(batch, pm.dim)
		for i := range x.Data {
			if tt.spec[len(tt.spec)-6:] == "tokens" {
				x.Data[i] = float32(r.IntN(7))
			} else {
				x.Data[i] = float32(r.NormFloat64())
			}
		}
		want := m.Forward(x, false)
		wantPred := make([]int32, batch)
		m.Predict(wantPred, x)
		got := make([]float32, batch*pm.Classes)
		pm.Infer(got, x.Data, batch)
		wide := make([]float32, batch*pm.Classes)
		s := pm.getWideScratch()
		for r0 := 0; r0 < batch; r0 += pm.chunk {
			rows := min(pm.chunk, batch-r0)
			pm.forwardWide(s, wide[r0*pm.Classes:(r0+rows)*pm.Classes], x.Data[r0*pm.dim:(r0+rows)*pm.dim], rows)
		}
		pm.pool.Put(s)
		w8, w16 := 0.0, 0.0
		for i := 0; i < batch; i++ {
			row := want.Data[i*pm.Classes : (i+1)*pm.Classes]
			w8 = max(w8, relErr(got[i*pm.Classes:(i+1)*pm.Classes], row))
			w16 = max(w16, relErr(wide[i*pm.Classes:(i+1)*pm.Classes], row))
		}
		worst8, worst16 = max(worst8, w8), max(worst16, w16)
		pred := make([]int32, batch)
		n := pm.PredictStats(pred, got, x.Data, batch)
		closeCalls += n.Wide
		for i := range pred {
			if pred[i] != wantPred[i] {
				t.Errorf("%s: sample %d predicted %d, nn %d", tt.spec, i, pred[i], wantPred[i])
			}
		}
		t.Logf("%s: worst relative logit error 8-bit %.4g, two-digit %.3g; rechecked %d, float %d of %d", tt.spec, w8, w16, n.Wide, n.Float, batch)
	}
	if worst8 > tauRec8/2 || worst16 > tauRec16/2 {
		t.Errorf("worst relative logit errors %.4g (8-bit), %.3g (two-digit): the margins %.4g and %.3g exceed the taus %g and %g",
			worst8, worst16, 2*worst8, 2*worst16, tauRec8, tauRec16)
	}
	if closeCalls == 0 {
		t.Errorf("no close calls: the recheck was not exercised")
	}
}
