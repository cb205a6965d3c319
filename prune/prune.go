package prune

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/resq-dev/resq/nn"
)

// Scopes of the magnitude threshold.
const (
	ScopeLayer  = "layer"  // each layer reaches the target sparsity
	ScopeGlobal = "global" // one threshold over all pruned layers
)

// Default ramp of the schedule, as fractions of the run's steps.
const (
	DefaultBegin = 0.0
	DefaultEnd   = 0.7
	// updatesPerRamp is the default number of mask updates over the ramp.
	updatesPerRamp = 50
)

// Config says how far and how a model is pruned. The zero value prunes
// nothing.
type Config struct {
	Sparsity float64 `json:"sparsity"`        // final fraction of zero weights, [0, 1)
	Scope    string  `json:"scope,omitempty"` // layer (default) or global
	Begin    float64 `json:"begin,omitempty"` // start of the ramp, fraction of the steps (default 0)
	End      float64 `json:"end,omitempty"`   // end of the ramp (default 0.7)
	Every    int     `json:"every,omitempty"` // steps between mask updates (0: the ramp / 50)
}

// CheckSparsity reports whether s is a valid sparsity.
func CheckSparsity(s float64) error {
	if !(s >= 0 && s < 1) {
		return fmt.Errorf("prune: sparsity %s out of range [0, 1)", strconv.FormatFloat(s, 'g', -1, 64))
	}
	return nil
}

// Validate reports whether c can be used.
func (c Config) Validate() error {
	if err := CheckSparsity(c.Sparsity); err != nil {
		return err
	}
	switch c.Scope {
	case "", ScopeLayer, ScopeGlobal:
	default:
		return fmt.Errorf("prune: scope %q: want layer or global", c.Scope)
	}
	b, e := c.ramp()
	if !(b >= 0 && b < e && e <= 1) {
		return fmt.Errorf("prune: ramp %g..%g: want 0 <= begin < end <= 1", b, e)
	}
	if c.Every < 0 {
		return fmt.Errorf("prune: every %d is negative (0: the ramp / %d)", c.Every, updatesPerRamp)
	}
	return nil
}

// ramp returns Begin and End with their defaults.
func (c Config) ramp() (begin, end float64) {
	begin, end = c.Begin, c.End
	if end == 0 {
		end = DefaultEnd
	}
	return begin, end
}

// Target returns the scheduled sparsity after step t of total steps,
// starting from initial sparsity si (Zhu and Gupta's cubic ramp).
func (c Config) Target(t, total int, si float64) float64 {
	b, e := c.ramp()
	t0, t1 := b*float64(total), e*float64(total)
	sf := max(c.Sparsity, si)
	switch {
	case float64(t) <= t0:
		return si
	case float64(t) >= t1:
		return sf
	}
	r := 1 - (float64(t)-t0)/(t1-t0)
	return sf + (si-sf)*r*r*r
}

// Pruner prunes the quantizable params of one model along a schedule.
// It is not safe for concurrent use.
type Pruner struct {
	cfg     Config
	params  []*nn.Param
	keep    [][]bool // per param, false = pruned
	initial float64  // sparsity at the start
	total   int      // steps of the run
	every   int      // steps between updates
	t       int      // steps taken
	last    int      // last step the mask changed
	// OnChange, when set, receives the masks after every change
	// (quant.State.SetMasks).
	OnChange func(keep [][]bool) error
}

// New returns a pruner for m's quantizable params over a run of total
// optimizer steps. Weights already exactly zero start pruned.
func New(m *nn.Model, cfg Config, total int) (*Pruner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if total < 1 {
		return nil, fmt.Errorf("prune: run of %d steps", total)
	}
	p := &Pruner{cfg: cfg, total: total, last: -1}
	var zeros, n int
	for _, q := range m.Params() {
		if !q.Quantizable {
			continue
		}
		k := make([]bool, len(q.W.Data))
		for i, v := range q.W.Data {
			k[i] = v != 0
			if v == 0 {
				zeros++
			}
		}
		n += len(k)
		p.params = append(p.params, q)
		p.keep = append(p.keep, k)
	}
	if n == 0 {
		return nil, fmt.Errorf("prune: model %q has no prunable weights", m.Spec)
	}
	p.initial = float64(zeros) / float64(n)
	b, e := cfg.ramp()
	p.every = cfg.Every
	if p.every == 0 {
		p.every = max(1, int((e-b)*float64(total))/updatesPerRamp)
	}
	return p, nil
}

// Masks returns the current masks, one per quantizable param in model
// order (false = pruned). They are the pruner's; do not modify them.
func (p *Pruner) Masks() [][]bool { return p.keep }

// Start applies the schedule's first target (the initial sparsity, or
// more when the ramp begins at 0) before the first step; call it after a
// quantizer is attached so that OnChange sees the masks.
func (p *Pruner) Start() error {
	target := p.cfg.Target(0, p.total, p.initial)
	if p.recompute(target) {
		p.last = 0
	}
	p.Apply()
	if p.OnChange != nil && (p.initial > 0 || p.last == 0) {
		return p.OnChange(p.keep)
	}
	return nil
}

// OneShot prunes to the final sparsity at once (one-shot magnitude
// pruning, e.g. before direct quantization) and passes the masks on.
func (p *Pruner) OneShot() error {
	p.recompute(max(p.cfg.Sparsity, p.initial))
	p.Apply()
	if p.OnChange != nil {
		return p.OnChange(p.keep)
	}
	return nil
}

// Step is the hook after each optimizer step (train.Hooks.AfterStep,
// before the quantizer's Sync): it advances the schedule, updates the
// masks when an update is due and sets pruned weights to 0.
func (p *Pruner) Step() error {
	p.t++
	_, e := p.cfg.ramp()
	t1 := int(math.Ceil(e * float64(p.total)))
	due := p.t <= t1 && (p.t%p.every == 0 || p.t == t1)
	return p.update(p.t, due)
}

// update recomputes the masks at step t when due, then zeroes pruned W.
func (p *Pruner) update(t int, due bool) error {
	if due {
		target := p.cfg.Target(t, p.total, p.initial)
		changed := p.recompute(target)
		if changed && p.OnChange != nil {
			p.Apply()
			if err := p.OnChange(p.keep); err != nil {
				return err
			}
		}
		if changed {
			p.last = t
		}
	}
	p.Apply()
	return nil
}

// Apply sets every pruned weight to exactly 0.
func (p *Pruner) Apply() {
	for i, q := range p.params {
		k := p.keep[i]
		for j := range q.W.Data {
			if !k[j] {
				q.W.Data[j] = 0
			}
		}
	}
}

// recompute sets the masks for sparsity s; it reports whether any weight
// was newly pruned. Masks only grow: kept weights are chosen among those
// not yet pruned.
func (p *Pruner) recompute(s float64) bool {
	if p.cfg.Sparsity <= p.initial {
		return false // nothing to prune beyond the model's zeros: the mask is fixed
	}
	if p.cfg.Scope == ScopeGlobal {
		var n int
		for _, k := range p.keep {
			n += len(k)
		}
		return p.pruneTo(p.params, p.keep, int(math.Round(s*float64(n))))
	}
	changed := false
	for i := range p.params {
		n := len(p.keep[i])
		if p.pruneTo(p.params[i:i+1], p.keep[i:i+1], int(math.Round(s*float64(n)))) {
			changed = true
		}
	}
	return changed
}

// ref addresses one weight of a group of params.
type ref struct {
	mag    float32
	layer  int32
	offset int32
}

// pruneTo prunes the smallest-magnitude weights of the params until
// exactly want of them are pruned (never fewer than are pruned already).
func (p *Pruner) pruneTo(params []*nn.Param, keep [][]bool, want int) bool {
	pruned := 0
	var cand []ref
	for l, q := range params {
		for j, v := range q.W.Data {
			if !keep[l][j] {
				pruned++
				continue
			}
			cand = append(cand, ref{float32(math.Abs(float64(v))), int32(l), int32(j)})
		}
	}
	more := want - pruned
	if more <= 0 {
		return false
	}
	more = min(more, len(cand))
	slices.SortFunc(cand, func(a, b ref) int {
		switch {
		case a.mag < b.mag:
			return -1
		case a.mag > b.mag:
			return 1
		case a.layer != b.layer:
			return int(a.layer - b.layer)
		}
		return int(a.offset - b.offset)
	})
	for _, c := range cand[:more] {
		keep[c.layer][c.offset] = false
	}
	return true
}

// Sparsity returns the fraction of pruned weights of each quantizable
// param, in model order.
func (p *Pruner) Sparsity() []float64 {
	out := make([]float64, len(p.keep))
	for i, k := range p.keep {
		out[i] = float64(len(k)-count(k)) / float64(max(len(k), 1))
	}
	return out
}

// count returns the number of true entries.
func count(k []bool) int {
	n := 0
	for _, v := range k {
		if v {
			n++
		}
	}
	return n
}

// Measure returns the fraction of exactly-zero values of each quantizable
// param of m (its quantized weights when a quantizer is attached), in
// model order.
func Measure(m *nn.Model) []float64 {
	var out []float64
	for _, q := range m.Params() {
		if !q.Quantizable {
			continue
		}
		v := q.Value().Data
		z := 0
		for _, x := range v {
			if x == 0 {
				z++
			}
		}
		out = append(out, float64(z)/float64(max(len(v), 1)))
	}
	return out
}
