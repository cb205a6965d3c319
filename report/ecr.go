package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
)

// CurvePoint is one float network size on a FloatCurve: its number of
// quantizable weights, its mean test error over Count seeds, and the error
// after the monotone (isotonic) fit.
type CurvePoint struct {
	Weights int64   // quantizable weights of the float network
	ErrPct  float64 // mean test error over seeds, as measured
	Count   int     // number of seeds averaged (the point's weight in the fit)
	FitPct  float64 // error after pool-adjacent-violators; non-increasing in Weights
}

// FloatCurve is the monotone fit of float test error against log(#weights)
// for one group of networks (one MLP depth, or one CNN base). It is
// immutable after NewFloatCurve.
//
// The fit: points are the per-size means over seeds, sorted by weights
// (sizes with the same weight count are merged, seed-weighted). Their
// errors are made non-increasing by weighted pool-adjacent-violators
// (isotonic regression, each point weighted by its seed count), and the
// curve between points is piecewise linear in ln(weights). Beyond the
// first and last point the curve is undefined: NEff reports which side.
type FloatCurve struct {
	Points []CurvePoint // sorted by Weights, strictly increasing
}

// NewFloatCurve fits the curve to (weights, error) samples, one per seed
// and size. It returns an error if there is no sample or a weight count is
// not positive or an error is not finite.
func NewFloatCurve(weights []int64, errPct []float64) (*FloatCurve, error) {
	if len(weights) != len(errPct) {
		panic(fmt.Sprintf("report: NewFloatCurve: %d weights but %d errors", len(weights), len(errPct)))
	}
	if len(weights) == 0 {
		return nil, fmt.Errorf("report: float curve: no float records")
	}
	sum := map[int64]float64{}
	cnt := map[int64]int{}
	for i, w := range weights {
		if w <= 0 {
			return nil, fmt.Errorf("report: float curve: weight count %d is not positive", w)
		}
		e := errPct[i]
		if math.IsNaN(e) || math.IsInf(e, 0) {
			return nil, fmt.Errorf("report: float curve: error %v for %d weights is not finite", e, w)
		}
		sum[w] += e
		cnt[w]++
	}
	pts := make([]CurvePoint, 0, len(sum))
	for w, s := range sum {
		pts = append(pts, CurvePoint{Weights: w, ErrPct: s / float64(cnt[w]), Count: cnt[w]})
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].Weights < pts[j].Weights })
	means := make([]float64, len(pts))
	counts := make([]float64, len(pts))
	for i, p := range pts {
		means[i] = p.ErrPct
		counts[i] = float64(p.Count)
	}
	fit := isotonicNonIncreasing(means, counts)
	for i := range pts {
		pts[i].FitPct = fit[i]
	}
	return &FloatCurve{Points: pts}, nil
}

// isotonicNonIncreasing returns the weighted least-squares non-increasing
// fit of y (pool-adjacent-violators). Pooled blocks take their weighted
// mean, so ties produce flat segments.
func isotonicNonIncreasing(y, w []float64) []float64 {
	type block struct {
		sum, wt float64 // weighted sum and total weight
		n       int     // points pooled
	}
	blocks := make([]block, 0, len(y))
	for i := range y {
		blocks = append(blocks, block{y[i] * w[i], w[i], 1})
		// Merge while the previous block's mean is below the new one's
		// (a violation of non-increasing order).
		for len(blocks) > 1 {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if a.sum/a.wt >= b.sum/b.wt {
				break
			}
			blocks = blocks[:len(blocks)-2]
			blocks = append(blocks, block{a.sum + b.sum, a.wt + b.wt, a.n + b.n})
		}
	}
	out := make([]float64, 0, len(y))
	for _, b := range blocks {
		m := b.sum / b.wt
		for range b.n {
			out = append(out, m)
		}
	}
	return out
}

// Range says where a quantized network's error falls relative to the float
// curve's error range.
type Range string

const (
	RangeIn    Range = "in"    // interpolated: N_eff is exact under the fit
	RangeAbove Range = "above" // error below the best float error: N_eff >= largest float size
	RangeBelow Range = "below" // error above the worst float error: N_eff <= smallest float size
	RangeNone  Range = "none"  // no float curve for this group: N_eff unknown
)

// At returns the fitted float error at n weights and false when n is
// outside the curve's weight range.
func (c *FloatCurve) At(n float64) (float64, bool) {
	p := c.Points
	if n < float64(p[0].Weights) || n > float64(p[len(p)-1].Weights) {
		return 0, false
	}
	x := math.Log(n)
	for i := 1; i < len(p); i++ {
		if n <= float64(p[i].Weights) {
			x0, x1 := math.Log(float64(p[i-1].Weights)), math.Log(float64(p[i].Weights))
			t := (x - x0) / (x1 - x0)
			return p[i-1].FitPct + t*(p[i].FitPct-p[i-1].FitPct), true
		}
	}
	return p[0].FitPct, true
}

// NEff returns the effective number of weights of a network with test
// error e: the smallest float weight count whose fitted error is <= e,
// i.e. min{N : f(N) <= e}. On a flat segment (ties) that is the segment's
// left end, so the answer is deterministic. When e is below the best
// fitted error NEff returns the largest float size and RangeAbove (the true
// N_eff is at least that); when e is above the worst fitted error it
// returns the smallest float size and RangeBelow (the true N_eff is at most
// that). It never extrapolates.
func (c *FloatCurve) NEff(e float64) (float64, Range) {
	p := c.Points
	first, last := p[0], p[len(p)-1]
	switch {
	case math.IsNaN(e):
		return math.NaN(), RangeNone
	case e > first.FitPct:
		return float64(first.Weights), RangeBelow
	case e < last.FitPct:
		return float64(last.Weights), RangeAbove
	case e == first.FitPct:
		return float64(first.Weights), RangeIn
	}
	// Now last.FitPct <= e < first.FitPct: find the first knot i with
	// FitPct <= e; the crossing lies on segment (i-1, i) where
	// FitPct[i-1] > e >= FitPct[i], so the segment is strictly decreasing.
	for i := 1; i < len(p); i++ {
		if p[i].FitPct <= e {
			y0, y1 := p[i-1].FitPct, p[i].FitPct
			x0, x1 := math.Log(float64(p[i-1].Weights)), math.Log(float64(p[i].Weights))
			t := (y0 - e) / (y0 - y1)
			if p[i].FitPct == e {
				return float64(p[i].Weights), RangeIn // exact at the knot: no rounding through exp/log
			}
			return math.Exp(x0 + t*(x1-x0)), RangeIn
		}
	}
	return float64(last.Weights), RangeIn
}

// ECR returns the effective compression ratio 32*nEff / (8*storedBytes):
// the bits a float network of equal accuracy stores for its weights over
// the bits the quantized network actually stores (codes, steps, float
// biases). It panics if storedBytes is not positive.
func ECR(nEff float64, storedBytes int64) float64 {
	if storedBytes <= 0 {
		panic(fmt.Sprintf("report: ECR: stored bytes %d is not positive", storedBytes))
	}
	return 32 * nEff / (8 * float64(storedBytes))
}

// Nominal returns the nominal compression ratio 32/bits of b-bit weights.
func Nominal(bits int) float64 { return 32 / float64(bits) }

// Effective is the ECR of one quantized network (or one cell, averaged over
// seeds) against its group's float curve.
type Effective struct {
	NEff  float64 // effective weights; a bound when Range is above/below, NaN when none
	Range Range
	ECR   float64 // 32*NEff/(8*stored bytes); a bound like NEff
}

// Effect computes N_eff and ECR for error e and stored bytes; c may be nil
// (no float curve), which gives RangeNone.
func Effect(c *FloatCurve, e float64, storedBytes int64) Effective {
	if c == nil || storedBytes <= 0 || math.IsNaN(e) {
		return Effective{NEff: math.NaN(), Range: RangeNone, ECR: math.NaN()}
	}
	n, r := c.NEff(e)
	return Effective{NEff: n, Range: r, ECR: ECR(n, storedBytes)}
}

// ECRText formats the ECR with its bound: "5.12", ">= 9.80", "<= 1.03" or
// "n/a".
func (f Effective) ECRText() string {
	return boundText(f.ECR, f.Range, 2)
}

// NEffText formats N_eff like ECRText, rounded to whole weights.
func (f Effective) NEffText() string {
	return boundText(f.NEff, f.Range, 0)
}

func boundText(v float64, r Range, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	switch r {
	case RangeAbove:
		return ">= " + s
	case RangeBelow:
		return "<= " + s
	case RangeIn:
		return s
	}
	return "n/a"
}
