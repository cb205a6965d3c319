package report

import (
	"fmt"
	"math"
	"testing"

	"github.com/resq-dev/resq/results"
)

// paperRecords is the size of a paper-ffdnn sweep: depths 2..4, widths
// 32..1024, three seeds, float and direct/retrain at 2 and 3 bits.
func paperRecords() []results.Record {
	var recs []results.Record
	for d := 2; d <= 4; d++ {
		for w := 32; w <= 1024; w *= 2 {
			weights := int64(784*w + (d-1)*w*w + 10*w)
			for s := uint64(1); s <= 3; s++ {
				fe := 1 + 40/math.Sqrt(float64(w)) + 0.05*float64(s)
				add := func(mode string, bits int, e float64, stored int64) {
					recs = append(recs, results.Record{ID: fmt.Sprint(d, w, s, mode, bits), Status: "ok", Dataset: "mnist",
						Family: "mlp", Width: w, Depth: d, Seed: s, Mode: mode, Bits: bits, Weights: weights,
						Params: weights + int64(d*w+10), StoredBytes: stored, TestErrPct: e})
				}
				add("float", 32, fe, 4*weights)
				for _, b := range []int{2, 3} {
					add("direct", b, fe+10/float64(b), int64(b)*weights/8)
					add("retrain", b, fe+8/float64(w)/float64(b), int64(b)*weights/8)
				}
			}
		}
	}
	return recs
}

func BenchmarkWrite(b *testing.B) {
	for _, bc := range []struct {
		name string
		recs []results.Record
	}{{"small-60rec", synthRecords(1)}, {"paper-ffdnn-270rec", paperRecords()}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			var s *Summary
			for b.Loop() {
				var err error
				if s, err = Write(dir, bc.recs, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(s.Plots)), "files")
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N)/float64(len(s.Plots)), "ms/plotfile")
		})
	}
}

func BenchmarkBuildGroups(b *testing.B) {
	recs := paperRecords()
	for b.Loop() {
		BuildGroups(recs)
	}
	b.ReportMetric(float64(len(recs)), "records")
}
