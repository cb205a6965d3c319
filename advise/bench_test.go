package advise

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/resq-dev/resq/results"
)

// synthRecords returns n records: n/(4*seeds) widths x 2 bit widths x 2
// modes x seeds seeds, with costs, for the size-class benchmarks.
func synthRecords(n int) []results.Record {
	rng := rand.New(rand.NewPCG(9, 9))
	const seeds = 5
	var rs []results.Record
	for w := 1; len(rs) < n; w++ {
		for _, bits := range []int{2, 3} {
			for s := uint64(1); s <= seeds && len(rs) < n; s++ {
				r := rec(8*w, bits, s, 1+10*rng.Float64(), int64(1000*w*bits), int64(800+w), float64(w*bits), float64(w))
				r.ID = fmt.Sprintf("%d-%d-%d", w, bits, s)
				rs = append(rs, r)
			}
		}
	}
	return rs
}

func benchAdvise(b *testing.B, n int) {
	recs := synthRecords(n)
	q := Query{Limits: []Limit{{WeightBytes, 64 << 20}, {Energy, 1e6}, {Latency, 1e4}}}
	b.ResetTimer()
	for range b.N {
		cs, err := Candidates(recs, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Advise(cs, q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAdvise1k(b *testing.B)  { benchAdvise(b, 1000) }
func BenchmarkAdvise10k(b *testing.B) { benchAdvise(b, 10000) }

// BenchmarkAdviseDir10k includes reading the records from a folder, as
// resq advise does.
func BenchmarkAdviseDir10k(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "results.jsonl")
	for _, r := range synthRecords(10000) {
		if err := results.Append(path, r); err != nil {
			b.Fatal(err)
		}
	}
	q := Query{Limits: []Limit{{WeightBytes, 64 << 20}}}
	b.ResetTimer()
	for range b.N {
		recs, err := results.ReadDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		cs, err := Candidates(recs, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Advise(cs, q); err != nil {
			b.Fatal(err)
		}
	}
}
