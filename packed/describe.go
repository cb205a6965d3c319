package packed

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
)

// Stage is one stage of a model as the packed engine runs it, in forward
// order: a weighted layer ("dense", "conv"), "maxpool", a standalone
// activation ("relu", "sigmoid", "tanh"; an activation that directly
// follows a weighted layer is fused into it and has no stage), "actquant"
// (a signal quantizer) or "flatten".
type Stage struct {
	Kind    string
	InSize  int // values per sample entering the stage
	OutSize int // values per sample leaving it

	// Weighted stages only.
	Rows      int    // outputs per position (dense Out, conv K)
	Cols      int    // inputs per output (dense In, conv C*R*S)
	Positions int    // output positions per sample: 1 for dense, OH*OW for conv
	Bits      int    // weight bits, 2..8; 32 for float weights
	Steps     int    // stored steps: 1 or Rows (0 for float weights)
	Codes     []int8 // [Rows, Cols] weight codes in -QMax..QMax; nil for float weights
	Encoding  string // how the codes are stored: EncBits, EncBase3 or EncSparse ("" for float weights)
}

// Weighted reports whether the stage has weights.
func (s *Stage) Weighted() bool { return s.Kind == "dense" || s.Kind == "conv" }

// Description is a model as the packed format stores and runs it: its
// stages with the exact weight codes, and its stored bytes.
type Description struct {
	In          []int // per-sample input shape
	Classes     int
	Stages      []Stage
	StoredBytes int64 // StoredBytes of the model: codes, steps and biases
	// SparseLayers counts the weighted layers stored as relative indices.
	SparseLayers int
}

// Describe returns the stages of m as Export would store them: with s,
// the codes of every quantized layer (the same codes Export writes); with
// s nil, a float model (Bits 32, no codes). BatchNorm is folded and dropout
// dropped as in Export. A model the packed engine cannot run is an error.
func Describe(m *nn.Model, s *quant.State, opt Options) (*Description, error) {
	lenient := s == nil
	a, data, err := fromModel(m, stateQuant(s), opt, lenient)
	if err != nil {
		return nil, err
	}
	// Shapes come from the engine's own validation; float layers are
	// validated as if they were 8-bit (storage does not change shapes).
	va := *a
	va.Layers = append([]archLayer(nil), a.Layers...)
	for i := range va.Layers {
		if l := &va.Layers[i]; l.weighted() && l.Bits == 32 {
			l.Bits, l.Encoding, l.Steps = 8, EncBits, 1
		}
		if l := &va.Layers[i]; l.recurrentKind() {
			floatAs8Bit(l)
		}
	}
	shapes, err := va.validate()
	if err != nil {
		return nil, fmt.Errorf("packed: model does not fit the packed engine: %v", err)
	}
	d := &Description{In: append([]int(nil), a.In...), Classes: a.Classes, StoredBytes: storedBytes(a, data)}
	for i, l := range a.Layers {
		in, out := shapes[i], shapes[i+1]
		st := Stage{Kind: l.Kind, InSize: tensor.Numel(in), OutSize: tensor.Numel(out)}
		if l.recurrentKind() {
			d.Stages = append(d.Stages, recurrentStages(l, data[i], in, out)...)
			continue
		}
		switch {
		case l.weighted():
			st.Rows, st.Cols, st.Bits, st.Steps, st.Codes = l.rows(), l.cols(), l.Bits, len(data[i].Step), data[i].Codes
			if l.Bits != 32 {
				st.Encoding = l.Encoding
			}
			if l.Encoding == EncSparse {
				d.SparseLayers++
			}
			st.Positions = 1
			if l.Kind == "conv" {
				st.Positions = out[1] * out[2]
			}
		case l.Kind == "relu" || l.Kind == "sigmoid" || l.Kind == "tanh":
			if i > 0 && a.Layers[i-1].weighted() {
				continue // fused into the weighted layer's epilogue
			}
		}
		d.Stages = append(d.Stages, st)
	}
	return d, nil
}

// Marshal returns the packed file Export would write for m quantized as s,
// as bytes (nothing is written to disk); LoadBytes reads it back.
func Marshal(m *nn.Model, s *quant.State, meta Meta) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("packed: marshal: model has no quantization state")
	}
	a, data, err := fromModel(m, stateQuant(s), meta.Options, false)
	if err != nil {
		return nil, err
	}
	if meta.QuantConfig == "" {
		if j, err := json.Marshal(s.Config); err == nil {
			meta.QuantConfig = string(j)
		}
	}
	var b bytes.Buffer
	if err := encode(&b, a, m.Spec, data, meta); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
