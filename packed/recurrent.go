package packed

import (
	"fmt"
	"slices"

	"github.com/resq-dev/resq/internal/safetensors"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
)

// Recurrent layers (format version 4). An "lstm" or "gru" layer stores its
// input-to-hidden matrix Wih [G*Out, In] like a dense layer (codes, step,
// bias; Bits, Encoding and Steps in the arch entry) and its
// hidden-to-hidden matrix Whh [G*Out, Out] as hh_codes and hh_step (Rec's
// HHBits, HHEncoding, HHSteps); a GRU adds its recurrent-side bias
// hh_bias [G*Out]. G is 4 (LSTM gates i, f, g, o) or 3 (GRU r, z, n).
//
// The engine runs the two matrix products on the integer kernels with
// 8-bit activation codes (recint.go), and Predict's float pass runs nn's
// float32 LSTM or GRU on the weights expanded to code*step, the very
// values the quantized model computes with (quant's Q): that pass equals
// the simulated-quantized forward bit for bit.

// recArch holds the recurrent fields of an arch entry.
type recArch struct {
	Seq        bool   `json:"seq,omitempty"`    // returns every step (a layer below another)
	Tokens     bool   `json:"tokens,omitempty"` // each step is one token id in [0, In)
	StateBits  int    `json:"state_bits,omitempty"`
	HHBits     int    `json:"hh_bits"`
	HHEncoding string `json:"hh_encoding"`
	HHSteps    int    `json:"hh_steps"`
}

// recurrentKind reports whether the layer is an lstm or gru.
func (l archLayer) recurrentKind() bool { return l.Kind == "lstm" || l.Kind == "gru" }

// gates returns G of a recurrent layer.
func (l archLayer) gates() int {
	if l.Kind == "gru" {
		return 3
	}
	return 4
}

// recTensors is the number of tensors a recurrent layer stores.
func (l archLayer) recTensors() int {
	if l.Kind == "gru" {
		return 6
	}
	return 5
}

// checkRecurrent validates a recurrent entry for the per-sample input
// shape in and returns its output shape.
func (l archLayer) checkRecurrent(in []int) ([]int, error) {
	canon := archLayer{Kind: l.Kind, In: l.In, Out: l.Out, Bits: l.Bits, Encoding: l.Encoding, Steps: l.Steps, Rec: l.Rec}
	if l != canon {
		return nil, fmt.Errorf("fields not used by this kind are set: %+v", l)
	}
	r := l.Rec
	if r == nil {
		return nil, fmt.Errorf("recurrent fields (rec) missing")
	}
	if l.In <= 0 || l.In > maxDenseIn || l.Out <= 0 || l.Out > maxDenseIn {
		return nil, fmt.Errorf("%d inputs and %d hidden units: want 1..%d each", l.In, l.Out, maxDenseIn)
	}
	stepIn := l.In
	if r.Tokens {
		stepIn = 1
	}
	n := tensor.Numel(in)
	if n%stepIn != 0 || n/stepIn < 1 {
		return nil, fmt.Errorf("input shape %v is not a sequence of %d values per step", in, stepIn)
	}
	steps := n / stepIn
	if steps*l.Out > maxWidth {
		return nil, fmt.Errorf("%d steps of %d hidden units too large", steps, l.Out)
	}
	rows := l.gates() * l.Out
	for _, w := range []struct {
		what        string
		bits, steps int
		enc         string
	}{{"input", l.Bits, l.Steps, l.Encoding}, {"recurrent", r.HHBits, r.HHSteps, r.HHEncoding}} {
		if w.bits < MinBits || w.bits > MaxBits {
			return nil, fmt.Errorf("%d-bit %s weights not supported (engine runs %d..%d)", w.bits, w.what, MinBits, MaxBits)
		}
		if w.enc != EncBits && !(w.enc == EncBase3 && w.bits == 2) {
			return nil, fmt.Errorf("encoding %q of the %s weights not supported for %d bits", w.enc, w.what, w.bits)
		}
		if w.steps != 1 && w.steps != rows {
			return nil, fmt.Errorf("%d steps of the %s weights, want 1 or %d", w.steps, w.what, rows)
		}
	}
	if r.StateBits != 0 && (r.StateBits < MinBits || r.StateBits > MaxBits) {
		return nil, fmt.Errorf("state bits %d: want 0 or %d..%d", r.StateBits, MinBits, MaxBits)
	}
	if r.Seq {
		return []int{steps, l.Out}, nil
	}
	return []int{l.Out}, nil
}

// recData is the payload of a recurrent layer beside its denseData (Wih,
// step, bias): Whh's codes and steps, and the GRU's recurrent-side bias.
type recData struct {
	Codes  []int8
	Step   []float32
	BiasHH []float32
}

// recurrentFromModel converts an nn LSTM or GRU (see fromModel).
func recurrentFromModel(l nn.Layer, wq weightQuant, opt Options, lenient bool) (archLayer, *denseData, error) {
	r, _ := nn.RecurrentOf(l)
	al := archLayer{Kind: l.Kind(), In: r.In, Out: r.Hidden, Rec: &recArch{Seq: r.Seq, Tokens: r.Tokens, StateBits: r.StateBits}}
	rows := al.gates() * r.Hidden
	var bias, biasHH *nn.Param
	switch l := l.(type) {
	case *nn.LSTM:
		bias = l.B
	case *nn.GRU:
		bias, biasHH = l.B, l.BHH
	}
	d := &denseData{Bias: slices.Clone(bias.W.Data), Rec: &recData{}}
	if biasHH != nil {
		d.Rec.BiasHH = slices.Clone(biasHH.W.Data)
	}
	var err error
	al.Bits, al.Steps, d.Codes, d.Step, err = matrixCodes(r.Wih, rows, wq, lenient)
	if err != nil {
		return al, nil, err
	}
	al.Rec.HHBits, al.Rec.HHSteps, d.Rec.Codes, d.Rec.Step, err = matrixCodes(r.Whh, rows, wq, lenient)
	if err != nil {
		return al, nil, err
	}
	al.Encoding, al.Rec.HHEncoding = EncBits, EncBits
	if opt.Base3 && al.Bits == 2 {
		al.Encoding = EncBase3
	}
	if opt.Base3 && al.Rec.HHBits == 2 {
		al.Rec.HHEncoding = EncBase3
	}
	return al, d, nil
}

// matrixCodes returns a recurrent weight matrix's bits, number of steps,
// codes and steps. A step per gate (quant's per-gate quantizers) is
// stored once per row of its gate. lenient sizes without codes and counts
// an unquantized matrix at 32 bits.
func matrixCodes(w *nn.Param, rows int, wq weightQuant, lenient bool) (bits, nsteps int, codes []int8, steps []float32, err error) {
	bits, st, thresh, ok := wq(w)
	if !ok {
		if !lenient {
			return 0, 0, nil, nil, fmt.Errorf("packed: weights %s are not quantized (export needs a quantized model)", w.Name)
		}
		return 32, 0, nil, nil, nil
	}
	cols := len(w.W.Data) / rows
	if len(st) == 0 || rows%len(st) != 0 || (len(thresh) != 0 && len(thresh) != len(st)) {
		if lenient {
			return bits, len(st), nil, st, nil
		}
		return 0, 0, nil, nil, fmt.Errorf("packed: weights %s: %d steps for %d rows", w.Name, len(st), rows)
	}
	per := rows / len(st) // rows per step
	steps = st
	if len(st) != 1 && len(st) != rows {
		steps = make([]float32, rows)
		for r := range steps {
			steps[r] = st[r/per]
		}
	}
	if lenient {
		return bits, len(steps), nil, steps, nil
	}
	if bits < MinBits || bits > MaxBits {
		return 0, 0, nil, nil, fmt.Errorf("packed: weights %s: %d-bit weights not supported (%d..%d)", w.Name, bits, MinBits, MaxBits)
	}
	codes = make([]int8, rows*cols)
	for r := 0; r < rows; r++ {
		s := steps[0]
		if len(steps) > 1 {
			s = steps[r]
		}
		dst, wr := codes[r*cols:(r+1)*cols], w.W.Data[r*cols:(r+1)*cols]
		if len(thresh) == 0 {
			quant.Codes(dst, wr, s, qmax(bits))
			continue
		}
		if t := thresh[r/per%len(thresh)]; t > 0 && s > 0 {
			quant.TernaryCodes(dst, wr, t)
		} else {
			clear(dst)
		}
	}
	return bits, len(steps), codes, steps, nil
}

// recurrentBytes is the stored size of a recurrent layer's tensors.
func recurrentBytes(l archLayer, d *denseData) int64 {
	rows := int64(l.gates() * l.Out)
	n := matrixBytes(rows*int64(l.In), l.Bits, l.Encoding) + matrixBytes(rows*int64(l.Out), l.Rec.HHBits, l.Rec.HHEncoding)
	n += 4 * int64(len(d.Step)+len(d.Rec.Step))
	n += 4 * int64(len(d.Bias)+len(d.Rec.BiasHH))
	return n
}

func matrixBytes(w int64, bits int, enc string) int64 {
	if bits == 32 {
		return 4 * w
	}
	return codeBytes(w, bits, enc)
}

// encodeRecurrent appends a recurrent layer's tensors.
func encodeRecurrent(ts []safetensors.Tensor, i int, l archLayer, d *denseData) ([]safetensors.Tensor, error) {
	rows := l.gates() * l.Out
	if d == nil || d.Rec == nil || len(d.Codes) != rows*l.In || len(d.Rec.Codes) != rows*l.Out || len(d.Bias) != rows ||
		len(d.Step) != l.Steps || len(d.Rec.Step) != l.Rec.HHSteps || (l.Kind == "gru") != (len(d.Rec.BiasHH) == rows) {
		return nil, fmt.Errorf("packed: layer %d: payload does not match %s %d->%d", i, l.Kind, l.In, l.Out)
	}
	for _, m := range []struct {
		what  string
		codes []int8
		bits  int
		enc   string
	}{{"codes", d.Codes, l.Bits, l.Encoding}, {"hh_codes", d.Rec.Codes, l.Rec.HHBits, l.Rec.HHEncoding}} {
		q := qmax(m.bits)
		for j, c := range m.codes {
			if int(c) < -q || int(c) > q {
				return nil, fmt.Errorf("packed: layer %d: %s code %d at %d outside -%d..%d for %d bits", i, m.what, c, j, q, q, m.bits)
			}
		}
		cb := make([]byte, codeBytes(int64(len(m.codes)), m.bits, m.enc))
		if m.enc == EncBase3 {
			packBase3(cb, m.codes)
		} else {
			packBits(cb, m.codes, m.bits)
		}
		ts = append(ts, safetensors.Tensor{Name: tensorName(i, m.what), DType: "U8", Shape: []int{len(cb)}, Data: cb})
	}
	ts = append(ts,
		safetensors.FromF32(tensorName(i, "step"), []int{len(d.Step)}, d.Step),
		safetensors.FromF32(tensorName(i, "hh_step"), []int{len(d.Rec.Step)}, d.Rec.Step),
		safetensors.FromF32(tensorName(i, "bias"), []int{rows}, d.Bias))
	if l.Kind == "gru" {
		ts = append(ts, safetensors.FromF32(tensorName(i, "hh_bias"), []int{rows}, d.Rec.BiasHH))
	}
	return ts, nil
}

// recOp is a loaded recurrent layer: its weights expanded to code*step
// (the float pass, token projections) and its matrices as integer ops.
type recOp struct {
	arch         archLayer
	wih, whh     []float32 // [G*H, In], [G*H, H]
	bias, biasHH []float32 // [G*H]
	ints         recMats
	steps        int // T, the sequence length
	idx          int // index among the model's recurrent ops (scratch slot)
}

// buildRecurrent loads and checks layer i's tensors.
func buildRecurrent(f *safetensors.File, i int, l archLayer, steps int) (*recOp, error) {
	rows := l.gates() * l.Out
	o := &recOp{arch: l, steps: steps}
	ihCodes, ihSteps, err := expandMatrix(&o.wih, f, i, "codes", "step", rows, l.In, l.Bits, l.Encoding, l.Steps)
	if err != nil {
		return nil, err
	}
	hhCodes, hhSteps, err := expandMatrix(&o.whh, f, i, "hh_codes", "hh_step", rows, l.Out, l.Rec.HHBits, l.Rec.HHEncoding, l.Rec.HHSteps)
	if err != nil {
		return nil, err
	}
	if o.bias, err = readF32(f, tensorName(i, "bias"), rows); err != nil {
		return nil, err
	}
	if l.Kind == "gru" {
		if o.biasHH, err = readF32(f, tensorName(i, "hh_bias"), rows); err != nil {
			return nil, err
		}
	}
	for _, b := range [][]float32{o.bias, o.biasHH} {
		if err := checkScales("", nil, tensorName(i, "bias"), b, nil, 0); err != nil {
			return nil, err
		}
	}
	if !l.Rec.Tokens {
		o.ints.ih = matrixOp(ihCodes, rows, l.In, l.Bits, ihSteps, o.bias)
	}
	hhBias := o.biasHH
	if hhBias == nil {
		hhBias = make([]float32, rows)
	}
	o.ints.hh = matrixOp(hhCodes, rows, l.Out, l.Rec.HHBits, hhSteps, hhBias)
	return o, nil
}

// expandMatrix decodes a matrix's codes and steps into *w = code*step and
// returns the codes and the steps, one per row.
func expandMatrix(dst *[]float32, f *safetensors.File, i int, codesName, stepName string, rows, cols, bits int, enc string, nsteps int) ([]int8, []float32, error) {
	codes, err := decodeNamed(f, tensorName(i, codesName), rows, cols, bits, enc)
	if err != nil {
		return nil, nil, err
	}
	steps, err := readF32(f, tensorName(i, stepName), nsteps)
	if err != nil {
		return nil, nil, err
	}
	if len(steps) == 1 && rows > 1 {
		steps = slices.Repeat(steps, rows)
	}
	if err := checkScales(tensorName(i, stepName), steps, "", nil, codes, cols); err != nil {
		return nil, nil, err
	}
	w := make([]float32, rows*cols)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			w[r*cols+c] = float32(codes[r*cols+c]) * steps[r]
		}
	}
	*dst = w
	return codes, steps, nil
}

// decodeNamed unpacks the codes tensor name of a rows x cols matrix.
func decodeNamed(f *safetensors.File, name string, rows, cols, bits int, enc string) ([]int8, error) {
	t, ok := f.Get(name)
	if !ok {
		return nil, fmt.Errorf("tensor %s missing", name)
	}
	n := int64(rows) * int64(cols)
	want := codeBytes(n, bits, enc)
	if t.DType != "U8" || len(t.Shape) != 1 || int64(t.Shape[0]) != want || int64(len(t.Data)) != want {
		return nil, fmt.Errorf("tensor %s is %s %v, want U8 [%d] for %dx%d %d-bit %s codes", name, t.DType, t.Shape, want, rows, cols, bits, enc)
	}
	codes := make([]int8, n)
	var err error
	if enc == EncBase3 {
		err = unpackBase3(codes, t.Data)
	} else {
		err = unpackBits(codes, t.Data, bits)
	}
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %v", name, err)
	}
	return codes, nil
}

// layer returns an nn layer computing with the op's weights (shared, read
// only), for one scratch.
func (o *recOp) layer() nn.Layer {
	l := o.arch
	var nl nn.Layer
	var params []*nn.Param
	if l.Kind == "gru" {
		g := nn.NewGRU(l.In, l.Out, l.Rec.Tokens)
		nl, params = g, []*nn.Param{g.Wih, g.Whh, g.B, g.BHH}
	} else {
		s := nn.NewLSTM(l.In, l.Out, l.Rec.Tokens)
		nl, params = s, []*nn.Param{s.Wih, s.Whh, s.B}
	}
	for k, w := range [][]float32{o.wih, o.whh, o.bias, o.biasHH}[:len(params)] {
		params[k].W.Data = w
		params[k].G = nil
	}
	r, _ := nn.RecurrentOf(nl)
	r.Seq, r.StateBits = l.Rec.Seq, l.Rec.StateBits
	return nl
}

// forwardAlone runs rows samples of in [rows, inSize] into out with nn's
// float32 recurrence on code*step (Predict's float pass).
func (o *recOp) forwardAlone(out, in []float32, rows, inSize int) {
	x := tensor.Tensor{Data: in[:rows*inSize], Shape: []int{rows, inSize}}
	copy(out, o.layer().Forward(&x, false).Data)
}

// checkRecurrentMode refuses recurrent layers in files before version 4
// and in the integer mode.
func checkRecurrentMode(meta map[string]string, i int, l archLayer) error {
	if !l.recurrentKind() {
		return nil
	}
	switch meta["format_version"] {
	case "1", "2", "3":
		return fmt.Errorf("layer %d: recurrent layers need format version 4", i)
	}
	if meta["mode"] != "" {
		return fmt.Errorf("layer %d: recurrent layers run in the float mode only", i)
	}
	return nil
}

// refuseRecurrent is the integer-only export's refusal of recurrent
// models.
func refuseRecurrent(a *arch) error {
	for i, l := range a.Layers {
		if l.recurrentKind() {
			return fmt.Errorf("layer %d (%s): the integer-only mode runs dense and conv models; export recurrent models without --integer", i, l.Kind)
		}
	}
	return nil
}

// floatAs8Bit makes a recurrent entry with float matrices validate (as
// Describe does for float dense layers): 8 bits, one step.
func floatAs8Bit(l *archLayer) {
	r := *l.Rec
	if l.Bits == 32 {
		l.Bits, l.Encoding, l.Steps = 8, EncBits, 1
	}
	if r.HHBits == 32 {
		r.HHBits, r.HHEncoding, r.HHSteps = 8, EncBits, 1
	}
	l.Rec = &r
}

// recurrentStages describes a recurrent layer for cost accounting as its
// two matrices, each a dense stage applied at every one of the T steps
// (Positions = T): the input projection and the recurrent product. The
// gate nonlinearities and elementwise products (about 5*H per step for an
// LSTM) are not counted.
func recurrentStages(l archLayer, d *denseData, in, out []int) []Stage {
	stepIn := l.In
	if l.Rec.Tokens {
		stepIn = 1
	}
	steps := tensor.Numel(in) / stepIn
	rows := l.gates() * l.Out
	ih := Stage{Kind: "dense", InSize: tensor.Numel(in), OutSize: steps * rows, Rows: rows, Cols: l.In, Positions: steps,
		Bits: l.Bits, Steps: len(d.Step), Codes: d.Codes}
	hh := Stage{Kind: "dense", InSize: steps * rows, OutSize: tensor.Numel(out), Rows: rows, Cols: l.Out, Positions: steps,
		Bits: l.Rec.HHBits, Steps: len(d.Rec.Step), Codes: d.Rec.Codes}
	if l.Bits == 32 {
		ih.Steps = 0
	}
	if l.Rec.HHBits == 32 {
		hh.Steps = 0
	}
	return []Stage{ih, hh}
}
