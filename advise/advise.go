package advise

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/resq-dev/resq/report"
	"github.com/resq-dev/resq/units"
)

// Names of the figures a constraint can bound (they are also the flag
// names' stems: --max-weight-bytes, --max-ram, --max-energy-nj,
// --max-latency-us, --max-error-pct) and that --minimize can name.
const (
	WeightBytes = "weight-bytes"
	RAM         = "ram"
	Energy      = "energy"
	Latency     = "latency"
	ErrorPct    = "error-pct"
)

// Limit is an upper bound on one figure.
type Limit struct {
	Name  string  `json:"name"`  // WeightBytes, RAM, Energy, Latency or ErrorPct
	Value float64 `json:"value"` // bytes, bytes, nJ, µs or percent
}

// Flag returns the command-line flag of the limit, e.g. "--max-weight-bytes".
func (l Limit) Flag() string {
	switch l.Name {
	case Energy:
		return "--max-energy-nj"
	case Latency:
		return "--max-latency-us"
	}
	return "--max-" + l.Name
}

// Format prints a figure of the limit's kind.
func (l Limit) Format(v float64) string { return formatFigure(l.Name, v) }

func formatFigure(name string, v float64) string {
	switch name {
	case WeightBytes, RAM:
		return units.FormatBytes(v)
	case Energy:
		return units.FormatEnergy(v)
	case Latency:
		if math.IsNaN(v) {
			return "not measured"
		}
		return fmt.Sprintf("%.1f us", v)
	}
	return fmt.Sprintf("%.2f%%", v)
}

// Query is what the designer asks: every limit must hold; Minimize names
// the cost to minimise when the only limit is on the error.
type Query struct {
	Limits   []Limit
	Minimize string // WeightBytes (default), RAM, Energy or Latency
}

// Validate checks the query.
func (q *Query) Validate() error {
	seen := map[string]bool{}
	for _, l := range q.Limits {
		if seen[l.Name] {
			return fmt.Errorf("advise: %s given twice", l.Flag())
		}
		seen[l.Name] = true
		if !(l.Value >= 0) || math.IsInf(l.Value, 0) {
			return fmt.Errorf("advise: %s %g: a budget must be a finite number >= 0", l.Flag(), l.Value)
		}
		switch l.Name {
		case WeightBytes, RAM, Energy, Latency, ErrorPct:
		default:
			return fmt.Errorf("advise: unknown limit %q", l.Name)
		}
	}
	switch q.Minimize {
	case "", WeightBytes, RAM, Energy, Latency:
	default:
		return fmt.Errorf("advise: --minimize %q: want weight-bytes, ram, energy or latency", q.Minimize)
	}
	return nil
}

// minimizing reports whether the query asks for the cheapest configuration
// (only an error limit) rather than the most accurate one.
func (q *Query) minimizing() bool {
	return len(q.Limits) == 1 && q.Limits[0].Name == ErrorPct
}

func (q *Query) minimize() string {
	if q.Minimize == "" {
		return WeightBytes
	}
	return q.Minimize
}

// Answer is advise's decision.
type Answer struct {
	Query      Query
	Considered int // configurations measured
	Feasible   int // of them, how many meet every limit

	Choice   *Config // nil when nothing fits
	RunnerUp *Config // the second best that fits (nil if none)
	// Objective is what was optimised: ErrorPct (the lowest error) or the
	// cost Query.Minimize names.
	Objective string
	// Binding is the limit that keeps a better configuration out ("" when
	// none alone does); BindingWhy says which and by how much.
	Binding    string
	BindingWhy string
	// Margin is the runner-up's objective minus the choice's (percentage
	// points of error, or the cost's unit); Noise compares their errors
	// by report.CompareNoise.
	Margin float64
	Noise  report.Noise

	// When nothing fits: the limits that exclude everything (each alone,
	// or, when none does alone, all of them together) and the closest
	// configuration with the limit it misses most, relative to the limit.
	Excluders []string
	Closest   *Config
	ClosestBy string

	cands []*Config // every configuration measured
}

// all returns every configuration the answer considered.
func (a *Answer) all() []*Config { return a.cands }

// Fits reports whether some configuration meets every limit.
func (a *Answer) Fits() bool { return a.Choice != nil }

// Advise answers q from the measured configurations.
func Advise(cands []*Config, q Query) (*Answer, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("advise: no measured configurations")
	}
	for _, l := range q.Limits {
		if l.Name == Latency && !anyTimed(cands) {
			return nil, fmt.Errorf("advise: --max-latency-us: no record has a latency (run the sweep with --measure-latency, or resq cost DIR --measure-latency)")
		}
	}
	if q.Minimize == Latency && !anyTimed(cands) {
		return nil, fmt.Errorf("advise: --minimize latency: no record has a latency (run the sweep with --measure-latency, or resq cost DIR --measure-latency)")
	}
	a := &Answer{Query: q, Considered: len(cands), Objective: ErrorPct, cands: cands}
	if q.minimizing() {
		a.Objective = q.minimize()
	}
	feas := filter(cands, q.Limits)
	a.Feasible = len(feas)
	if len(feas) == 0 {
		a.explainNothing(cands)
		return a, nil
	}
	rank(feas, a.Objective)
	a.Choice = feas[0]
	if len(feas) > 1 {
		a.RunnerUp = feas[1]
		a.Margin = a.RunnerUp.value(a.Objective) - a.Choice.value(a.Objective)
		a.Noise = report.CompareNoise(a.Choice.Err, a.RunnerUp.Err)
	}
	a.findBinding(cands)
	return a, nil
}

func anyTimed(cs []*Config) bool {
	for _, c := range cs {
		if c.HasLatency() {
			return true
		}
	}
	return false
}

// meets reports whether c satisfies l; an unmeasured latency does not.
func meets(c *Config, l Limit) bool {
	v := c.value(l.Name)
	return !math.IsNaN(v) && v <= l.Value
}

func filter(cs []*Config, ls []Limit) []*Config {
	var out []*Config
	for _, c := range cs {
		ok := true
		for _, l := range ls {
			if !meets(c, l) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, c)
		}
	}
	return out
}

// rank orders cs by the objective, then by error, weight bytes and key.
func rank(cs []*Config, objective string) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if va, vb := a.value(objective), b.value(objective); va != vb {
			return va < vb
		}
		if a.Err.Mean != b.Err.Mean {
			return a.Err.Mean < b.Err.Mean
		}
		if a.WeightBytes != b.WeightBytes {
			return a.WeightBytes < b.WeightBytes
		}
		return a.Key < b.Key
	})
}

// findBinding names the limit whose removal alone admits the best better
// configuration. When minimising a cost, the error limit binds.
func (a *Answer) findBinding(cands []*Config) {
	q := a.Query
	if a.Objective != ErrorPct {
		a.Binding = ErrorPct
		cheaper := 0
		for _, c := range cands {
			if c.value(a.Objective) < a.Choice.value(a.Objective) {
				cheaper++
			}
		}
		l := q.Limits[0]
		a.BindingWhy = fmt.Sprintf("%s %s: the choice has %s; %d cheaper configurations miss it", l.Flag(), l.Format(l.Value), a.Choice.Err, cheaper)
		return
	}
	best, bestErr := "", a.Choice.Err.Mean
	var admitted *Config
	for i, l := range q.Limits {
		rest := append(append([]Limit(nil), q.Limits[:i]...), q.Limits[i+1:]...)
		f := filter(cands, rest)
		rank(f, ErrorPct)
		if len(f) > 0 && f[0].Err.Mean < bestErr {
			best, bestErr, admitted = l.Name, f[0].Err.Mean, f[0]
		}
	}
	if admitted == nil {
		a.BindingWhy = "no single limit keeps a more accurate configuration out"
		all := append([]*Config(nil), cands...)
		if rank(all, ErrorPct); all[0] == a.Choice {
			a.BindingWhy = "none: this is the most accurate configuration measured"
		}
		return
	}
	a.Binding = best
	for _, l := range q.Limits {
		if l.Name != best {
			continue
		}
		a.BindingWhy = fmt.Sprintf("%s %s keeps out %s at %s, which needs %s", l.Flag(), l.Format(l.Value),
			admitted.Label(), admitted.Err, l.Format(admitted.value(l.Name)))
		// The cheapest more accurate configuration by this figure: how far
		// the budget would have to grow for any gain.
		var near *Config
		for _, c := range cands {
			if c.Err.Mean < a.Choice.Err.Mean && !math.IsNaN(c.value(l.Name)) && (near == nil || c.value(l.Name) < near.value(l.Name)) {
				near = c
			}
		}
		if near != nil && near != admitted {
			a.BindingWhy += fmt.Sprintf("; the cheapest more accurate one, %s at %s, needs %s", near.Label(), near.Err, l.Format(near.value(l.Name)))
		}
	}
}

// explainNothing fills the excluders and the closest configuration.
func (a *Answer) explainNothing(cands []*Config) {
	for _, l := range a.Query.Limits {
		if len(filter(cands, []Limit{l})) == 0 {
			a.Excluders = append(a.Excluders, l.Flag())
		}
	}
	if len(a.Excluders) == 0 {
		for _, l := range a.Query.Limits {
			a.Excluders = append(a.Excluders, l.Flag())
		}
	}
	worst := math.Inf(1)
	for _, c := range cands {
		ratio, by := 0.0, ""
		for _, l := range a.Query.Limits {
			v := c.value(l.Name)
			r := math.Inf(1)
			if !math.IsNaN(v) {
				r = v / math.Max(l.Value, 1e-300)
			}
			if r > ratio {
				ratio, by = r, fmt.Sprintf("%s: %s against %s", l.Flag(), l.Format(v), l.Format(l.Value))
			}
		}
		if ratio < worst {
			worst, a.Closest, a.ClosestBy = ratio, c, by
		}
	}
}

// Summary is the answer in a few lines of text.
func (a *Answer) Summary() string {
	var b strings.Builder
	if !a.Fits() {
		if len(a.Excluders) == 1 {
			fmt.Fprintf(&b, "advise: nothing fits: %s excludes all %d measured configurations\n", a.Excluders[0], a.Considered)
		} else {
			fmt.Fprintf(&b, "advise: nothing fits: %s together exclude all %d measured configurations\n", strings.Join(a.Excluders, " and "), a.Considered)
		}
		if a.Closest != nil {
			fmt.Fprintf(&b, "closest: %s (%s), %s, %s\n", a.Closest.Label(), a.Closest.Model, a.Closest.Err, a.ClosestBy)
		}
		return b.String()
	}
	c := a.Choice
	what := "lowest error"
	if a.Objective != ErrorPct {
		what = "least " + a.Objective
	}
	fmt.Fprintf(&b, "choice (%s of %d that fit, %d measured): %s\n", what, a.Feasible, a.Considered, c.Label())
	fmt.Fprintf(&b, "  model %s, %d bits, id %s\n", c.Model, c.Bits, strings.Join(shortIDs(c.IDs), ","))
	fmt.Fprintf(&b, "  test error %s; weights %s; activation RAM %s; energy %s/inference; latency %s (batch 1)\n",
		c.Err, units.FormatBytes(c.WeightBytes), units.FormatBytes(c.RAMBytes), units.FormatEnergy(c.EnergyNJ), formatFigure(Latency, c.value(Latency)))
	fmt.Fprintf(&b, "binding: %s\n", a.BindingWhy)
	if r := a.RunnerUp; r != nil {
		fmt.Fprintf(&b, "runner-up: %s (%s), %s, %s; margin %s", r.Label(), r.Model, r.Err, units.FormatBytes(r.WeightBytes), marginText(a))
		switch {
		case a.Noise.Bound == 0 && a.Noise.Thin:
			fmt.Fprintf(&b, "; the error difference %.2f pp cannot be judged against seed noise: one seed each (run more seeds)", a.Noise.Diff)
		case a.Noise.Within:
			fmt.Fprintf(&b, "; the error difference %.2f pp is within seed noise (bound %.2f pp)", a.Noise.Diff, a.Noise.Bound)
		default:
			fmt.Fprintf(&b, "; the error difference %.2f pp is outside seed noise (bound %.2f pp)", a.Noise.Diff, a.Noise.Bound)
		}
		if a.Noise.Thin && a.Noise.Bound > 0 {
			fmt.Fprintf(&b, " (fewer than %d seeds: a thin verdict)", report.MinNoiseSeeds)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("runner-up: none (only one configuration fits)\n")
	}
	return b.String()
}

func marginText(a *Answer) string {
	if a.Objective == ErrorPct {
		return fmt.Sprintf("%+.2f pp error", a.Margin)
	}
	return "+" + formatFigure(a.Objective, a.Margin) + " " + a.Objective
}

func shortIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id
		if len(id) > 12 {
			out[i] = id[:12]
		}
	}
	return out
}
