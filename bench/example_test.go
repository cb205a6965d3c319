package bench_test

import (
	"os"
	"time"

	"github.com/resq-dev/resq/bench"
)

// Times the training shapes on one thread against gonum and prints a table
// (timings vary, so this example has no checked output).
func ExampleRunGemm() {
	_, err := bench.RunGemm(os.Stdout, bench.GemmOptions{Threads: 1, MinTime: 100 * time.Millisecond, Peers: []string{"gonum"}})
	if err != nil {
		panic(err)
	}
}
