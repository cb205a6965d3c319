//go:build amd64 && !purego

package kernels

import (
	"math"
	"math/rand/v2"
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

// TestT2BcastAVX2 checks the one-row operand writer against its definition,
// dst[32q+b] = x[4q+b%4] XOR 0x80, over several lengths, and that it
// writes nothing past 32*nq.
func TestT2BcastAVX2(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	for _, nq := range []int{4, 8, 12, 132, 1024} {
		x := make([]uint8, 4*nq)
		for i := range x {
			x[i] = uint8(r.IntN(256))
		}
		dst := make([]uint8, 32*nq+32)
		for i := range dst {
			dst[i] = 7
		}
		t2BcastAVX2(&dst[0], &x[0], uintptr(nq))
		for i, v := range dst {
			want := uint8(7)
			if i < 32*nq {
				want = x[4*(i/32)+i%4] ^ 0x80
			}
			if v != want {
				t.Fatalf("nq=%d: dst[%d] = %d, want %d", nq, i, v, want)
			}
		}
	}
}
