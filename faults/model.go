package faults

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/tensor"
)

// subject is a model under test: its fault-free stored memory and an
// evaluation of a (corrupted) copy of it on the test split.
type subject interface {
	memory() memory
	// eval returns the number of misclassified test samples, whether any
	// logit is non-finite and the activation bits af flipped (af nil: no
	// activation faults).
	eval(mem memory, af *actFaults) (wrong int, nonFinite bool, flips int, err error)
	// serial reports whether evaluations must not run concurrently.
	serial() bool
}

// packedSubject is a packed model (float epilogue or integer-only).
type packedSubject struct {
	m     *packed.Model
	img   *packed.Image
	mem   memory
	test  data.Split
	codes []uint8 // integer mode: the test inputs on the model's input grid
}

func newPacked(m *packed.Model, img *packed.Image, test data.Split) (*packedSubject, error) {
	if test.D != tensor.Numel(m.In) {
		return nil, fmt.Errorf("faults: the model takes %d inputs per sample, the data has %d", tensor.Numel(m.In), test.D)
	}
	p := &packedSubject{m: m, img: img, test: test}
	if img.Integer {
		p.codes = make([]uint8, len(test.X))
		m.QuantizeInput(p.codes, test.X)
	}
	for _, l := range img.Layers {
		p.mem = append(p.mem, region{kind: kindCodes, bits: l.Bits, enc: l.Encoding, rows: l.Rows, cols: l.Cols, b: l.Codes})
	}
	for _, l := range img.Layers {
		if img.Integer {
			for _, w := range [][]uint32{l.Bias, l.Mult} {
				p.mem = append(p.mem, region{scale: true, kind: kindI32, rows: 1, cols: len(w), b: wordsToBytes(w)})
			}
			p.mem = append(p.mem, region{scale: true, kind: kindU8, rows: 1, cols: len(l.Shift), b: shiftBytes(l.Shift)})
			continue
		}
		for _, w := range [][]uint32{l.Step, l.Bias} {
			p.mem = append(p.mem, region{scale: true, kind: kindF32, rows: 1, cols: len(w), b: wordsToBytes(w)})
		}
	}
	return p, nil
}

// shiftBytes stores requantization shifts (1..62) one byte each, as the
// generated C does.
func shiftBytes(w []uint32) []byte {
	b := make([]byte, len(w))
	for i, v := range w {
		b[i] = byte(v)
	}
	return b
}

func shiftWords(b []byte) []uint32 {
	w := make([]uint32, len(b))
	for i, v := range b {
		w[i] = uint32(v)
	}
	return w
}

func (p *packedSubject) memory() memory { return p.mem }
func (p *packedSubject) serial() bool   { return false }

// image rebuilds a packed.Image from memory laid out as newPacked does.
func (p *packedSubject) image(mem memory) *packed.Image {
	img := p.img.Clone()
	nl := len(img.Layers)
	for i := range img.Layers {
		l := &img.Layers[i]
		l.Codes = mem[i].b
		if img.Integer {
			l.Bias, l.Mult, l.Shift = bytesToWords(mem[nl+3*i].b), bytesToWords(mem[nl+3*i+1].b), shiftWords(mem[nl+3*i+2].b)
		} else {
			l.Step, l.Bias = bytesToWords(mem[nl+2*i].b), bytesToWords(mem[nl+2*i+1].b)
		}
	}
	return img
}

func (p *packedSubject) eval(mem memory, af *actFaults) (int, bool, int, error) {
	fm, err := p.m.WithImage(p.image(mem))
	if err != nil {
		return 0, false, 0, err
	}
	n, c := p.test.N, p.m.Classes
	if p.img.Integer {
		if af != nil {
			pred, _, flips := inferActs(fm, p.codes, n, *af)
			return countWrong(pred, p.test.Y), false, flips, nil
		}
		pred := make([]int32, n)
		logits := make([]int32, n*c)
		fm.InferInt(logits, pred, p.codes, n)
		return countWrong(pred, p.test.Y), false, 0, nil
	}
	return p.evalDynamic(fm, af)
}

// evalDynamic scores the float-epilogue model fm (the corrupted weights)
// with the activation faults af (nil: none).
func (p *packedSubject) evalDynamic(fm *packed.Model, af *actFaults) (int, bool, int, error) {
	n, c := p.test.N, p.m.Classes
	pred := make([]int32, n)
	logits := make([]float32, n*c)
	fm.PredictLogits(pred, logits, p.test.X, n)
	flipped := 0
	if af != nil {
		// A sample with flipped activation bits gets the class of its
		// faulty 8-bit pass (Predict's recheck would recompute it from
		// fault-free activations); the others keep Predict's.
		fp, fl, flips := inferActsFloat(fm, p.test.X, n, *af)
		for i, f := range flips {
			if f > 0 {
				pred[i] = fp[i]
				copy(logits[i*c:(i+1)*c], fl[i*c:(i+1)*c])
				flipped += f
			}
		}
	}
	_, bad, _ := scoreLogits(logits, c, p.test.Y)
	return countWrong(pred, p.test.Y), bad, flipped, nil
}

// scoreLogits counts the samples whose argmax (lowest index on ties) is
// not the label and reports non-finite logits.
func scoreLogits(logits []float32, c int, y []int32) (int, bool, error) {
	wrong, bad := 0, false
	for i, lab := range y {
		row := logits[i*c : (i+1)*c]
		best := 0
		for j, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				bad = true
			}
			if v > row[best] {
				best = j
			}
		}
		if int32(best) != lab {
			wrong++
		}
	}
	return wrong, bad, nil
}

func countWrong(pred, y []int32) int {
	n := 0
	for i, p := range pred {
		if p != y[i] {
			n++
		}
	}
	return n
}

// floatSubject is a float32 checkpoint: its weight matrices and kernels
// are the codes part, biases, BatchNorm parameters and running statistics
// the scales part, all as IEEE-754 float32 words.
type floatSubject struct {
	m     *nn.Model
	ts    []*tensor.Tensor // in memory order
	mem   memory
	test  data.Split
	batch int
	mu    sync.Mutex
}

func newFloat(m *nn.Model, test data.Split) (*floatSubject, error) {
	if test.D != tensor.Numel(m.In) {
		return nil, fmt.Errorf("faults: the model takes %d inputs per sample, the data has %d", tensor.Numel(m.In), test.D)
	}
	f := &floatSubject{m: m, test: test, batch: 1000}
	var scales []*tensor.Tensor
	for _, p := range m.Params() {
		if p.Quantizable {
			f.add(p.W, false)
		} else {
			scales = append(scales, p.W)
		}
	}
	for _, b := range m.Buffers() {
		scales = append(scales, b.T)
	}
	for _, t := range scales {
		f.add(t, true)
	}
	return f, nil
}

func (f *floatSubject) add(t *tensor.Tensor, scale bool) {
	rows := 1
	if !scale && len(t.Shape) > 1 {
		rows = t.Shape[0]
	}
	f.ts = append(f.ts, t)
	f.mem = append(f.mem, region{scale: scale, kind: kindF32, rows: rows, cols: t.Size() / rows, b: f32Bytes(t.Data)})
}

func (f *floatSubject) memory() memory { return f.mem }
func (f *floatSubject) serial() bool   { return true }

func (f *floatSubject) eval(mem memory, af *actFaults) (int, bool, int, error) {
	if af != nil {
		return 0, false, 0, errNoActs
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, t := range f.ts {
		for j := range t.Data {
			t.Data[j] = mem[i].f32(j)
		}
	}
	defer func() { // leave the model fault-free
		for i, t := range f.ts {
			for j := range t.Data {
				t.Data[j] = f.mem[i].f32(j)
			}
		}
	}()
	n, c, d := f.test.N, f.m.Classes, f.test.D
	wrong, bad := 0, false
	for i := 0; i < n; i += f.batch {
		k := min(f.batch, n-i)
		x := &tensor.Tensor{Shape: []int{k, d}, Data: f.test.X[i*d : (i+k)*d]}
		y := f.m.Forward(x, false)
		w, b, _ := scoreLogits(y.Data[:k*c], c, f.test.Y[i:i+k])
		wrong += w
		bad = bad || b
	}
	return wrong, bad, 0, nil
}

// workers returns how many trials run at once.
func workers(s subject, n int) int {
	if s.serial() {
		return 1
	}
	if n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}
