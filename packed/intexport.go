package packed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/internal/safetensors"
	"github.com/resq-dev/resq/internal/version"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
)

// DefaultPercentile is the percentile of a hidden layer's calibration
// activations that becomes its largest code when no signal quantizer set
// the range.
const DefaultPercentile = 99.99

// IntOptions configures ExportInteger.
type IntOptions struct {
	// Percentile (0 < P <= 100; 0 means DefaultPercentile) sets each
	// hidden layer's range: its largest code stands for the P-th
	// percentile (quant.Percentile) of the layer's ReLU outputs over the
	// calibration samples. Layers followed by a trained signal quantizer
	// (quant.ActQuant) use its grid instead.
	Percentile float64
}

// actGrid is the output grid a signal quantizer gives a layer: codes
// 0..levels times step.
type actGrid struct {
	levels int
	step   float32
}

// intData is an integer-mode layer's content before packing.
type intData struct {
	Codes             []int8  // [rows, cols]
	Bias, Mult, Shift []int32 // [rows]
}

// ExportInteger writes m, quantized as s describes, to path as an
// integer-only packed model (mode "integer"), with activation ranges
// calibrated on calib [n, D] (float inputs, the training distribution).
// The input grid covers the calibration inputs' range (0..max for
// nonnegative inputs, symmetric with zero point InMax/2+1 otherwise);
// each hidden layer's output grid is its signal quantizer's, or the
// opt.Percentile rule. Models the integer mode cannot express (a hidden
// layer without a ReLU right after it, sigmoid, tanh, a signal quantizer
// with more levels than the next layer's grid) give an error.
func ExportInteger(path string, m *nn.Model, s *quant.State, calib []float32, n int, opt IntOptions, meta Meta) (int64, error) {
	if s == nil {
		return 0, fmt.Errorf("packed: export %s: model has no quantization state", path)
	}
	d := tensor.Numel(m.In)
	if n < 1 || len(calib) != n*d {
		return 0, fmt.Errorf("packed: export %s: calibration data has %d values, want %d samples of %d", path, len(calib), n, d)
	}
	meta.Options.Sparse = false // the integer mode stores dense codes
	a, data, err := fromModel(m, stateQuant(s), meta.Options, false)
	if err != nil {
		return 0, err
	}
	if err := refuseRecurrent(a); err != nil {
		return 0, fmt.Errorf("packed: export %s: %v", path, err)
	}
	ia, idata, err := toInteger(a, data, calib, n, opt)
	if err != nil {
		return 0, fmt.Errorf("packed: export %s: %v", path, err)
	}
	if meta.QuantConfig == "" {
		if j, err := json.Marshal(s.Config); err == nil {
			meta.QuantConfig = string(j)
		}
	}
	var b bytes.Buffer
	if err := encodeInt(&b, ia, m.Spec, idata, meta); err != nil {
		return 0, err
	}
	err = atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(b.Bytes())
		return err
	})
	return int64(b.Len()), err
}

// encodeInt writes an integer-mode file.
func encodeInt(w io.Writer, a *arch, spec string, layers []*intData, meta Meta) error {
	var ts []safetensors.Tensor
	var bits []string
	for i, l := range a.Layers {
		if !l.weighted() {
			continue
		}
		d := layers[i]
		cb := make([]byte, codeBytes(int64(len(d.Codes)), l.Bits, l.Encoding))
		if l.Encoding == EncBase3 {
			packBase3(cb, d.Codes)
		} else {
			packBits(cb, d.Codes, l.Bits)
		}
		ts = append(ts, safetensors.Tensor{Name: tensorName(i, "codes"), DType: "U8", Shape: []int{len(cb)}, Data: cb},
			fromI32(tensorName(i, "bias"), d.Bias), fromI32(tensorName(i, "mult"), d.Mult), fromI32(tensorName(i, "shift"), d.Shift))
		bits = append(bits, strconv.Itoa(l.Bits))
	}
	aj, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("packed: encoding arch: %v", err)
	}
	md := map[string]string{
		"format": FormatName, "format_version": FormatVersion, "mode": ModeInteger, "arch": string(aj), "spec": spec,
		"resq_version": version.String(), "dataset": meta.Dataset, "dataset_sha256": meta.DatasetSHA256,
		"source_checkpoint": meta.SourceCheckpoint, "quant_config": meta.QuantConfig, "bits": joinComma(bits),
	}
	for k, v := range meta.Extra {
		if reservedKeys[k] {
			return fmt.Errorf("packed: extra metadata key %q is reserved", k)
		}
		md[k] = v
	}
	if err := safetensors.Write(w, ts, md); err != nil {
		return fmt.Errorf("packed: %v", err)
	}
	return nil
}

// toInteger converts a float-mode arch and its payloads into the integer
// mode: signal quantizers are folded into the output grids, and every
// weighted row gets an int32 bias and a requantization multiplier.
func toInteger(a *arch, data []*denseData, calib []float32, n int, opt IntOptions) (*arch, []*intData, error) {
	pct := opt.Percentile
	if pct == 0 {
		pct = DefaultPercentile
	}
	if !(pct > 0 && pct <= 100) {
		return nil, nil, fmt.Errorf("percentile %g out of range (0, 100]", pct)
	}
	// Output grid of each weighted layer set by a signal quantizer
	// (levels, step), reached through ReLU, max pooling or flatten.
	grids := map[int]actGrid{}
	var out []archLayer
	var outData []*denseData
	var weighted []int // indexes in out
	last := -1         // index in out of the last weighted layer
	for i, l := range a.Layers {
		switch l.Kind {
		case "dense", "conv":
			last = len(out)
			weighted = append(weighted, last)
		case "actquant":
			if last < 0 {
				return nil, nil, fmt.Errorf("layer %d: signal quantizer before any dense or conv layer", i)
			}
			if _, dup := grids[last]; dup {
				return nil, nil, fmt.Errorf("layer %d: two signal quantizers after one layer", i)
			}
			grids[last] = actGrid{1<<l.Bits - 1, l.Clip / float32(int(1)<<l.Bits-1)}
			continue
		case "relu":
			// A ReLU after max pooling commutes with it: move it in front,
			// where the integer mode fuses it into the layer.
			k := len(out)
			for k > 0 && out[k-1].Kind == "maxpool" {
				k--
			}
			if k < len(out) && k > 0 && out[k-1].weighted() {
				out = append(out[:k], append([]archLayer{l}, out[k:]...)...)
				outData = append(outData[:k], append([]*denseData{nil}, outData[k:]...)...)
				continue
			}
		case "maxpool", "flatten":
		default:
			return nil, nil, fmt.Errorf("layer %d: %s has no integer form (dense, conv, relu, maxpool, flatten)", i, l.Kind)
		}
		out = append(out, l)
		outData = append(outData, data[i])
	}
	if len(weighted) == 0 {
		return nil, nil, fmt.Errorf("no dense or conv layer")
	}
	for wi, i := range weighted {
		if wi < len(weighted)-1 && (i+1 >= len(out) || out[i+1].Kind != "relu") {
			return nil, nil, fmt.Errorf("%s layer %d is not followed directly by a ReLU: the integer mode clamps every hidden layer's output at 0", out[i].Kind, wi)
		}
		if wi == len(weighted)-1 && i != len(out)-1 {
			return nil, nil, fmt.Errorf("the last %s layer must end the network (got %s after it)", out[i].Kind, out[i+1].Kind)
		}
	}
	// Calibration: the float forward (weights code*step, float signals
	// except where a signal quantizer rounds them) records each hidden
	// layer's ReLU outputs.
	fa := &arch{In: a.In, Classes: a.Classes, Layers: out}
	acts, lo, hi := calibrate(fa, outData, grids, calib, n)
	amax0 := amaxFor(out[weighted[0]].Bits)
	ia := &intArch{InMax: amax0, Calib: fmt.Sprintf("inputs: min..max of %d samples; hidden layers: percentile %g of their ReLU outputs over them, or a trained signal quantizer's grid", n, pct)}
	if lo >= 0 {
		ia.InScale = hi / float32(amax0)
	} else {
		ia.InZero = amax0/2 + 1
		ia.InScale = max(hi, -lo) / float32(ia.InZero-1)
	}
	if !(ia.InScale > 0) {
		ia.InScale = 1
	}
	sIn, zIn := float64(ia.InScale), ia.InZero
	idata := make([]*intData, len(out))
	for wi, i := range weighted {
		l := &out[i]
		var sOut float64
		if wi < len(weighted)-1 {
			next := amaxFor(out[weighted[wi+1]].Bits)
			if g, ok := grids[i]; ok {
				if g.levels > next {
					return nil, nil, fmt.Errorf("the signal quantizer after %s layer %d has %d levels; the next layer's %d-bit weights read codes 0..%d (retrain with fewer act bits)", l.Kind, wi, g.levels, out[weighted[wi+1]].Bits, next)
				}
				l.OutMax, sOut = g.levels, float64(g.step)
			} else {
				l.OutMax, sOut = next, float64(quant.Percentile(acts[wi], pct))/float64(next)
			}
			if !(sOut > 0) {
				sOut = 1 / float64(l.OutMax) // a dead layer: any grid
			}
		}
		d, s, err := intLayerData(outData[i], l.rows(), l.cols(), sIn, zIn, sOut)
		if err != nil {
			return nil, nil, fmt.Errorf("%s layer %d: %v", l.Kind, wi, err)
		}
		l.OutScale = float32(s)
		idata[i] = d
		sIn, zIn = s, 0
	}
	ia.LogitScale = float32(sIn)
	return &arch{In: a.In, Classes: a.Classes, Layers: out, Integer: ia}, idata, nil
}

// intLayerData computes the integer payload of one weighted layer with
// input scale sIn and zero point zIn and output scale sOut (0 for the last
// layer: sIn times the largest step, so the largest multiplier is 1). It
// returns the output scale used.
func intLayerData(d *denseData, rows, cols int, sIn float64, zIn int, sOut float64) (*intData, float64, error) {
	step := func(j int) float64 {
		if len(d.Step) == 1 {
			return float64(d.Step[0])
		}
		return float64(d.Step[j])
	}
	if sOut == 0 {
		for j := 0; j < rows; j++ {
			sOut = max(sOut, sIn*math.Abs(step(j)))
		}
		if !(sOut > 0) {
			sOut = sIn
		}
	}
	o := &intData{Codes: append([]int8(nil), d.Codes...), Bias: make([]int32, rows), Mult: make([]int32, rows), Shift: make([]int32, rows)}
	for j := 0; j < rows; j++ {
		row := o.Codes[j*cols : (j+1)*cols]
		st := step(j)
		if st < 0 { // a folded BatchNorm with negative gamma: code*step = (-code)*(-step)
			st = -st
			for k := range row {
				row[k] = -row[k]
			}
		}
		eff := sIn * st
		if st == 0 {
			clear(row)
			eff = sOut
		}
		var colsum int64
		for _, c := range row {
			colsum += int64(c)
		}
		b := math.Round(float64(d.Bias[j])/eff) - float64(int64(zIn)*colsum)
		if !(math.Abs(b) < 1<<31-1) {
			return nil, 0, fmt.Errorf("output %d: bias %g is %g units of the accumulator, beyond int32", j, d.Bias[j], b)
		}
		o.Bias[j] = int32(b)
		var err error
		if o.Mult[j], o.Shift[j], err = quantizeMultiplier(eff / sOut); err != nil {
			return nil, 0, fmt.Errorf("output %d: %v", j, err)
		}
	}
	return o, sOut, nil
}
