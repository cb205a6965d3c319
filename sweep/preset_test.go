package sweep

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/resq-dev/resq/results"
)

// TestPresetReal runs a whole preset with the real runner on the real
// dataset: RESQ_SWEEP_PRESET=quick go test -run PresetReal -v ./sweep
// (RESQ_SWEEP_OUT keeps the output folder; the dataset must be cached or
// fetchable). It reports the wall time and the pure training time, which
// is how preset budgets are tuned.
func TestPresetReal(t *testing.T) {
	name := os.Getenv("RESQ_SWEEP_PRESET")
	if name == "" {
		t.Skip("set RESQ_SWEEP_PRESET=quick (or paper-ffdnn, paper-cnn) to run a real preset")
	}
	spec, err := Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("RESQ_SWEEP_OUT")
	if dir == "" {
		dir = t.TempDir()
	}
	start := time.Now()
	sum, err := Run(context.Background(), spec, dir, RunOptions{
		Runner: NewTrainRunner(TrainRunnerOptions{Fetch: true, Log: os.Stderr}), Log: os.Stderr, Verbose: testing.Verbose(),
	})
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start).Seconds()
	recs, err := results.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var train, eval float64
	for _, r := range recs {
		if r.Status != results.StatusOK {
			t.Errorf("cell %s %s w=%d %db failed: %s", r.ID, r.Mode, r.Width, r.Bits, r.Reason)
		}
		train += r.TrainSeconds
		eval += r.EvalSeconds
		size := fmt.Sprintf("w=%-4d d=%d", r.Width, r.Depth)
		if r.Family == "cnn" {
			size = fmt.Sprintf("x%-9g", r.Scale)
		}
		t.Logf("%-7s %s %2db err %6.2f%%  %9d bytes  train %6.1fs eval %5.2fs", r.Mode, size, r.Bits, r.TestErrPct, r.StoredBytes, r.TrainSeconds, r.EvalSeconds)
	}
	t.Logf("preset %s: %d cells ran in %.1fs wall; cells' training %.1fs, evaluation %.1fs (summed over workers)", name, sum.Ran, wall, train, eval)
}
