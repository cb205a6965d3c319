package quant

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// FormatVersion is the version of the State JSON this package writes and reads.
const FormatVersion = 1

// Config says how a model is quantized. The zero value is invalid (Bits 0).
type Config struct {
	Bits       int    `json:"bits"`                  // weight precision, 2..8 (2 = ternary)
	Rule       string `json:"rule,omitempty"`        // step rule: l2 (default), maxabs, twn, pow2
	PerChannel bool   `json:"per_channel,omitempty"` // one step per output row instead of per tensor
	// PerGate gives each gate of a recurrent layer's Wih and Whh a step
	// of its own (the nn.Param.Groups blocks of rows); other weights keep
	// one step per tensor. PerChannel, when also set, wins.
	PerGate bool `json:"per_gate,omitempty"`
	// StateBits, when not 0, quantizes the hidden state of every
	// recurrent layer after each step to signed StateBits bits
	// (nn.Recurrent.StateBits, straight-through in training); 0 keeps it
	// float.
	StateBits int `json:"state_bits,omitempty"`
	// FirstLastBits, when not 0, keeps the first and the last quantizable
	// layer at this precision (2..8, e.g. 8) and the others at Bits.
	FirstLastBits int `json:"first_last_bits,omitempty"`
	// BitsPerLayer, when not empty, gives every quantizable layer its own
	// precision (2..8 each, in model order, one entry per layer); it
	// overrides Bits and FirstLastBits. Bits should then be the largest
	// entry (it names the model's precision in records).
	BitsPerLayer []int `json:"bits_per_layer,omitempty"`
	// Reestimate recomputes the steps from W every Reestimate calls of Sync
	// (adaptive steps, Shin et al. 2017); 0 keeps the steps computed from
	// the pretrained weights by Attach, as in the paper.
	Reestimate int `json:"reestimate,omitempty"`
	// ActBits, when not 0, quantizes the outputs of hidden ReLU/sigmoid
	// layers to ActBits unsigned bits (levels 0..2^ActBits-1 times a step),
	// see State.AttachActs. 0 = signals stay float (the 2016 paper).
	ActBits int `json:"act_bits,omitempty"`
	// ActRange sets each signal quantizer's clip: "calib" (default) = the
	// L2-optimal unsigned step on a calibration batch, "max" = the
	// calibration batch's maximum, "pct:P" = its P-th percentile (the
	// static range of the packed integer export), or a positive number =
	// that fixed clip.
	ActRange string `json:"act_range,omitempty"`
}

// Validate reports whether c can be used.
func (c Config) Validate() error {
	if c.Bits < MinBits || c.Bits > MaxBits {
		return fmt.Errorf("quant: bits %d out of range %d..%d", c.Bits, MinBits, MaxBits)
	}
	if c.FirstLastBits != 0 && (c.FirstLastBits < MinBits || c.FirstLastBits > MaxBits) {
		return fmt.Errorf("quant: first/last layer bits %d out of range %d..%d (0 = same as bits)", c.FirstLastBits, MinBits, MaxBits)
	}
	for _, b := range c.BitsPerLayer {
		if b < MinBits || b > MaxBits {
			return fmt.Errorf("quant: bits per layer %s: %d out of range %d..%d", FormatBits(c.BitsPerLayer), b, MinBits, MaxBits)
		}
	}
	r, err := ParseRule(c.Rule)
	if err != nil {
		return err
	}
	for _, b := range append([]int{c.Bits, c.FirstLastBits}, c.BitsPerLayer...) {
		if b != 0 {
			if err := (Quantizer{Bits: b, Rule: r}).Validate(); err != nil {
				return err
			}
		}
	}
	if c.Reestimate < 0 {
		return fmt.Errorf("quant: reestimate %d is negative (0 = fixed steps)", c.Reestimate)
	}
	if c.ActBits != 0 && (c.ActBits < MinBits || c.ActBits > MaxBits) {
		return fmt.Errorf("quant: act bits %d out of range %d..%d (0 = float signals)", c.ActBits, MinBits, MaxBits)
	}
	if c.ActRange != "" && c.ActBits == 0 {
		return fmt.Errorf("quant: act range %q given without act bits", c.ActRange)
	}
	if _, _, err := parseActRange(c.ActRange); err != nil {
		return err
	}
	return c.validateRecurrent()
}

// LayerBits returns the precision of quantizable layer i of n: its
// BitsPerLayer entry, FirstLastBits for the first and last layer when set,
// else Bits.
func (c Config) LayerBits(i, n int) int {
	switch {
	case len(c.BitsPerLayer) > 0:
		return c.BitsPerLayer[i]
	case c.FirstLastBits != 0 && (i == 0 || i == n-1):
		return c.FirstLastBits
	}
	return c.Bits
}

// FormatBits writes a bit list as "8,2,2,8".
func FormatBits(bits []int) string {
	s := make([]string, len(bits))
	for i, b := range bits {
		s[i] = strconv.Itoa(b)
	}
	return strings.Join(s, ",")
}

// ParseBits reads a bit list "8,2,2,8" (each 2..8).
func ParseBits(s string) ([]int, error) {
	var bits []int
	for _, f := range strings.Split(s, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("quant: bits list %q: want comma-separated integers like 8,2,2,8", s)
		}
		if b < MinBits || b > MaxBits {
			return nil, fmt.Errorf("quant: bits list %q: %d out of range %d..%d", s, b, MinBits, MaxBits)
		}
		bits = append(bits, b)
	}
	return bits, nil
}

// parseActRange returns the range mode ("calib", "max", "pct" or "fixed")
// and the fixed clip (for "pct", the percentile).
func parseActRange(s string) (string, float32, error) {
	switch s {
	case "", "calib":
		return "calib", 0, nil
	case "max":
		return "max", 0, nil
	}
	if p, ok := strings.CutPrefix(s, "pct:"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || !(v > 0 && v <= 100) {
			return "", 0, fmt.Errorf("quant: act range %q: want pct:P with 0 < P <= 100", s)
		}
		return "pct", float32(v), nil
	}
	v, err := strconv.ParseFloat(s, 32)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return "", 0, fmt.Errorf("quant: act range %q: want calib, max, pct:P or a positive clip value", s)
	}
	return "fixed", float32(v), nil
}

// LayerInfo describes one quantized weight tensor. Its JSON is what
// `resq ... --json` prints per layer.
type LayerInfo struct {
	Name string    `json:"name"` // the param's name, e.g. "0.weight"
	Bits int       `json:"bits"` // 2..8
	Step []float32 `json:"step"` // one step per tensor, or one per output row (PerChannel)
	// Thresh holds TWN's zero thresholds (0.7*mean|w|), one per step; it
	// is empty for every other rule, whose threshold is D/2.
	Thresh []float32 `json:"thresh,omitempty"`
	QMin   int       `json:"qmin"`  // smallest code, -QMax
	QMax   int       `json:"qmax"`  // largest code, (2^Bits-2)/2
	Shape  []int     `json:"shape"` // shape of the weights
}

// ActInfo describes one signal quantizer inserted after a hidden activation.
type ActInfo struct {
	After int     `json:"after"` // index in the model's original layer list of the activation it follows
	Bits  int     `json:"bits"`  // codes 0..2^Bits-1
	Clip  float32 `json:"clip"`  // largest representable signal; step = Clip/(2^Bits-1)
}

// State is a quantizer attached to a model: the config, one LayerInfo per
// quantizable param (in model order) and the signal quantizers. It owns
// the Q tensors of those params; only its methods write them.
type State struct {
	Config
	Format int         `json:"format"`
	Layers []LayerInfo `json:"layers"`
	Acts   []ActInfo   `json:"acts,omitempty"`

	params  []*nn.Param
	qs      []Quantizer
	acts    []*ActQuant
	calls   int       // Sync calls since Attach/LoadState
	masks   [][]bool  // pruning masks per param (SetMasks); nil: none
	solvers []*solver // one per estimate goroutine
}

// checkFloat returns an error if m already carries quantized weights or
// signal quantizers (Attach, LoadState and Sensitivity need the float model).
func checkFloat(m *nn.Model) error {
	for _, p := range m.Params() {
		if p.Q != nil {
			return fmt.Errorf("quant: model is already quantized (%s has quantized weights); give the float model", p.Name)
		}
	}
	for _, l := range m.Layers {
		if _, ok := l.(*ActQuant); ok {
			return errors.New("quant: model is already quantized (it has signal quantizers); give the float model")
		}
	}
	return nil
}

// quantizable returns the model's quantizable params or an error if it has none.
func quantizable(m *nn.Model) ([]*nn.Param, error) {
	var ps []*nn.Param
	for _, p := range m.Params() {
		if p.Quantizable {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("quant: model %q has no quantizable weights", m.Spec)
	}
	return ps, nil
}

// Attach quantizes m's weights: it computes each quantizable param's step
// from its current (pretrained float) weights with cfg's rule, allocates
// p.Q and fills it with Q(p.W). From then on m computes with the quantized
// weights; call Sync after every optimizer step to keep Q = Q(W).
// It does not insert signal quantizers (see AttachActs).
func Attach(m *nn.Model, cfg Config) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkFloat(m); err != nil {
		return nil, err
	}
	ps, err := quantizable(m)
	if err != nil {
		return nil, err
	}
	if n := len(cfg.BitsPerLayer); n != 0 && n != len(ps) {
		return nil, fmt.Errorf("quant: bits per layer %s has %d entries, model %q has %d quantized layers", FormatBits(cfg.BitsPerLayer), n, m.Spec, len(ps))
	}
	rule, _ := ParseRule(cfg.Rule)
	cfg.Rule = rule.String() // canonical name in the JSON
	cfg.BitsPerLayer = slices.Clone(cfg.BitsPerLayer)
	s := &State{Config: cfg, Format: FormatVersion, params: ps}
	for i, p := range ps {
		bits := cfg.LayerBits(i, len(ps))
		q := Quantizer{Bits: bits, Rule: rule, PerChannel: cfg.PerChannel, PerGate: cfg.PerGate}
		s.qs = append(s.qs, q)
		s.Layers = append(s.Layers, LayerInfo{
			Name: p.Name, Bits: bits, Step: make([]float32, nsteps(q, p)),
			Thresh: make([]float32, nthresh(q, p)),
			QMin:   -q.QMax(), QMax: q.QMax(), Shape: append([]int(nil), p.W.Shape...),
		})
	}
	s.estimate()
	for _, p := range ps {
		p.Q = tensor.New(p.W.Shape...)
	}
	s.quantize()
	setStateBits(m, cfg.StateBits)
	return s, nil
}

// nsteps is the number of steps q keeps for p: one, one per output row
// (the first dimension) with PerChannel, or one per gate (p.Groups) of a
// recurrent matrix with PerGate.
func nsteps(q Quantizer, p *nn.Param) int {
	if q.PerChannel {
		return p.W.Shape[0]
	}
	if q.PerGate && p.Groups > 0 {
		return p.Groups
	}
	return 1
}

// nthresh is the number of zero thresholds q keeps for p: one per step
// with TWN, none otherwise.
func nthresh(q Quantizer, p *nn.Param) int {
	if q.Rule != TWN {
		return 0
	}
	return nsteps(q, p)
}

// Direct is direct quantization (no retraining): Attach and evaluate.
func Direct(m *nn.Model, cfg Config) (*State, error) { return Attach(m, cfg) }

// estimate recomputes every layer's steps from W, one job per tensor or
// per row, over up to GOMAXPROCS goroutines each with its own solver (the
// result does not depend on the split: jobs are independent).
func (s *State) estimate() {
	type job struct {
		q        Quantizer
		w        []float32
		dst, thr *float32
	}
	var jobs []job
	for i, p := range s.params {
		st, th := s.Layers[i].Step, s.Layers[i].Thresh
		cols := len(p.W.Data) / len(st)
		var keep []bool
		if s.masks != nil {
			keep = s.masks[i]
		}
		for r := range st {
			w := p.W.Data[r*cols : (r+1)*cols]
			if keep != nil {
				w = surviving(nil, w, keep[r*cols:(r+1)*cols])
			}
			j := job{s.qs[i], w, &st[r], nil}
			if len(th) > 0 {
				j.thr = &th[r]
			}
			jobs = append(jobs, j)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(jobs))
	for len(s.solvers) < workers {
		s.solvers = append(s.solvers, new(solver))
	}
	parallel(workers, len(jobs), func(worker, i int) {
		j := jobs[i]
		*j.dst = s.solvers[worker].step(j.q, j.w)
		if j.thr != nil {
			*j.thr = j.q.Threshold(j.w)
		}
	})
}

// parallel runs work(worker, i) for i in [0, n) on the given number of
// goroutines (inline when 1), handing out indexes in order.
func parallel(workers, n int, work func(worker, i int)) {
	if workers <= 1 {
		for i := range n {
			work(0, i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				work(w, i)
			}
		})
	}
	wg.Wait()
}

// syncChunk is the number of weights one goroutine quantizes at a time.
const syncChunk = 1 << 15

// quantize writes Q = Q(W) for every layer with the current steps, using
// up to GOMAXPROCS goroutines over fixed chunks (the result does not
// depend on the split: quantization is elementwise).
func (s *State) quantize() {
	type job struct {
		dst, w    []float32
		step, thr float32
		qmax      float32
	}
	var jobs []job
	total := 0
	for i, p := range s.params {
		st, th := s.Layers[i].Step, s.Layers[i].Thresh
		qm := float32(s.Layers[i].QMax)
		cols := len(p.W.Data) / len(st)
		for r, d := range st {
			var t float32
			if len(th) > 0 {
				t = th[r]
			}
			w, q := p.W.Data[r*cols:(r+1)*cols], p.Q.Data[r*cols:(r+1)*cols]
			for o := 0; o < len(w); o += syncChunk {
				e := min(o+syncChunk, len(w))
				jobs = append(jobs, job{q[o:e], w[o:e], d, t, qm})
			}
		}
		total += len(p.W.Data)
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), total/syncChunk))
	parallel(workers, len(jobs), func(_, i int) {
		j := jobs[i]
		applyThr(j.dst, j.w, j.step, j.thr, j.qmax)
	})
}

// Sync re-quantizes Q from W after an optimizer step (train.Hooks.AfterStep)
// and, when Reestimate > 0, first recomputes the steps every Reestimate
// calls. Its only error is a detached state. (NaN weights quantize to 0;
// train.Run stops on non-finite weights itself.) The Reestimate counter
// starts at 0 in Attach and LoadState.
func (s *State) Sync() error {
	if s.params == nil {
		return errors.New("quant: Sync on a detached state")
	}
	s.calls++
	if s.Reestimate > 0 && s.calls%s.Reestimate == 0 {
		s.estimate()
	}
	s.quantize()
	return nil
}

// Detach removes the quantizer from m: p.Q = nil for every param it
// quantized and its signal quantizers are taken out of m.Layers. m then
// computes with the float shadow weights W again (every ActQuant layer is
// removed, including those of InsertActQuant). The State keeps its
// LayerInfo (for reporting) but can no longer Sync.
func (s *State) Detach(m *nn.Model) {
	for _, p := range s.params {
		p.Q = nil
	}
	setStateBits(m, 0)
	if slices.ContainsFunc(m.Layers, func(l nn.Layer) bool { _, ok := l.(*ActQuant); return ok }) {
		ls := m.Layers[:0]
		for _, l := range m.Layers {
			if _, ok := l.(*ActQuant); !ok {
				ls = append(ls, l)
			}
		}
		clear(m.Layers[len(ls):])
		m.Layers = ls
	}
	s.params, s.acts = nil, nil
}

// MarshalJSON encodes the config, format, layers and signal quantizers
// (the value to store in ckpt.Meta.Quant). Steps are float32 in their
// shortest round-tripping decimal form, so LoadState restores them exactly.
func (s *State) MarshalJSON() ([]byte, error) {
	type plain State // no methods: default encoding of the exported fields
	return json.Marshal((*plain)(s))
}

// LoadState re-creates the quantizer described by raw (a MarshalJSON
// output) on the float model m, without re-estimating anything: Q is
// computed from m's W with the stored steps, bit for bit as when the state
// was saved, and the stored signal quantizers are re-inserted.
func LoadState(m *nn.Model, raw json.RawMessage) (*State, error) {
	s := new(State)
	if err := json.Unmarshal(raw, s); err != nil {
		return nil, fmt.Errorf("quant: state: %v", err)
	}
	if s.Format != FormatVersion {
		return nil, fmt.Errorf("quant: state format %d, this resq reads %d", s.Format, FormatVersion)
	}
	if err := s.Config.Validate(); err != nil {
		return nil, err
	}
	if err := checkFloat(m); err != nil {
		return nil, err
	}
	ps, err := quantizable(m)
	if err != nil {
		return nil, err
	}
	if len(ps) != len(s.Layers) {
		return nil, fmt.Errorf("quant: state has %d quantized layers, model %q has %d", len(s.Layers), m.Spec, len(ps))
	}
	rule, _ := ParseRule(s.Rule)
	for i, p := range ps {
		li := s.Layers[i]
		q := Quantizer{Bits: li.Bits, Rule: rule, PerChannel: s.PerChannel, PerGate: s.PerGate}
		if err := q.Validate(); err != nil {
			return nil, fmt.Errorf("quant: state layer %s: %v", li.Name, err)
		}
		switch {
		case li.Name != p.Name:
			return nil, fmt.Errorf("quant: state layer %d is %s, model has %s", i, li.Name, p.Name)
		case !slices.Equal(li.Shape, p.W.Shape):
			return nil, fmt.Errorf("quant: state layer %s has shape %v, model has %v", li.Name, li.Shape, p.W.Shape)
		case li.QMax != q.QMax() || li.QMin != -q.QMax():
			return nil, fmt.Errorf("quant: state layer %s: codes %d..%d do not match %d bits", li.Name, li.QMin, li.QMax, li.Bits)
		}
		if want := nsteps(q, p); len(li.Step) != want {
			return nil, fmt.Errorf("quant: state layer %s has %d steps, want %d", li.Name, len(li.Step), want)
		}
		if want := nthresh(q, p); len(li.Thresh) != want {
			if want > 0 && len(li.Thresh) == 0 {
				return nil, fmt.Errorf("quant: state layer %s: TWN state without thresholds (written by a resq before 0.7*mean|w| thresholds); quantize the float model again", li.Name)
			}
			return nil, fmt.Errorf("quant: state layer %s has %d thresholds, want %d", li.Name, len(li.Thresh), want)
		}
		for _, st := range append(slices.Clone(li.Step), li.Thresh...) {
			if !(st >= 0) || math.IsInf(float64(st), 0) {
				return nil, fmt.Errorf("quant: state layer %s: bad step or threshold %g", li.Name, st)
			}
		}
		s.qs = append(s.qs, q)
	}
	if err := checkActs(m, s.Acts); err != nil {
		return nil, err
	}
	s.params = ps
	for _, p := range ps {
		p.Q = tensor.New(p.W.Shape...)
	}
	s.quantize()
	s.insertActs(m)
	setStateBits(m, s.StateBits)
	return s, nil
}
