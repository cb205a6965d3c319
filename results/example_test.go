package results_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/resq-dev/resq/results"
)

// Two shards of a sweep write their own files; ReadDir merges them.
func Example() {
	dir, _ := os.MkdirTemp("", "resq-results")
	defer os.RemoveAll(dir)
	results.Append(filepath.Join(dir, "results-shard-0-of-2.jsonl"),
		results.Record{ID: "b1", Status: "ok", Dataset: "mnist", Family: "mlp", Width: 64, Depth: 2, Mode: "float", Bits: 32, Seed: 1, TestErrPct: 2.1})
	results.Append(filepath.Join(dir, "results-shard-1-of-2.jsonl"),
		results.Record{ID: "a7", Status: "ok", Dataset: "mnist", Family: "mlp", Width: 32, Depth: 2, Mode: "float", Bits: 32, Seed: 1, TestErrPct: 2.9})
	recs, err := results.ReadDir(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		fmt.Printf("%s width %d: %.1f%%\n", r.ID, r.Width, r.TestErrPct)
	}
	// Output:
	// a7 width 32: 2.9%
	// b1 width 64: 2.1%
}
