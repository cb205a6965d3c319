package sweep

import (
	"strconv"

	"github.com/resq-dev/resq/prune"
	"github.com/resq-dev/resq/quant"
)

// PruneOptions are the fields of prune.Config a sweep sets (the final
// sparsity comes from the cell). They are hashed only into cells with a
// sparsity above 0.
type PruneOptions struct {
	Scope string  `yaml:"scope" json:"scope,omitempty"` // layer (default) or global
	Begin float64 `yaml:"begin" json:"begin,omitempty"` // start of the ramp, fraction of the retraining steps
	End   float64 `yaml:"end" json:"end,omitempty"`     // end of the ramp (0: prune.DefaultEnd)
}

// PruneConfig returns the pruning schedule of a cell (zero for cells
// without sparsity).
func (k CellConfig) PruneConfig() prune.Config {
	if k.Sparsity == 0 {
		return prune.Config{}
	}
	c := prune.Config{Sparsity: k.Sparsity}
	if k.Prune != nil {
		c.Scope, c.Begin, c.End = k.Prune.Scope, k.Prune.Begin, k.Prune.End
	}
	return c
}

// sparsities returns the sparsity axis: the spec's, or [0].
func (s *Spec) sparsities() []float64 {
	if len(s.Sparsity) == 0 {
		return []float64{0}
	}
	return s.Sparsity
}

// allocations returns the spec's per-layer bit allocations, parsed
// (validated by validatePrune).
func (s *Spec) allocations() [][]int {
	var out [][]int
	for _, a := range s.BitsPerLayer {
		b, _ := quant.ParseBits(a)
		out = append(out, b)
	}
	return out
}

// quantLayers returns the number of quantized layers of an mlp of the
// given depth (hidden layers plus the output layer).
func quantLayers(depth int) int { return depth + 1 }

// validatePrune checks the sparsity axis, the pruning options and the
// per-layer bit allocations.
func (s *Spec) validatePrune() error {
	for i, v := range s.Sparsity {
		if err := prune.CheckSparsity(v); err != nil {
			return s.errAt("sparsity", "sparsity[%d]: %v", i, err)
		}
	}
	if s.has("prune") {
		c := prune.Config{Sparsity: 0.5, Scope: s.Prune.Scope, Begin: s.Prune.Begin, End: s.Prune.End}
		if err := c.Validate(); err != nil {
			return s.errAt("prune", "%v", err)
		}
	}
	for i, a := range s.BitsPerLayer {
		b, err := quant.ParseBits(a)
		if err != nil {
			return s.errAt("bits_per_layer", "bits_per_layer[%d]: %v", i, err)
		}
		if s.Family != "mlp" {
			return s.errAt("bits_per_layer", "bits_per_layer applies to the mlp family (%s given)", s.Family)
		}
		fits := false
		for _, d := range s.MLP.Depths {
			fits = fits || quantLayers(d) == len(b)
		}
		if !fits {
			return s.errAt("bits_per_layer", "bits_per_layer[%d] %q has %d entries; an mlp of depth %v has depth+1 quantized layers", i, a, len(b), s.MLP.Depths)
		}
	}
	return nil
}

// precisions returns the quantized precisions of a size: one per bit
// width (per-layer list nil) and one per allocation that fits the depth.
func (s *Spec) precisions(depth int) []precision {
	var ps []precision
	for _, b := range s.Bits {
		ps = append(ps, precision{bits: b})
	}
	for _, a := range s.allocations() {
		if s.Family == "mlp" && quantLayers(depth) == len(a) {
			top := 0
			for _, v := range a {
				top = max(top, v)
			}
			ps = append(ps, precision{bits: top, perLayer: a})
		}
	}
	return ps
}

// cellPrecision is a precision at one sparsity.
type cellPrecision struct {
	precision
	sparsity float64
}

// cellPrecisions returns the quantized cells of a size in order: per
// precision (bit widths, then allocations), per sparsity.
func (s *Spec) cellPrecisions(depth int) []cellPrecision {
	var out []cellPrecision
	for _, p := range s.precisions(depth) {
		for _, sp := range s.sparsities() {
			out = append(out, cellPrecision{p, sp})
		}
	}
	return out
}

// precision is one quantized precision of a cell: a uniform width, or a
// per-layer allocation (bits is then its widest layer).
type precision struct {
	bits     int
	perLayer []int
}

// label is the precision as a cell label shows it: "2b" or "8,2,2,8b".
func (p precision) label() string {
	if p.perLayer != nil {
		return quant.FormatBits(p.perLayer) + "b"
	}
	return strconv.Itoa(p.bits) + "b"
}
