package report

import (
	"fmt"
	"math"
)

// MinNoiseSeeds is the seed count below which a point's standard deviation
// is too thin to judge noise by; Noise says so in its Thin field.
const MinNoiseSeeds = 3

// Spread is a point's test error over its seeds: what every command shows
// as "mean ± std (n seeds)".
type Spread struct {
	Mean float64 // mean test error (%)
	Std  float64 // sample standard deviation (n-1); 0 for one seed
	N    int     // seed count
}

// NewSpread returns the Spread of the values v (one per seed).
func NewSpread(v []float64) Spread {
	m, s := meanStd(v)
	return Spread{Mean: m, Std: s, N: len(v)}
}

// Noise is the verdict on the difference between two points.
type Noise struct {
	Diff   float64 // |a.Mean - b.Mean| in percentage points
	Bound  float64 // 2 * max(a.Std, b.Std)
	Within bool    // Diff < Bound: the difference is within seed noise
	Thin   bool    // a point has fewer than MinNoiseSeeds seeds: the verdict rests on too few seeds
}

// CompareNoise is the one definition of "within noise" that every resq
// command uses: the difference of two points is within noise when it is
// smaller than twice the larger of their two seed standard deviations.
// A point with one seed has Std 0, so with one seed on both sides nothing
// is within noise; Thin marks every verdict that rests on fewer than
// MinNoiseSeeds seeds on either side.
func CompareNoise(a, b Spread) Noise {
	d := math.Abs(a.Mean - b.Mean)
	bound := 2 * math.Max(a.Std, b.Std)
	return Noise{
		Diff:   d,
		Bound:  bound,
		Within: d < bound,
		Thin:   a.N < MinNoiseSeeds || b.N < MinNoiseSeeds,
	}
}

// Spread returns the cell's test error over its ok seeds.
func (c *Cell) Spread() Spread {
	return Spread{Mean: c.MeanErr, Std: c.StdErr, N: c.OK}
}

// String formats the spread as every report and command shows it:
// "1.23 ± 0.05% (3 seeds)", "1.23% (1 seed)", or "n/a" without seeds.
func (s Spread) String() string {
	switch {
	case s.N == 0 || math.IsNaN(s.Mean):
		return "n/a"
	case s.N == 1:
		return fmt.Sprintf("%.2f%% (1 seed)", s.Mean)
	}
	return fmt.Sprintf("%.2f ± %.2f%% (%d seeds)", s.Mean, s.Std, s.N)
}

// String is the mark every report and command prints for a verdict:
// "within noise" or "beyond noise", followed by ", < 3 seeds" when Thin.
func (n Noise) String() string {
	s := "beyond noise"
	if n.Within {
		s = "within noise"
	}
	if n.Thin {
		s += fmt.Sprintf(", < %d seeds", MinNoiseSeeds)
	}
	return s
}
