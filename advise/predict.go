package advise

import (
	"math"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
)

// fits reports whether a network of size s at bits b (the base's mode and
// depth) is predicted to meet the limits. Weight bytes, activation RAM and
// operation counts are exact for the architecture; energy uses the codes
// of a randomly initialised network (for ternary layers the share of zero
// codes differs a little after training); latency is interpolated from the
// measured configurations of the same bits on a log-log scale.
func (p *proposer) fits(s float64, b int, limits []Limit) bool {
	if len(limits) == 0 {
		return true
	}
	f, err := p.predict(s, b)
	if err != nil {
		return false
	}
	for _, l := range limits {
		var v float64
		switch l.Name {
		case WeightBytes:
			v = float64(f.WeightBytes)
		case RAM:
			v = float64(f.ActRAMBytes)
		case Energy:
			v = f.EnergyNJ()
		case Latency:
			v = p.latencyAt(s, b)
		}
		if !(v <= l.Value) {
			return false
		}
	}
	return true
}

// predict returns the cost figures of size s at bits b, from a network
// built (not trained) for the architecture.
func (p *proposer) predict(s float64, b int) (*cost.Figures, error) {
	sub := p.subSpec(s, p.base.Depth, p.base.Mode, b, p.spec.Seeds[0])
	cells, err := sub.Cells()
	if err != nil {
		return nil, err
	}
	in, classes := p.in, p.class // nil, 0 for a cnn: its spec holds no input size
	spec, err := cells[0].Config.ModelSpec(in, classes)
	if err != nil {
		return nil, err
	}
	m, err := nn.Build(spec, p.in, 1)
	if err != nil {
		return nil, err
	}
	var st *quant.State
	if b != 32 {
		q := p.spec.Quant
		if st, err = quant.Direct(m, quant.Config{Bits: b, Rule: q.Rule, PerChannel: q.PerChannel, FirstLastBits: q.FirstLastBits}); err != nil {
			return nil, err
		}
	}
	return cost.Of(m, st, packed.Options{}, cost.DefaultBatch, p.table)
}

// latencyAt interpolates the measured batch-1 latency of bits b in log
// size (NaN without two measured neighbours).
func (p *proposer) latencyAt(s float64, b int) float64 {
	var xs, ys []float64
	for _, c := range p.a.all() {
		if c.Mode == p.base.Mode && c.Bits == b && c.Family == p.base.Family && c.Depth == p.base.Depth && c.HasLatency() {
			xs = append(xs, sizeValue(c.Family, c.Width, c.Scale))
			ys = append(ys, c.LatencyUS)
		}
	}
	lo, hi := -1, -1
	for i, x := range xs {
		if x <= s && (lo < 0 || x > xs[lo]) {
			lo = i
		}
		if x >= s && (hi < 0 || x < xs[hi]) {
			hi = i
		}
	}
	if lo < 0 || hi < 0 {
		return math.NaN()
	}
	if xs[lo] == xs[hi] {
		return ys[lo]
	}
	t := (math.Log(s) - math.Log(xs[lo])) / (math.Log(xs[hi]) - math.Log(xs[lo]))
	return math.Exp(math.Log(ys[lo]) + t*(math.Log(ys[hi])-math.Log(ys[lo])))
}
