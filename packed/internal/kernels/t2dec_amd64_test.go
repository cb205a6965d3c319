//go:build amd64 && !purego

package kernels

import (
	"math"
	"testing"
)

// TestT2DecRowsFor: the decoded path runs from 16 rows on Intel CPUs and
// never on others (host.CPU's names).
func TestT2DecRowsFor(t *testing.T) {
	for _, c := range []struct {
		cpu  string
		want int
	}{
		{"Intel(R) Xeon(R) Processor (family 6 model 207)", 16},
		{"Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz (family 6 model 158)", 16},
		{"AMD EPYC (family 25 model 17)", math.MaxInt},
		{"AMD EPYC 9R14 96-Core Processor (family 25 model 17)", math.MaxInt},
		{"amd64", math.MaxInt},
	} {
		if got := t2DecRowsFor(c.cpu); got != c.want {
			t.Errorf("t2DecRowsFor(%q) = %d, want %d", c.cpu, got, c.want)
		}
	}
}
