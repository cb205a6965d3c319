package packed

import (
	"fmt"
	"math"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/quant"
)

// weightQuant reports how the weight param p is quantized: its bit width
// and steps (1, or one per output row), and TWN's zero thresholds (one per
// step; empty for the rounding threshold D/2). ok is false for a float
// param.
type weightQuant func(p *nn.Param) (bits int, steps, thresh []float32, ok bool)

// fromModel converts m into the packed architecture and layer payloads.
// With lenient set it only sizes the model: it makes no codes, skips what
// the engine cannot run (unknown layers, unquantized weights, inconsistent
// steps) instead of failing and never returns an error, so StoredBytes can
// size the tensors of any model.
func fromModel(m *nn.Model, wq weightQuant, opt Options, lenient bool) (*arch, []*denseData, error) {
	a := &arch{In: append([]int(nil), m.In...), Classes: m.Classes}
	var data []*denseData
	lastWeighted := -1 // index in a.Layers of the last emitted dense/conv
	fail := func(i int, l nn.Layer, format string, args ...any) error {
		return fmt.Errorf("packed: layer %d (%s): %s", i, l.Kind(), fmt.Sprintf(format, args...))
	}
	for i, l := range m.Layers {
		switch l := l.(type) {
		case *nn.Dense, *nn.Conv2D:
			var w, b *nn.Param
			var al archLayer
			switch l := l.(type) {
			case *nn.Dense:
				w, b, al = l.W, l.B, archLayer{Kind: "dense", In: l.In, Out: l.Out}
			case *nn.Conv2D:
				w, b, al = l.W, l.B, archLayer{Kind: "conv", C: l.C, K: l.K, R: l.R, S: l.S, Stride: l.Stride, Pad: l.Pad}
			}
			rows, cols := al.rows(), al.cols()
			bits, steps, thresh, ok := wq(w)
			if !ok {
				if !lenient {
					return nil, nil, fail(i, l, "weights %s are not quantized (export needs a quantized model)", w.Name)
				}
				bits, steps = 32, nil
			}
			if !lenient && (len(w.W.Data) != rows*cols || len(b.W.Data) != rows || (ok && len(steps) != 1 && len(steps) != rows) ||
				(len(thresh) != 0 && (len(thresh) != len(steps) || bits != 2))) {
				return nil, nil, fail(i, l, "weights %v, bias %v and %d steps do not match %dx%d", w.W.Shape, b.W.Shape, len(steps), rows, cols)
			}
			d := &denseData{Step: append([]float32(nil), steps...), Bias: append([]float32(nil), b.W.Data...)}
			// Sizing a sparse layer needs its codes, so lenient mode makes
			// them too when the sparse encoding is on and they can be made.
			codable := ok && len(w.W.Data) == rows*cols && (len(steps) == 1 || len(steps) == rows) &&
				(len(thresh) == 0 || len(thresh) == len(steps)) && bits >= MinBits && bits <= MaxBits
			if ok && (!lenient || (opt.Sparse && codable)) {
				if bits < MinBits || bits > MaxBits {
					return nil, nil, fail(i, l, "%d-bit weights not supported (%d..%d)", bits, MinBits, MaxBits)
				}
				d.Codes = make([]int8, rows*cols)
				for r := 0; r < rows; r++ {
					st := steps[0]
					if len(steps) > 1 {
						st = steps[r]
					}
					dst, wr := d.Codes[r*cols:(r+1)*cols], w.W.Data[r*cols:(r+1)*cols]
					if len(thresh) == 0 {
						quant.Codes(dst, wr, st, qmax(bits))
						continue
					}
					t := thresh[0]
					if len(thresh) > 1 {
						t = thresh[r]
					}
					if t > 0 && st > 0 {
						quant.TernaryCodes(dst, wr, t) // TWN: its own zero threshold
					} else {
						clear(dst) // the weights were all zero when the step was set
					}
				}
			}
			al.Bits, al.Encoding, al.Steps = bits, EncBits, len(steps)
			if bits == 2 && opt.Base3 {
				al.Encoding = EncBase3
			}
			if opt.Sparse && ok && d.Codes != nil {
				chooseSparse(&al, d)
			}
			lastWeighted = len(a.Layers)
			a.Layers = append(a.Layers, al)
			data = append(data, d)
		case *nn.BatchNorm:
			// Fold y = gamma*(x-mean)/sqrt(var+eps) + beta into the
			// preceding layer: steps become per channel.
			if lastWeighted != len(a.Layers)-1 || lastWeighted < 0 || a.Layers[lastWeighted].rows() != l.C || a.Layers[lastWeighted].Bits == 32 ||
				(len(data[lastWeighted].Step) != 1 && len(data[lastWeighted].Step) != l.C) {
				if lenient {
					continue
				}
				return nil, nil, fail(i, l, "batch norm must directly follow a dense or conv layer with %d outputs", l.C)
			}
			al, d := &a.Layers[lastWeighted], data[lastWeighted]
			if len(d.Step) == 1 && l.C > 1 {
				s := d.Step[0]
				d.Step = make([]float32, l.C)
				for c := range d.Step {
					d.Step[c] = s
				}
			}
			for c := 0; c < l.C; c++ {
				sc := float64(l.Gamma.W.Data[c]) / math.Sqrt(float64(l.RunVar.Data[c])+l.Eps)
				d.Step[c] = float32(float64(d.Step[c]) * sc)
				d.Bias[c] = float32((float64(d.Bias[c])-float64(l.RunMean.Data[c]))*sc + float64(l.Beta.W.Data[c]))
			}
			al.Steps = l.C
		case *nn.ReLU, *nn.Sigmoid, *nn.Tanh:
			al := archLayer{Kind: l.Kind()}
			// nn pools before the activation (conv, pool, relu); max pooling
			// commutes with monotone activations, so move the activation in
			// front of the pool where the engine fuses it into the conv.
			if n := len(a.Layers); n >= 2 && a.Layers[n-1].Kind == "maxpool" && a.Layers[n-2].weighted() {
				a.Layers = append(a.Layers[:n-1], al, a.Layers[n-1])
				data = append(data[:n-1], nil, nil)
				continue
			}
			a.Layers = append(a.Layers, al)
			data = append(data, nil)
		case *nn.MaxPool:
			a.Layers = append(a.Layers, archLayer{Kind: "maxpool", K: l.K, Stride: l.Stride})
			data = append(data, nil)
		case *nn.Flatten:
			a.Layers = append(a.Layers, archLayer{Kind: "flatten"})
			data = append(data, nil)
		case *quant.ActQuant:
			a.Layers = append(a.Layers, archLayer{Kind: "actquant", Bits: l.Bits, Clip: l.Clip})
			data = append(data, nil)
		case *nn.LSTM, *nn.GRU:
			al, d, err := recurrentFromModel(l, wq, opt, lenient)
			if err != nil {
				if lenient {
					continue
				}
				return nil, nil, fail(i, l, "%v", err)
			}
			a.Layers = append(a.Layers, al)
			data = append(data, d)
		case *nn.SeqRows:
			if !lenient {
				return nil, nil, fail(i, l, "per-step heads (head=seq) are not supported by the packed engine; export a model with head=last")
			}
		case *nn.Dropout:
			// identity at inference
		default:
			if !lenient {
				return nil, nil, fail(i, l, "layer kind not supported by the packed format")
			}
		}
	}
	if !lenient {
		if _, err := a.validate(); err != nil {
			return nil, nil, fmt.Errorf("packed: model does not fit the packed engine: %v", err)
		}
	}
	return a, data, nil
}

// storedBytes sums the tensor bytes of a converted model: codes (exactly
// bits per weight, or base 3) + 4 bytes per step + 4 bytes per bias. A
// float (unquantized) weight counts 4 bytes per weight.
func storedBytes(a *arch, data []*denseData) int64 {
	var n int64
	for i, l := range a.Layers {
		if l.recurrentKind() {
			n += recurrentBytes(l, data[i])
			continue
		}
		if !l.weighted() {
			continue
		}
		w := int64(l.rows()) * int64(l.cols())
		switch {
		case l.Bits == 32:
			n += 4 * w
		case l.Encoding == EncSparse:
			n += int64(len(data[i].Sparse))
		default:
			n += codeBytes(w, l.Bits, l.Encoding)
		}
		n += 4*int64(len(data[i].Step)) + 4*int64(l.rows())
	}
	return n
}
