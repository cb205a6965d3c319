package quant

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// ActQuant is the signal quantizer: an nn.Layer placed after a hidden
// ReLU or sigmoid that rounds its (non-negative) output to one of the
// 2^Bits levels 0, D, 2D, ..., Clip with D = Clip/(2^Bits-1):
//
//	y = D * min(floor(x/D + 0.5), 2^Bits-1)
//
// (the weight quantizer's kernel with qmax = 2^Bits-1). Backward is the
// clipped straight-through estimator: dx = dy where x < Clip, 0 where the
// signal saturates. Any shape; it has no params.
type ActQuant struct {
	Bits int     // 2..8
	Clip float32 // largest level; 0 maps every signal to 0

	calib []float32 // calibration mode: Forward passes x through and records it
	x     *tensor.Tensor
	y, dx *tensor.Tensor
}

// Kind returns "actquant".
func (*ActQuant) Kind() string { return "actquant" }

// Params returns nil.
func (*ActQuant) Params() []*nn.Param { return nil }

// Levels returns the largest code, 2^Bits-1.
func (a *ActQuant) Levels() int { return 1<<a.Bits - 1 }

// Step returns the spacing of the levels, Clip/(2^Bits-1).
func (a *ActQuant) Step() float32 { return a.Clip / float32(a.Levels()) }

// Forward returns the quantized signals with x's shape (owned by a).
func (a *ActQuant) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	if a.calib != nil {
		a.calib = append(a.calib, x.Data...)
		return x
	}
	a.x = x
	a.y = ensure(a.y, x.Shape)
	apply(a.y.Data, x.Data, a.Step(), float32(a.Levels()))
	return a.y
}

// Backward passes dy through where the last input was below Clip.
func (a *ActQuant) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if a.x == nil || !slices.Equal(dy.Shape, a.x.Shape) {
		var xs []int
		if a.x != nil {
			xs = a.x.Shape
		}
		panic(fmt.Sprintf("quant: actquant: gradient %v does not match input %v", dy.Shape, xs))
	}
	a.dx = ensure(a.dx, dy.Shape)
	c := a.Clip
	for i, x := range a.x.Data {
		if x < c {
			a.dx.Data[i] = dy.Data[i]
		} else {
			a.dx.Data[i] = 0
		}
	}
	return a.dx
}

// ensure returns t if it has shape, else a new tensor of that shape.
func ensure(t *tensor.Tensor, shape []int) *tensor.Tensor {
	if t != nil && slices.Equal(t.Shape, shape) {
		return t
	}
	return tensor.New(shape...)
}

// unsignedAct reports whether a layer kind produces non-negative signals
// that ActQuant can follow.
func unsignedAct(kind string) bool { return kind == "relu" || kind == "sigmoid" }

// AttachActs inserts a signal quantizer with s.ActBits bits after every
// hidden ReLU/sigmoid of m and sets each clip by s.ActRange from forward
// passes (evaluation mode, with the current quantized weights) over the
// calibration batch x [batch, D], one pass per quantizer in order, with
// the earlier quantizers already active:
//
//   - "calib": the clip of the L2-optimal unsigned uniform quantizer of the
//     layer's signals (the same exact/global step search as the weights,
//     with codes 0..2^ActBits-1);
//   - "max": the largest signal in the batch;
//   - "pct:P": the P-th percentile of the layer's signals (Percentile), the
//     static range rule of the packed integer export;
//   - a number: that clip for every layer.
//
// The clips are recorded in s.Acts so LoadState re-creates them.
func (s *State) AttachActs(m *nn.Model, x *tensor.Tensor) error {
	if s.ActBits == 0 {
		return errors.New("quant: act bits not set in the config (signal quantization is off)")
	}
	if len(s.acts) > 0 {
		return errors.New("quant: signal quantizers already attached")
	}
	mode, fixed, err := parseActRange(s.ActRange)
	if err != nil {
		return err
	}
	idx, err := hiddenActs(m)
	if err != nil {
		return err
	}
	acts := make([]ActInfo, len(idx))
	for i, after := range idx {
		acts[i] = ActInfo{After: after, Bits: s.ActBits}
	}
	s.Acts = acts
	s.insertActs(m)
	if mode == "fixed" {
		for i, a := range s.acts {
			a.Clip, s.Acts[i].Clip = fixed, fixed
		}
		return nil
	}
	// Sequential calibration: quantizer i records its input in a pass where
	// quantizers before it already quantize and those after pass through,
	// so each clip is fitted to the signals it will see.
	for _, a := range s.acts {
		a.calib = []float32{}
	}
	for i, a := range s.acts {
		for _, b := range s.acts[i:] { // a records; the later ones pass through
			b.calib = b.calib[:0]
		}
		m.Forward(x, false)
		var clip float32
		if mode == "pct" {
			clip = Percentile(a.calib, float64(fixed))
		} else if mode == "max" {
			for _, v := range a.calib {
				clip = max(clip, v)
			}
		} else {
			// Signals are >= 0: the unsigned quantizer with codes 0..L is the
			// magnitude part of the symmetric one with qmax = L.
			var sv solver
			sv.prepare(a.calib)
			if len(sv.a) > 0 {
				l := a.Levels()
				clip = float32(sv.l2(l)) * float32(l)
			}
		}
		a.calib = nil
		a.Clip, s.Acts[i].Clip = clip, clip
	}
	return nil
}

// hiddenActs returns the indexes in m.Layers of the activations a signal
// quantizer follows: every ReLU and sigmoid (the output layer of an nn
// model has none). A tanh is an error: its signals are signed.
func hiddenActs(m *nn.Model) ([]int, error) {
	var idx []int
	for i, l := range m.Layers {
		k := l.Kind()
		if k == "tanh" {
			return nil, fmt.Errorf("quant: signal quantization needs non-negative activations (relu, sigmoid); layer %d is tanh", i)
		}
		if unsignedAct(k) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("quant: model %q has no hidden relu or sigmoid to quantize", m.Spec)
	}
	if err := checkNoBNAfter(m, idx[0]); err != nil {
		return nil, err
	}
	return idx, nil
}

// checkNoBNAfter refuses signal quantizers in front of a BatchNorm: nn
// names BatchNorm buffers ("3.running_mean") by layer position, which an
// inserted layer would shift, so a checkpoint would no longer load.
func checkNoBNAfter(m *nn.Model, first int) error {
	for i := first + 1; i < len(m.Layers); i++ {
		if m.Layers[i].Kind() == "batchnorm" {
			return fmt.Errorf("quant: signal quantization is not available for models with BatchNorm after an activation (layer %d): checkpoint buffer names follow layer positions", i)
		}
	}
	return nil
}

// InsertActQuant inserts an ActQuant with bits and clip clips[i] after the
// i-th hidden ReLU/sigmoid of m and returns them in order. It is the
// low-level form of State.AttachActs (which also calibrates the clips and
// records them for checkpoints); State.Detach removes them too.
func InsertActQuant(m *nn.Model, bits int, clips []float32) ([]*ActQuant, error) {
	if bits < MinBits || bits > MaxBits {
		return nil, fmt.Errorf("quant: act bits %d out of range %d..%d", bits, MinBits, MaxBits)
	}
	for _, l := range m.Layers {
		if _, ok := l.(*ActQuant); ok {
			return nil, errors.New("quant: model already has signal quantizers")
		}
	}
	idx, err := hiddenActs(m)
	if err != nil {
		return nil, err
	}
	if len(clips) != len(idx) {
		return nil, fmt.Errorf("quant: %d clips for %d hidden activations", len(clips), len(idx))
	}
	acts := make([]ActInfo, len(idx))
	for i, after := range idx {
		acts[i] = ActInfo{After: after, Bits: bits, Clip: clips[i]}
	}
	if err := checkActs(m, acts); err != nil {
		return nil, err
	}
	s := State{Acts: acts}
	s.insertActs(m)
	return s.acts, nil
}

// insertActs puts an ActQuant (with the recorded clips) after each layer
// named by s.Acts; After indexes m's layer list without quantizers.
func (s *State) insertActs(m *nn.Model) {
	if len(s.Acts) == 0 {
		return
	}
	ls := make([]nn.Layer, 0, len(m.Layers)+len(s.Acts))
	j := 0
	for i, l := range m.Layers {
		ls = append(ls, l)
		if j < len(s.Acts) && s.Acts[j].After == i {
			a := &ActQuant{Bits: s.Acts[j].Bits, Clip: s.Acts[j].Clip}
			s.acts = append(s.acts, a)
			ls = append(ls, a)
			j++
		}
	}
	m.Layers = ls
}

// checkActs validates stored signal quantizers against m.
func checkActs(m *nn.Model, acts []ActInfo) error {
	for i, a := range acts {
		switch {
		case a.After < 0 || a.After >= len(m.Layers):
			return fmt.Errorf("quant: state signal quantizer %d follows layer %d, model has %d layers", i, a.After, len(m.Layers))
		case i > 0 && a.After <= acts[i-1].After:
			return fmt.Errorf("quant: state signal quantizers out of order at %d", i)
		case !unsignedAct(m.Layers[a.After].Kind()):
			return fmt.Errorf("quant: state signal quantizer %d follows layer %d (%s), want relu or sigmoid", i, a.After, m.Layers[a.After].Kind())
		case a.Bits < MinBits || a.Bits > MaxBits:
			return fmt.Errorf("quant: state signal quantizer %d: bits %d out of range %d..%d", i, a.Bits, MinBits, MaxBits)
		case !(a.Clip >= 0) || math.IsInf(float64(a.Clip), 0):
			return fmt.Errorf("quant: state signal quantizer %d: bad clip %g", i, a.Clip)
		}
	}
	if len(acts) > 0 {
		return checkNoBNAfter(m, acts[0].After)
	}
	return nil
}

// SensRow is one line of a layer-sensitivity table.
type SensRow struct {
	Layer      string    `json:"layer"` // param name, e.g. "2.weight"
	Bits       int       `json:"bits"`
	Step       []float32 `json:"step"`
	TestErrPct float64   `json:"test_error_pct"`
}

// Sensitivity quantizes one layer at a time (the others stay float) at
// each of bits with cfg's rule and per-channel setting, calls eval (which
// returns the test error in percent) and restores the float layer. m must
// not be quantized; it is unchanged afterwards. Rows are in layer order,
// then in the order of bits.
func Sensitivity(m *nn.Model, bits []int, cfg Config, eval func() (float64, error)) ([]SensRow, error) {
	if len(bits) == 0 {
		return nil, errors.New("quant: sensitivity needs at least one bit width")
	}
	rule, err := ParseRule(cfg.Rule)
	if err != nil {
		return nil, err
	}
	for _, b := range bits {
		if err := (Quantizer{Bits: b, Rule: rule}).Validate(); err != nil {
			return nil, err
		}
	}
	if err := checkFloat(m); err != nil {
		return nil, err
	}
	ps, err := quantizable(m)
	if err != nil {
		return nil, err
	}
	var rows []SensRow
	var s solver
	for _, p := range ps {
		q := tensor.New(p.W.Shape...)
		for _, b := range bits {
			qz := Quantizer{Bits: b, Rule: rule, PerChannel: cfg.PerChannel}
			steps := []float32{0}
			if qz.PerChannel {
				steps = make([]float32, p.W.Shape[0])
			}
			cols := len(p.W.Data) / len(steps)
			for r := range steps {
				w := p.W.Data[r*cols : (r+1)*cols]
				steps[r] = s.step(qz, w)
				applyThr(q.Data[r*cols:(r+1)*cols], w, steps[r], qz.Threshold(w), float32(qz.QMax()))
			}
			p.Q = q
			e, err := eval()
			p.Q = nil
			if err != nil {
				return rows, fmt.Errorf("quant: sensitivity of %s at %d bits: %w", p.Name, b, err)
			}
			rows = append(rows, SensRow{Layer: p.Name, Bits: b, Step: slices.Clone(steps), TestErrPct: e})
		}
	}
	return rows, nil
}
