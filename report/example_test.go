package report_test

import (
	"fmt"
	"os"

	"github.com/resq-dev/resq/report"
	"github.com/resq-dev/resq/results"
)

func ExampleWrite() {
	// Two MLP widths, float and retrained ternary, one seed each. A sweep
	// gives these records through results.ReadDir(sweepDir).
	var recs []results.Record
	for i, w := range []int{64, 256} {
		weights := int64(784*w + w*10)
		params := weights + int64(w+10)
		floatErr := []float64{3.0, 2.0}[i]
		recs = append(recs,
			results.Record{ID: fmt.Sprint("f", w), Status: "ok", Dataset: "mnist", Family: "mlp", Width: w, Depth: 1,
				Mode: "float", Bits: 32, Seed: 1, Weights: weights, Params: params, StoredBytes: 4 * params, TestErrPct: floatErr},
			results.Record{ID: fmt.Sprint("r", w), Status: "ok", Dataset: "mnist", Family: "mlp", Width: w, Depth: 1,
				Mode: "retrain", Bits: 2, Seed: 1, Weights: weights, Params: params,
				StoredBytes: (2*weights+7)/8 + 8 + 4*(params-weights), TestErrPct: floatErr + 0.5})
	}
	dir, err := os.MkdirTemp("", "resq-report-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	s, err := report.Write(dir, recs, report.Options{Title: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d records, %d plot files\n", s.Records, len(s.Plots))
	for _, g := range s.Groups {
		for _, q := range g.Gaps {
			fmt.Printf("%s %s: gap %+.1f pp at %s (ECR %s), %+.1f pp at %s (ECR %s)\n", g.Name, q.Prec,
				q.Smallest.GapPct, q.Smallest.Size, q.Smallest.ECR, q.Largest.GapPct, q.Largest.Size, q.Largest.ECR)
		}
	}
	// At w=256 the error 2.5% is halfway between the float errors 3% and
	// 2%, so N_eff = sqrt(50816*203264) = 101632 weights and ECR =
	// 32*101632 / (8*51888 bytes) = 7.83. At w=64 the error is worse than
	// any float network: an upper bound.

	// Output:
	// 4 records, 8 plot files
	// mnist mlp depth 1 retrain 2b: gap +0.5 pp at w=64 (ECR <= 15.63), +0.5 pp at w=256 (ECR 7.83)
}
