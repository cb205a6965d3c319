package quant

import (
	"math"
	"slices"
)

// Percentile returns the p-th percentile (0 < p <= 100) of x by the
// nearest-rank rule: the ceil(p/100 * len(x))-th smallest value (the
// largest for p = 100). It is the static activation range rule shared by
// signal quantization ("pct:P" act range) and the packed integer export,
// so that retraining sees the clips the integer model uses. An empty x
// gives 0. x is not modified.
func Percentile(x []float32, p float64) float32 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	k := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(k, 1), len(s))-1]
}
