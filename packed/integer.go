package packed

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/resq-dev/resq/internal/safetensors"
	"github.com/resq-dev/resq/packed/internal/kernels"
	"github.com/resq-dev/resq/tensor"
)

// ModeInteger is the value of the "mode" metadata key of integer-only
// files (format version 2). Float-mode files have no "mode" key.
const ModeInteger = "integer"

// intArch is the "integer" object of an integer-mode arch: the input grid
// (x ~= (code - InZero) * InScale, codes 0..InMax) and the real value of
// one logit unit.
type intArch struct {
	InScale    float32 `json:"in_scale"`
	InZero     int     `json:"in_zero"`
	InMax      int     `json:"in_max"`
	LogitScale float32 `json:"logit_scale"`
	Calib      string  `json:"calib"` // how the activation ranges were set (provenance)
}

// IntLayer is one stage of an integer-mode model: a dense or conv layer
// (uint8 input codes, int32 sums, requantized outputs) or a max pool on
// codes. Read-only: it is what the C export generates code from.
type IntLayer struct {
	Kind            string // "dense", "conv" or "maxpool"
	InSize, OutSize int    // codes per sample
	// dense and conv: Rows outputs of Cols inputs each, weights as stored
	// in the file (Encoding "bits" with Bits per code, or "base3").
	Rows, Cols int
	Bits       int
	Encoding   string
	Codes      []byte  // packed codes, FORMAT.md
	Bias       []int32 // [Rows] int32 bias, the input zero point folded in
	Mult       []int32 // [Rows] requantization multipliers, 0 or 2^30..2^31-1
	Shift      []int32 // [Rows] requantization shifts, 1..62
	// OutMax clamps the outputs to 0..OutMax (ReLU fused); 0 marks the
	// last layer, whose outputs are the int32 logits.
	OutMax int32
	// PadValue is the code a conv reads outside the image (the zero point
	// of its input).
	PadValue uint8
	// geometry: input [C, H, W], output [., OH, OW]; kernel R x S (pool
	// window R x R), stride, padding.
	C, H, W, R, S, Stride, Pad, OH, OW int

	codes   []int8 // [Rows, Cols] unpacked
	wp      []int8 // codes in the GEMM kernels' panel layout
	pairMax int
}

// IntInfo describes an integer-mode model.
type IntInfo struct {
	InScale    float32 // x ~= (code - InZero) * InScale
	InZero     int
	InMax      int     // input codes run over 0..InMax
	LogitScale float32 // real value of one logit unit
	Calib      string  // how the activation ranges were calibrated
	Layers     []*IntLayer
	MaxAct     int // largest per-sample activation of any stage, in codes
}

// intNet is the integer network of a loaded integer-mode model.
type intNet = IntInfo

// Integer returns the integer-mode description of m, or nil when m is a
// float-mode model. The result must not be modified.
func (m *Model) Integer() *IntInfo { return m.intNet }

// checkMode validates the "mode" key against the arch: only version 2
// files may be integer-only, and float-mode arch layers carry no integer
// fields.
func checkMode(meta map[string]string, a *arch) error {
	for i, l := range a.Layers {
		if l.Encoding == EncSparse && (meta["format_version"] == "1" || meta["format_version"] == "2" || meta["mode"] != "") {
			return fmt.Errorf("layer %d: sparse codes need format version 3 and the float mode", i)
		}
		if err := checkRecurrentMode(meta, i, l); err != nil {
			return err
		}
	}
	switch meta["mode"] {
	case "":
		if a.Integer != nil {
			return fmt.Errorf("arch has integer-mode fields but the file has no mode %q", ModeInteger)
		}
		for i, l := range a.Layers {
			if l.OutMax != 0 || l.OutScale != 0 {
				return fmt.Errorf("layer %d: omax/oscale are integer-mode fields", i)
			}
		}
	case ModeInteger:
		if v := meta["format_version"]; v == "1" {
			return fmt.Errorf("integer mode needs format version 2 or later, the file has %s", v)
		}
		if a.Integer == nil {
			return fmt.Errorf("integer-mode file without the arch's integer object")
		}
	default:
		return fmt.Errorf("mode %q not supported (want none or %q)", meta["mode"], ModeInteger)
	}
	return nil
}

// amaxFor returns the largest activation code a layer with bits-bit
// weights reads: 255, or 127 for 8-bit weights (AVX2's VPMADDUBSW adds
// pairs of u8*s8 products in saturating int16: 2*255*63 and 2*127*127 are
// both <= 32767).
func amaxFor(bits int) int {
	if bits == 8 {
		return 127
	}
	return 255
}

// validateInteger checks the integer-mode rules on a validated arch:
// every hidden dense/conv layer is followed directly by a ReLU (fused) and
// clamps to the next weighted layer's grid, the last weighted layer is the
// last stage, and only maxpool and flatten appear otherwise.
func validateInteger(a *arch) error {
	ia := a.Integer
	var weighted []int
	for i, l := range a.Layers {
		if l.weighted() {
			weighted = append(weighted, i)
		}
	}
	if len(weighted) == 0 {
		return fmt.Errorf("integer mode: no dense or conv layer")
	}
	amax0 := amaxFor(a.Layers[weighted[0]].Bits)
	if ia.InMax != amax0 || ia.InZero < 0 || ia.InZero > ia.InMax || !(ia.InScale > 0) || ia.InScale > math.MaxFloat32 ||
		!(ia.LogitScale > 0) || ia.LogitScale > math.MaxFloat32 {
		return fmt.Errorf("integer mode: input grid scale %g zero %d max %d (want max %d) or logit scale %g invalid", ia.InScale, ia.InZero, ia.InMax, amax0, ia.LogitScale)
	}
	for wi, i := range weighted {
		l := a.Layers[i]
		last := wi == len(weighted)-1
		if last {
			if i != len(a.Layers)-1 || l.OutMax != 0 {
				return fmt.Errorf("integer mode: layer %d: the last dense/conv layer must end the network and have no omax", i)
			}
		} else {
			next := a.Layers[weighted[wi+1]]
			if i+1 >= len(a.Layers) || a.Layers[i+1].Kind != "relu" || l.OutMax < 1 || l.OutMax > amaxFor(next.Bits) {
				return fmt.Errorf("integer mode: layer %d: a hidden %s layer needs a ReLU right after it and omax 1..%d", i, l.Kind, amaxFor(next.Bits))
			}
		}
		if !(l.OutScale > 0) || l.OutScale > math.MaxFloat32 {
			return fmt.Errorf("integer mode: layer %d: output scale %g", i, l.OutScale)
		}
	}
	for i, l := range a.Layers {
		switch l.Kind {
		case "dense", "conv", "maxpool", "flatten":
		case "relu":
			if i == 0 || !a.Layers[i-1].weighted() {
				return fmt.Errorf("integer mode: layer %d: relu must directly follow a dense or conv layer", i)
			}
		default:
			return fmt.Errorf("integer mode: layer %d: %s has no integer form (dense, conv, relu, maxpool, flatten)", i, l.Kind)
		}
	}
	return nil
}

// readI32 fetches an I32 vector tensor of n elements.
func readI32(f *safetensors.File, name string, n int) ([]int32, error) {
	t, ok := f.Get(name)
	if !ok {
		return nil, fmt.Errorf("tensor %s missing", name)
	}
	if t.DType != "I32" || len(t.Shape) != 1 || t.Shape[0] != n || len(t.Data) != 4*n {
		return nil, fmt.Errorf("tensor %s is %s %v, want I32 [%d]", name, t.DType, t.Shape, n)
	}
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return v, nil
}

// fromI32 makes an I32 tensor.
func fromI32(name string, v []int32) safetensors.Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return safetensors.Tensor{Name: name, DType: "I32", Shape: []int{len(v)}, Data: b}
}

// loadInteger builds the integer network of a validated integer-mode arch.
func loadInteger(f *safetensors.File, a *arch, shapes [][]int) (*intNet, error) {
	if err := validateInteger(a); err != nil {
		return nil, err
	}
	ia := a.Integer
	n := &intNet{InScale: ia.InScale, InZero: ia.InZero, InMax: ia.InMax, LogitScale: ia.LogitScale, Calib: ia.Calib, MaxAct: tensor.Numel(a.In)}
	used, seenWeighted := 0, false
	for i, al := range a.Layers {
		in, out := shapes[i], shapes[i+1]
		n.MaxAct = max(n.MaxAct, tensor.Numel(out))
		var l *IntLayer
		switch al.Kind {
		case "relu", "flatten":
			continue
		case "maxpool":
			l = &IntLayer{Kind: "maxpool", C: in[0], H: in[1], W: in[2], R: al.K, Stride: al.Stride, OH: out[1], OW: out[2]}
		default:
			var err error
			if l, err = loadIntWeighted(f, i, al); err != nil {
				return nil, fmt.Errorf("layer %d (%s): %v", i, al.Kind, err)
			}
			if !seenWeighted {
				l.PadValue = uint8(ia.InZero)
			}
			seenWeighted = true
			used += 4
			if al.Kind == "conv" {
				l.C, l.H, l.W, l.OH, l.OW = in[0], in[1], in[2], out[1], out[2]
			}
		}
		l.InSize, l.OutSize = tensor.Numel(in), tensor.Numel(out)
		n.Layers = append(n.Layers, l)
	}
	if len(f.Tensors) != used {
		return nil, fmt.Errorf("%d tensors in file, the integer arch uses %d", len(f.Tensors), used)
	}
	return n, nil
}

// loadIntWeighted reads one integer-mode dense or conv layer.
func loadIntWeighted(f *safetensors.File, i int, al archLayer) (*IntLayer, error) {
	codes, err := decodeCodes(f, i, al)
	if err != nil {
		return nil, err
	}
	rows, cols := al.rows(), al.cols()
	l := &IntLayer{Kind: al.Kind, Rows: rows, Cols: cols, Bits: al.Bits, Encoding: al.Encoding,
		OutMax: int32(al.OutMax), R: al.R, S: al.S, Stride: al.Stride, Pad: al.Pad, codes: codes}
	t, _ := f.Get(tensorName(i, "codes"))
	l.Codes = append([]byte(nil), t.Data...)
	if l.Bias, err = readI32(f, tensorName(i, "bias"), rows); err != nil {
		return nil, err
	}
	if l.Mult, err = readI32(f, tensorName(i, "mult"), rows); err != nil {
		return nil, err
	}
	if l.Shift, err = readI32(f, tensorName(i, "shift"), rows); err != nil {
		return nil, err
	}
	for j := range l.Mult {
		if m := l.Mult[j]; (m != 0 && m < 1<<30) || m < 0 || l.Shift[j] < 1 || l.Shift[j] > 62 {
			return nil, fmt.Errorf("output %d: multiplier %d shift %d, want 0 or 2^30..2^31-1 and 1..62", j, m, l.Shift[j])
		}
	}
	l.pairMax = 2 * amaxFor(al.Bits) * qmax(al.Bits)
	l.wp = make([]int8, kernels.PackedLen(rows, cols))
	kernels.PackW(l.wp, codes, rows, cols)
	return l, nil
}
