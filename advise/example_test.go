package advise_test

import (
	"fmt"
	"log"

	"github.com/resq-dev/resq/advise"
	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/units"
)

// ExampleAdvise picks a configuration for a 64 KiB weight budget from
// three measured cells (in practice: results.ReadDir of a sweep folder).
func ExampleAdvise() {
	mk := func(id string, w, bits int, errPct float64, bytes int64) results.Record {
		return results.Record{ID: id, Status: results.StatusOK, Dataset: "mnist", Family: "mlp", Width: w, Depth: 2,
			Model: fmt.Sprintf("mlp:784-%dx2-10", w), Mode: "retrain", Bits: bits, Seed: 1, TestErrPct: errPct,
			Config: map[string]any{"width": w, "bits": bits},
			Cost:   &cost.Figures{WeightBytes: bytes, ActRAMBytes: 912, EnergyPJ: float64(bytes) * 1.3}}
	}
	recs := []results.Record{
		mk("a", 128, 2, 2.51, 30600),
		mk("b", 128, 3, 2.11, 45332),
		mk("c", 512, 3, 1.90, 256000),
	}
	size, err := units.ParseSize("64KiB")
	if err != nil {
		log.Fatal(err)
	}
	cands, err := advise.Candidates(recs, nil)
	if err != nil {
		log.Fatal(err)
	}
	a, err := advise.Advise(cands, advise.Query{Limits: []advise.Limit{{Name: advise.WeightBytes, Value: size}}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("choice:", a.Choice.Label(), a.Choice.Err)
	fmt.Println("runner-up:", a.RunnerUp.Label())
	fmt.Println("binding:", a.Binding)
	// Output:
	// choice: mlp w=128 d=2 retrain 3b 2.11% (1 seed)
	// runner-up: mlp w=128 d=2 retrain 2b
	// binding: weight-bytes
}
