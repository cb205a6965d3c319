package packed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/resq-dev/resq/internal/safetensors"
	"github.com/resq-dev/resq/internal/version"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// FormatName and FormatVersion identify a packed file (metadata keys
// "format" and "format_version"). Version 2 added the integer mode
// (metadata "mode": "integer"); a version 1 file is a version 2 file
// without it. Version 3 added the sparse encoding of weight codes
// (relative indices, float mode only); a version 2 file is a version 3
// file without it. Version 4 added the recurrent layer kinds "lstm" and
// "gru" (recurrent.go); a version 3 file is a version 4 file without them.
// Load reads all four.
const (
	FormatName    = "resq-packed"
	FormatVersion = "4"
)

// readableVersions are the format versions Load accepts.
var readableVersions = map[string]bool{"1": true, "2": true, "3": true, FormatVersion: true}

// Limits on what Load accepts, so that a hostile header cannot make it
// allocate absurd amounts before the tensor sizes are checked.
const (
	maxLayers = 4096
	maxWidth  = 1 << 24 // inputs or outputs of one layer
	maxDims   = 8
	maxKernel = 64      // conv kernel side, stride, padding; pool stride
	maxIm2col = 1 << 26 // bytes of one sample's int8 im2col matrix
	// maxDenseIn bounds a dense layer's inputs so that int32 sums cannot
	// overflow: 255*63*2^16 and 127*127*2^16 are both below 2^31.
	maxDenseIn = 1 << 16
)

// Options selects how weights are stored.
type Options struct {
	// Base3 stores ternary (2-bit) layers five codes per byte (1.6
	// bits/weight) instead of four. Other bit widths are unaffected.
	Base3 bool
	// Sparse stores each layer whose relative-index stream (EncSparse) is
	// strictly smaller than its dense codes that way: pruned models. The
	// float mode only; ExportInteger ignores it.
	Sparse bool
}

// Meta is the provenance written into a packed file next to the
// architecture. Format, version, spec and bit widths are filled in by
// Export.
type Meta struct {
	Options
	Dataset          string            // dataset name, e.g. "mnist"
	DatasetSHA256    string            // checksum identifying the dataset files
	SourceCheckpoint string            // checkpoint the model was exported from
	QuantConfig      string            // quantizer settings (rule, per-channel, retraining)
	Extra            map[string]string // more keys; must not collide with the reserved ones
}

// arch is the JSON value of the "arch" metadata key.
type arch struct {
	In      []int       `json:"in"`      // per-sample input shape
	Classes int         `json:"classes"` // logits width
	Layers  []archLayer `json:"layers"`  // forward order
	// Integer holds the integer mode's input grid and logit scale; nil
	// for float-mode files.
	Integer *intArch `json:"integer,omitempty"`
}

// archLayer is one layer: "dense" or "conv" (with sizes and weight
// storage), "maxpool", "flatten", an elementwise activation ("relu",
// "sigmoid", "tanh"; fused into the epilogue when it directly follows a
// dense or conv layer), or "actquant", a trained signal quantizer (quant's
// ActQuant: levels 0..2^Bits-1 times Clip/(2^Bits-1)). Fields a kind does
// not use must be zero.
type archLayer struct {
	Kind     string  `json:"kind"`
	In       int     `json:"in,omitempty"`     // dense inputs
	Out      int     `json:"out,omitempty"`    // dense outputs
	C        int     `json:"c,omitempty"`      // conv input channels
	K        int     `json:"k,omitempty"`      // conv output maps; maxpool window
	R        int     `json:"r,omitempty"`      // conv kernel height
	S        int     `json:"s,omitempty"`      // conv kernel width
	Stride   int     `json:"stride,omitempty"` // conv, maxpool
	Pad      int     `json:"pad,omitempty"`    // conv zero padding
	Bits     int     `json:"bits,omitempty"`
	Encoding string  `json:"encoding,omitempty"`
	Steps    int     `json:"steps,omitempty"` // 1 (per tensor) or rows (per output)
	Clip     float32 `json:"clip,omitempty"`  // actquant: largest level
	// Integer mode, dense and conv: OutMax is the largest output code (the
	// clamp of the fused ReLU's output; 0 for the last layer, whose int32
	// outputs are the logits) and OutScale the real value of one output
	// code (provenance; the engine does not use it).
	OutMax   int     `json:"omax,omitempty"`
	OutScale float32 `json:"oscale,omitempty"`
	// Sparse encoding (format version 3): the gap field width and the
	// number of entries of the relative-index stream (sparse.go).
	GapBits int   `json:"gap_bits,omitempty"`
	Entries int64 `json:"entries,omitempty"`
	// Recurrent layers (format version 4): "lstm" and "gru" use In
	// (features per step), Out (hidden units), Bits, Encoding and Steps
	// for Wih, and Rec for the rest (recurrent.go).
	Rec *recArch `json:"rec,omitempty"`
}

// weighted reports whether the layer carries codes, steps and biases.
func (l archLayer) weighted() bool { return l.Kind == "dense" || l.Kind == "conv" }

// rows returns the number of outputs (dense Out, conv K) of a weighted layer.
func (l archLayer) rows() int {
	if l.Kind == "conv" {
		return l.K
	}
	return l.Out
}

// cols returns the inputs per output (dense In, conv C*R*S).
func (l archLayer) cols() int {
	if l.Kind == "conv" {
		return l.C * l.R * l.S
	}
	return l.In
}

// denseData is a dense layer's content before packing.
type denseData struct {
	Codes []int8    // [rows, cols] (dense [Out, In], conv [K, C, R, S]), in -qmax..qmax
	Step  []float32 // [1] or [rows]
	Bias  []float32 // [rows]
	// Sparse is the relative-index stream of a layer stored with
	// EncSparse (chooseSparse), nil otherwise.
	Sparse []byte
	// Rec holds a recurrent layer's Whh and recurrent-side bias (Codes,
	// Step and Bias above are Wih's and the input-side bias); nil
	// otherwise.
	Rec *recData
}

// tensorName returns the safetensors name of a layer's tensor.
func tensorName(i int, what string) string { return "layers." + strconv.Itoa(i) + "." + what }

var reservedKeys = map[string]bool{
	"format": true, "format_version": true, "arch": true, "spec": true, "resq_version": true,
	"dataset": true, "dataset_sha256": true, "source_checkpoint": true, "quant_config": true, "bits": true,
	"mode": true,
}

// encode writes a packed file. layers[i] is nil for activation layers.
// It returns an error (never panics) for inconsistent content, because the
// model it comes from is user data.
func encode(w io.Writer, a *arch, spec string, layers []*denseData, meta Meta) error {
	if len(layers) != len(a.Layers) {
		return fmt.Errorf("packed: %d layer payloads for %d layers", len(layers), len(a.Layers))
	}
	var ts []safetensors.Tensor
	var bits []string
	for i, l := range a.Layers {
		d := layers[i]
		if l.recurrentKind() {
			var err error
			if ts, err = encodeRecurrent(ts, i, l, d); err != nil {
				return err
			}
			bits = append(bits, strconv.Itoa(l.Bits), strconv.Itoa(l.Rec.HHBits))
			continue
		}
		if !l.weighted() {
			continue
		}
		if d == nil || len(d.Codes) != l.rows()*l.cols() || len(d.Bias) != l.rows() || (len(d.Step) != 1 && len(d.Step) != l.rows()) {
			return fmt.Errorf("packed: layer %d: payload does not match %s %dx%d", i, l.Kind, l.rows(), l.cols())
		}
		q := qmax(l.Bits)
		for j, c := range d.Codes {
			if int(c) < -q || int(c) > q {
				return fmt.Errorf("packed: layer %d: code %d at %d outside -%d..%d for %d bits", i, c, j, q, q, l.Bits)
			}
		}
		var cb []byte
		switch l.Encoding {
		case EncSparse:
			cb = packSparse(d.Codes, l.Bits, l.GapBits)
		case EncBase3:
			cb = make([]byte, codeBytes(int64(len(d.Codes)), l.Bits, l.Encoding))
			packBase3(cb, d.Codes)
		default:
			cb = make([]byte, codeBytes(int64(len(d.Codes)), l.Bits, l.Encoding))
			packBits(cb, d.Codes, l.Bits)
		}
		ts = append(ts,
			safetensors.Tensor{Name: tensorName(i, "codes"), DType: "U8", Shape: []int{len(cb)}, Data: cb},
			safetensors.FromF32(tensorName(i, "step"), []int{len(d.Step)}, d.Step),
			safetensors.FromF32(tensorName(i, "bias"), []int{l.rows()}, d.Bias))
		bits = append(bits, strconv.Itoa(l.Bits))
	}
	aj, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("packed: encoding arch: %v", err)
	}
	md := map[string]string{
		"format":            FormatName,
		"format_version":    FormatVersion,
		"arch":              string(aj),
		"spec":              spec,
		"resq_version":      version.String(),
		"dataset":           meta.Dataset,
		"dataset_sha256":    meta.DatasetSHA256,
		"source_checkpoint": meta.SourceCheckpoint,
		"quant_config":      meta.QuantConfig,
		"bits":              joinComma(bits),
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

func joinComma(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(x)
	}
	return b.String()
}

// validate checks the architecture from an untrusted header and returns
// the per-sample input shape of every layer plus the final one.
func (a *arch) validate() ([][]int, error) {
	if len(a.In) == 0 || len(a.In) > maxDims {
		return nil, fmt.Errorf("input shape %v: want 1..%d dimensions", a.In, maxDims)
	}
	d := 1
	for _, x := range a.In {
		if x <= 0 || x > maxWidth || d*x > maxWidth {
			return nil, fmt.Errorf("input shape %v: dimensions must be positive with a product <= %d", a.In, maxWidth)
		}
		d *= x
	}
	if len(a.Layers) == 0 || len(a.Layers) > maxLayers {
		return nil, fmt.Errorf("%d layers: want 1..%d", len(a.Layers), maxLayers)
	}
	shapes := [][]int{a.In}
	shape := a.In
	for i, l := range a.Layers {
		next, err := l.check(shape)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %v", i, l.Kind, err)
		}
		shape = next
		shapes = append(shapes, shape)
	}
	if len(shape) != 1 || shape[0] != a.Classes {
		return nil, fmt.Errorf("output shape %v does not match %d classes", shape, a.Classes)
	}
	return shapes, nil
}

// check validates one layer for the per-sample input shape in and returns
// its output shape.
func (l archLayer) check(in []int) ([]int, error) {
	// canon keeps only the fields the kind uses; l must equal it.
	canon := archLayer{Kind: l.Kind}
	var out []int
	switch l.Kind {
	case "lstm", "gru":
		return l.checkRecurrent(in)
	case "dense":
		canon.In, canon.Out = l.In, l.Out
		if tensor.Numel(in) != l.In { // a dense layer reads its input flattened (row-major)
			return nil, fmt.Errorf("input %d does not match the incoming shape %v", l.In, in)
		}
		if l.Out <= 0 || l.Out > maxWidth {
			return nil, fmt.Errorf("output %d out of range 1..%d", l.Out, maxWidth)
		}
		out = []int{l.Out}
	case "conv":
		canon.C, canon.K, canon.R, canon.S, canon.Stride, canon.Pad = l.C, l.K, l.R, l.S, l.Stride, l.Pad
		if len(in) != 3 || l.C != in[0] {
			return nil, fmt.Errorf("%d input channels do not match the incoming shape %v", l.C, in)
		}
		if l.K <= 0 || l.K > maxWidth || l.R <= 0 || l.S <= 0 || l.R > in[1]+2*l.Pad || l.S > in[2]+2*l.Pad ||
			l.Stride <= 0 || l.Stride > maxKernel || l.Pad < 0 || l.Pad > maxKernel || l.R > maxKernel || l.S > maxKernel {
			return nil, fmt.Errorf("geometry K=%d R=%d S=%d stride=%d pad=%d does not fit input %v", l.K, l.R, l.S, l.Stride, l.Pad, in)
		}
		oh, ow := (in[1]+2*l.Pad-l.R)/l.Stride+1, (in[2]+2*l.Pad-l.S)/l.Stride+1
		if l.K*oh*ow > maxWidth || (oh*ow+3)*(l.C*l.R*l.S+3) > maxIm2col {
			return nil, fmt.Errorf("output %dx%dx%d with %d inputs per output too large", l.K, oh, ow, l.C*l.R*l.S)
		}
		out = []int{l.K, oh, ow}
	case "maxpool":
		canon.K, canon.Stride = l.K, l.Stride
		if len(in) != 3 || l.K <= 0 || l.K > in[1] || l.K > in[2] || l.Stride <= 0 || l.Stride > maxKernel {
			return nil, fmt.Errorf("window %d stride %d does not fit input %v", l.K, l.Stride, in)
		}
		out = []int{in[0], (in[1]-l.K)/l.Stride + 1, (in[2]-l.K)/l.Stride + 1}
	case "flatten":
		out = []int{tensor.Numel(in)}
	case "relu", "sigmoid", "tanh":
		out = in
	case "actquant":
		canon.Bits, canon.Clip = l.Bits, l.Clip
		if l.Bits < MinBits || l.Bits > MaxBits || !(l.Clip >= 0) || l.Clip > math.MaxFloat32 {
			return nil, fmt.Errorf("signal quantizer with %d bits and clip %v: want %d..%d bits and a finite clip >= 0", l.Bits, l.Clip, MinBits, MaxBits)
		}
		out = in
	default:
		return nil, fmt.Errorf("kind not supported by the packed engine (dense, conv, maxpool, flatten, relu, sigmoid, tanh, actquant, lstm, gru)")
	}
	if l.weighted() {
		canon.Bits, canon.Encoding, canon.Steps = l.Bits, l.Encoding, l.Steps
		canon.OutMax, canon.OutScale = l.OutMax, l.OutScale // checked by validateInteger
		if l.cols() > maxDenseIn {
			return nil, fmt.Errorf("%d inputs per output above the engine's limit %d", l.cols(), maxDenseIn)
		}
		if l.Bits < MinBits || l.Bits > MaxBits {
			return nil, fmt.Errorf("%d-bit weights not supported (engine runs %d..%d)", l.Bits, MinBits, MaxBits)
		}
		if l.Encoding != EncBits && l.Encoding != EncSparse && !(l.Encoding == EncBase3 && l.Bits == 2) {
			return nil, fmt.Errorf("encoding %q not supported for %d bits", l.Encoding, l.Bits)
		}
		if l.Encoding == EncSparse {
			canon.GapBits, canon.Entries = l.GapBits, l.Entries
			if l.GapBits < 1 || l.GapBits > maxGapBits || l.Entries < 1 || l.Entries > int64(l.rows())*int64(l.cols()) {
				return nil, fmt.Errorf("sparse codes with %d-bit gaps and %d entries: want 1..%d bits and 1..%d entries", l.GapBits, l.Entries, maxGapBits, l.rows()*l.cols())
			}
		}
		if l.Steps != 1 && l.Steps != l.rows() {
			return nil, fmt.Errorf("%d steps, want 1 or %d", l.Steps, l.rows())
		}
	}
	if l != canon {
		return nil, fmt.Errorf("fields not used by this kind are set: %+v", l)
	}
	return out, nil
}

// readF32 fetches an F32 vector tensor of n finite-or-not elements.
func readF32(f *safetensors.File, name string, n int) ([]float32, error) {
	t, ok := f.Get(name)
	if !ok {
		return nil, fmt.Errorf("tensor %s missing", name)
	}
	if len(t.Shape) != 1 || t.Shape[0] != n {
		return nil, fmt.Errorf("tensor %s has shape %v, want [%d]", name, t.Shape, n)
	}
	v, err := safetensors.F32(t)
	if err != nil {
		return nil, err
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("tensor %s: element %d is %v", name, i, x)
		}
	}
	return v, nil
}

// checkSpec checks that an nn model spec a file names (what infer prints
// and Compare matches) describes its layers: it parses for the input
// shape and has as many weights as the layers hold. A spec that is not an
// nn spec (not mlp:... or cnn:...) is a free label and passes.
func checkSpec(spec string, a *arch) error {
	if !strings.HasPrefix(spec, "mlp:") && !strings.HasPrefix(spec, "cnn:") && !strings.HasPrefix(spec, "lstm:") && !strings.HasPrefix(spec, "gru:") {
		return nil
	}
	var have int64
	for _, l := range a.Layers {
		if l.weighted() {
			have += int64(l.rows()) * int64(l.cols())
		}
		if l.recurrentKind() {
			have += int64(l.gates()*l.Out) * int64(l.In+l.Out)
		}
	}
	want, _, err := nn.SpecSize(spec, a.In)
	if err != nil {
		return fmt.Errorf("spec metadata %q does not parse: %v", spec, err)
	}
	if want != have {
		return fmt.Errorf("spec metadata %q has %d weights, the layers hold %d", spec, want, have)
	}
	return nil
}

// Bounds of a weighted layer's float tensors. A step is the weight of
// code 1: MaxStep keeps every weight below 127e6 in magnitude, and
// MaxBias bounds the biases, so that no product or sum of the engine
// overflows float32 (any model trained by resq is far below both).
const (
	MaxStep = 1e6
	MaxBias = 1e12
)

// checkScales checks a weighted layer's steps (one per row of codes, each
// row cols codes long) and biases: a step is in [0, MaxStep], and 0 only
// for a row whose codes are all 0 (the quantizer's step of an all-zero
// tensor); a bias is within ±MaxBias.
func checkScales(stepName string, step []float32, biasName string, bias []float32, codes []int8, cols int) error {
	for j, s := range step {
		switch {
		case s < 0 || s > MaxStep:
			return fmt.Errorf("tensor %s: step %g of row %d out of range [0, %g]", stepName, s, j, MaxStep)
		case s == 0 && slices.ContainsFunc(codes[j*cols:(j+1)*cols], func(c int8) bool { return c != 0 }):
			return fmt.Errorf("tensor %s: step 0 of row %d with non-zero codes", stepName, j)
		}
	}
	for j, b := range bias {
		if b < -MaxBias || b > MaxBias {
			return fmt.Errorf("tensor %s: bias %g of row %d out of range ±%g", biasName, b, j, MaxBias)
		}
	}
	return nil
}

// decodeCodes fetches and unpacks a weighted layer's codes ([rows, cols]).
func decodeCodes(f *safetensors.File, i int, l archLayer) ([]int8, error) {
	name := tensorName(i, "codes")
	t, ok := f.Get(name)
	if !ok {
		return nil, fmt.Errorf("tensor %s missing", name)
	}
	n := int64(l.rows()) * int64(l.cols())
	if l.Encoding == EncSparse {
		// Each entry advances at least one code, so the stream of a valid
		// file holds at most 2 bytes per entry; check before allocating.
		if t.DType != "U8" || len(t.Shape) != 1 || int64(t.Shape[0]) != int64(len(t.Data)) || int64(len(t.Data)) > 2*l.Entries {
			return nil, fmt.Errorf("tensor %s is %s %v, want U8 [at most %d] for %d sparse entries", name, t.DType, t.Shape, 2*l.Entries, l.Entries)
		}
		codes := make([]int8, n)
		if err := unpackSparse(codes, t.Data, l.Bits, l.GapBits, l.Entries); err != nil {
			return nil, fmt.Errorf("tensor %s: %v", name, err)
		}
		return codes, nil
	}
	want := codeBytes(n, l.Bits, l.Encoding)
	if t.DType != "U8" || len(t.Shape) != 1 || int64(t.Shape[0]) != want || int64(len(t.Data)) != want {
		return nil, fmt.Errorf("tensor %s is %s %v, want U8 [%d] for %dx%d %d-bit %s codes", name, t.DType, t.Shape, want, l.rows(), l.cols(), l.Bits, l.Encoding)
	}
	codes := make([]int8, n)
	var err error
	if l.Encoding == EncBase3 {
		err = unpackBase3(codes, t.Data)
	} else {
		err = unpackBits(codes, t.Data, l.Bits)
	}
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %v", name, err)
	}
	return codes, nil
}
