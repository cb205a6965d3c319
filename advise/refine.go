package advise

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/sweep"
)

// RefineOptions control Refine.
type RefineOptions struct {
	Cells   int          // at most this many new cells (float cells included)
	Runner  sweep.Runner // computes the cells (pipeline.NewCellRunner for real runs)
	Workers int          // cells at once (0: automatic)
	Table   *cost.Table  // energy table (nil: as recorded)
	Log     io.Writer    // sweep progress (nil: discard)
}

// Proposal is one refinement: a network size and precision to measure,
// and why.
type Proposal struct {
	Why   string  `json:"why"`
	Width int     `json:"width,omitempty"` // mlp
	Depth int     `json:"depth,omitempty"` // mlp
	Scale float64 `json:"scale,omitempty"` // cnn
	Mode  string  `json:"mode"`
	Bits  int     `json:"bits"`
	Seed  uint64  `json:"seed"`
	Cells int     `json:"cells"` // new cells it runs (its float cell when not yet done, and its own)

	spec *sweep.Spec
}

// RefineResult is what Refine did.
type RefineResult struct {
	Before, After *Answer
	Proposals     []Proposal
	Ran           int // cells run
}

// Refine answers q from the sweep folder dir, proposes up to opt.Cells new
// cells where the answer is uncertain (Propose), runs them into dir with
// package sweep (so they are resumable and deduplicated like any cell),
// and answers again. DIR/sweep.yaml, the spec of the folder, is kept: the
// proposals run as one-size sub-sweeps of it.
func Refine(ctx context.Context, dir string, q Query, opt RefineOptions) (*RefineResult, error) {
	if opt.Cells < 1 {
		return nil, fmt.Errorf("advise: --refine %d: want at least 1 cell", opt.Cells)
	}
	if opt.Runner == nil {
		return nil, fmt.Errorf("advise: refine needs a runner")
	}
	specPath := filepath.Join(dir, "sweep.yaml")
	specSrc, err := os.ReadFile(specPath)
	if err != nil {
		return nil, fmt.Errorf("advise: --refine needs the folder's sweep spec: %v", err)
	}
	spec, err := sweep.ParseSpec("sweep.yaml", specSrc)
	if err != nil {
		return nil, fmt.Errorf("advise: %v", err)
	}
	before, recs, err := answerDir(dir, q, opt.Table)
	if err != nil {
		return nil, err
	}
	props, err := Propose(spec, recs, before, opt.Cells, opt.Table)
	if err != nil {
		return nil, err
	}
	res := &RefineResult{Before: before, Proposals: props}
	defer func() {
		// The sub-sweeps rewrite sweep.yaml; the folder keeps its own spec.
		os.WriteFile(specPath, specSrc, 0o644)
	}()
	for _, p := range props {
		sum, err := sweep.Run(ctx, p.spec, dir, sweep.RunOptions{Runner: opt.Runner, Workers: opt.Workers, Log: opt.Log})
		if sum != nil {
			res.Ran += sum.Ran
		}
		if err != nil {
			return res, err
		}
	}
	if err := os.WriteFile(specPath, specSrc, 0o644); err != nil {
		return res, fmt.Errorf("advise: restore %s: %v", specPath, err)
	}
	res.After, _, err = answerDir(dir, q, opt.Table)
	return res, err
}

// answerDir reads the records of dir and answers q.
func answerDir(dir string, q Query, t *cost.Table) (*Answer, []results.Record, error) {
	recs, err := results.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	if len(recs) == 0 {
		return nil, nil, fmt.Errorf("advise: %s has no records (run 'resq sweep' first)", dir)
	}
	cands, err := Candidates(recs, t)
	if err != nil {
		return nil, nil, err
	}
	a, err := Advise(cands, q)
	return a, recs, err
}

// Propose returns the cells to run next, at most n of them, in this order
// of priority, for the family of the answer's choice (or, when nothing
// fits, of the closest configuration):
//
//  1. for the choice's mode and depth and each bit width of the spec (the
//     choice's first), the largest size between the largest measured one
//     that meets the cost limits and the next measured one that does not
//     (MLP widths: the largest integer width whose predicted weight bytes,
//     activation RAM and energy meet the limits, predicted exactly from the
//     architecture; CNN scales: the geometric mean). When the only limit
//     is on the error, the size halfway on a log scale between the choice
//     and the next smaller measured size, which may be cheaper.
//  2. the neighbouring bit widths (bits-1, bits+1) at the choice's size,
//     when predicted to meet the cost limits.
//  3. one more seed for the choice and the runner-up when their errors
//     are within seed noise or the verdict is thin (fewer than
//     report.MinNoiseSeeds seeds).
//
// New sizes and bit widths use the spec's first seed. A CNN's boundary
// size is the geometric mean of the measured scales around it; its
// predictions take the input shape from the spec's dataset, and when that
// dataset cannot be read no neighbouring bit width is proposed (nothing
// can be predicted to fit).
func Propose(spec *sweep.Spec, recs []results.Record, a *Answer, n int, t *cost.Table) ([]Proposal, error) {
	base := a.Choice
	if base == nil {
		base = a.Closest
	}
	if base == nil || base.Family != spec.Family {
		return nil, nil
	}
	p := &proposer{spec: spec, a: a, base: base, table: t, done: map[string]bool{}, planned: map[string]bool{}, budget: n}
	for _, r := range recs {
		if r.Status == results.StatusOK {
			p.done[r.ID] = true
		}
	}
	if err := p.measured(recs); err != nil {
		return nil, err
	}
	bits := append([]int{base.Bits}, spec.Bits...)
	if base.Mode == results.ModeFloat {
		bits = []int{32}
	}
	seen := map[int]bool{}
	for _, b := range bits {
		if !seen[b] {
			seen[b] = true
			p.sizeBetween(b)
		}
	}
	if base.Mode != results.ModeFloat {
		for _, b := range []int{base.Bits - 1, base.Bits + 1} {
			if b >= 2 && b <= 8 && !seen[b] {
				p.neighbourBits(b)
			}
		}
	}
	p.moreSeeds()
	return p.out, nil
}

type proposer struct {
	spec    *sweep.Spec
	a       *Answer
	base    *Config
	table   *cost.Table
	done    map[string]bool // IDs of ok records
	planned map[string]bool // IDs of cells already proposed
	budget  int
	out     []Proposal
	// sizes measured per (mode, bits) at the base's depth: width or scale
	sizes map[[2]int][]float64
	in    []int
	class int
}

func modeKey(mode string, bits int) [2]int {
	return [2]int{map[string]int{results.ModeFloat: 0, results.ModeDirect: 1, results.ModeRetrain: 2}[mode], bits}
}

// measured collects the measured sizes and the model's input shape.
func (p *proposer) measured(recs []results.Record) error {
	p.sizes = map[[2]int][]float64{}
	for _, r := range recs {
		if r.Status != results.StatusOK || r.Family != p.base.Family || (r.Family == "mlp" && r.Depth != p.base.Depth) {
			continue
		}
		k := modeKey(r.Mode, r.Bits)
		v := sizeValue(r.Family, r.Width, r.Scale)
		if !slices.Contains(p.sizes[k], v) {
			p.sizes[k] = append(p.sizes[k], v)
		}
	}
	for _, s := range p.sizes {
		sort.Float64s(s)
	}
	if p.base.Family == "mlp" {
		m, err := nn.Build(p.base.Model, nil, 1)
		if err != nil {
			return fmt.Errorf("advise: %v", err)
		}
		p.in, p.class = m.In, m.Classes
		return nil
	}
	// A CNN spec holds no input shape: take it from the spec's dataset.
	// Without it nothing can be predicted, and no proposal that needs a
	// prediction is made.
	if ds, err := data.Load(p.spec.Dataset, data.Options{}); err == nil {
		p.in, p.class = ds.Shape, ds.Classes
	}
	return nil
}

func sizeValue(family string, width int, scale float64) float64 {
	if family == "cnn" {
		return scale
	}
	return float64(width)
}

// costLimits returns the query's limits other than the error.
func (p *proposer) costLimits() []Limit {
	var ls []Limit
	for _, l := range p.a.Query.Limits {
		if l.Name != ErrorPct {
			ls = append(ls, l)
		}
	}
	return ls
}

// sizeBetween proposes the boundary size for bits b (see Propose, 1).
func (p *proposer) sizeBetween(b int) {
	sizes := p.sizes[modeKey(p.base.Mode, b)]
	if len(sizes) < 2 {
		return
	}
	if p.a.Objective != ErrorPct {
		// Cheapest meeting an error limit: try a smaller size below the
		// choice, on a log scale.
		cur := sizeValue(p.base.Family, p.base.Width, p.base.Scale)
		i := slices.Index(sizes, cur)
		if b != p.base.Bits || i <= 0 {
			return
		}
		p.propose(p.logMid(sizes[i-1], cur), b, p.spec.Seeds[0], "a size between the cheapest one meeting the error limit and the next smaller one (log scale)")
		return
	}
	limits := p.costLimits()
	lo, hi := -1, -1
	for i, s := range sizes {
		if p.measuredFits(s, b, limits) {
			lo = i
		} else if lo >= 0 && hi < 0 {
			hi = i
		}
	}
	if lo < 0 || hi < 0 || hi != lo+1 {
		return
	}
	var s float64
	if p.base.Family == "mlp" {
		// Largest width in (sizes[lo], sizes[hi]) predicted to fit.
		l, h := int(sizes[lo]), int(sizes[hi]) // fits at l, not at h
		for h-l > 1 {
			mid := (l + h) / 2
			if p.fits(float64(mid), b, limits) {
				l = mid
			} else {
				h = mid
			}
		}
		if l == int(sizes[lo]) {
			return
		}
		s = float64(l)
	} else {
		s = p.logMid(sizes[lo], sizes[hi])
	}
	p.propose(s, b, p.spec.Seeds[0], fmt.Sprintf("the largest size predicted to fit the budget, between measured %g and %g", sizes[lo], sizes[hi]))
}

// measuredFits reports whether the measured configuration of size s at
// bits b (the base's mode and depth) meets the limits.
func (p *proposer) measuredFits(s float64, b int, limits []Limit) bool {
	for _, c := range p.a.all() {
		if c.Family == p.base.Family && c.Depth == p.base.Depth && c.Mode == p.base.Mode && c.Bits == b &&
			sizeValue(c.Family, c.Width, c.Scale) == s {
			for _, l := range limits {
				if !meets(c, l) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// logMid returns the geometric mean of a and b (a whole width for MLPs).
func (p *proposer) logMid(a, b float64) float64 {
	m := math.Sqrt(a * b)
	if p.base.Family == "mlp" {
		m = math.Round(m)
	} else {
		m = math.Round(m*1000) / 1000
	}
	return m
}

// neighbourBits proposes bits b at the choice's size (see Propose, 2).
func (p *proposer) neighbourBits(b int) {
	s := sizeValue(p.base.Family, p.base.Width, p.base.Scale)
	if slices.Contains(p.sizes[modeKey(p.base.Mode, b)], s) || !p.fits(s, b, p.costLimits()) {
		return
	}
	p.propose(s, b, p.spec.Seeds[0], fmt.Sprintf("the neighbouring bit width %d at the choice's size", b))
}

// moreSeeds proposes one more seed for the two best (see Propose, 3).
func (p *proposer) moreSeeds() {
	a := p.a
	if a.Choice == nil || a.RunnerUp == nil || !(a.Noise.Within || a.Noise.Thin) {
		return
	}
	var next uint64
	for _, s := range p.spec.Seeds {
		next = max(next, s)
	}
	for _, c := range []*Config{a.Choice, a.RunnerUp} {
		for _, s := range c.Seeds {
			next = max(next, s)
		}
	}
	next++
	for _, c := range []*Config{a.Choice, a.RunnerUp} {
		if c.Family != p.base.Family {
			continue
		}
		p.proposeFor(sizeValue(c.Family, c.Width, c.Scale), c.Depth, c.Mode, c.Bits, next, "another seed: the two best are within seed noise, or have too few seeds to tell")
	}
}

// subSpec returns the spec of one cell group: size s (and depth), its
// float cell and, unless mode is float, its cell of mode at bits b.
func (p *proposer) subSpec(s float64, depth int, mode string, b int, seed uint64) *sweep.Spec {
	sub := *p.spec
	sub.Seeds = []uint64{seed}
	sub.Modes = []string{results.ModeFloat}
	sub.Bits = []int{p.spec.Bits[0]}
	if mode != results.ModeFloat {
		sub.Modes = append(sub.Modes, mode)
		sub.Bits = []int{b}
	}
	if p.base.Family == "mlp" {
		sub.MLP.Widths, sub.MLP.Depths = []int{int(s)}, []int{depth}
	} else {
		sub.CNN.Scales = []float64{s}
	}
	return &sub
}

// propose adds a proposal when its new cells fit the remaining budget.
func (p *proposer) propose(s float64, b int, seed uint64, why string) {
	p.proposeFor(s, p.base.Depth, p.base.Mode, b, seed, why)
}

// proposeFor is propose for a given depth and mode.
func (p *proposer) proposeFor(s float64, depth int, mode string, b int, seed uint64, why string) {
	sub := p.subSpec(s, depth, mode, b, seed)
	cells, err := sub.Cells()
	if err != nil {
		return
	}
	var fresh []string
	for _, c := range cells {
		if !p.done[c.ID] && !p.planned[c.ID] {
			fresh = append(fresh, c.ID)
		}
	}
	if len(fresh) == 0 || len(fresh) > p.budget {
		return
	}
	for _, id := range fresh {
		p.planned[id] = true
	}
	p.budget -= len(fresh)
	pr := Proposal{Why: why, Mode: mode, Bits: b, Seed: seed, Cells: len(fresh), spec: sub}
	if p.base.Family == "mlp" {
		pr.Width, pr.Depth = int(s), depth
	} else {
		pr.Scale = s
	}
	if pr.Mode == results.ModeFloat {
		pr.Bits = 32
	}
	p.out = append(p.out, pr)
}

// Label is a short human name: "mlp w=176 d=2 retrain 3b".
func (p *Proposal) Label() string {
	c := Config{Family: "mlp", Width: p.Width, Depth: p.Depth, Scale: p.Scale, Mode: p.Mode, Bits: p.Bits}
	if p.Width == 0 {
		c.Family = "cnn"
	}
	return c.Label()
}
