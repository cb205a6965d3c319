package report

import (
	"strings"

	"github.com/resq-dev/resq/data"
)

// bpcGroup reports whether g's error measure is bits per character (a
// next-character dataset, data.MetricBPC) rather than percent of wrong
// classifications. Records keep the measure in their error fields, so the
// tables, the ECR and the Pareto fronts work on it unchanged; only the
// labels change.
func bpcGroup(g *Group) bool { return data.MetricFor(g.Dataset) == data.MetricBPC }

// unitLabel rewrites an error label of a bpc group: "test error (%)"
// becomes "test bits per character", "(%, log scale)" "(log scale)".
func unitLabel(g *Group, s string) string {
	if !bpcGroup(g) {
		return s
	}
	r := strings.NewReplacer("test error (%, log scale)", "test bits per character (log scale)",
		"error (%, log), mean ± std", "bits per character (log), mean ± std",
		"test error (%), mean ± std", "test bits per character, mean ± std",
		"test error (%)", "test bits per character",
		"test error − float test error (pp)", "bits per character − float (bits)")
	return r.Replace(s)
}
