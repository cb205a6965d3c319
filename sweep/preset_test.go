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

func TestPresetWithSeeds(t *testing.T) {
	one, err := Preset("paper-ffdnn")
	if err != nil {
		t.Fatal(err)
	}
	three, err := PresetWithSeeds("paper-ffdnn", 3)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(three.Seeds) != "[1 2 3]" {
		t.Fatalf("seeds %v, want [1 2 3]", three.Seeds)
	}
	c1, _ := one.Cells()
	c3, _ := three.Cells()
	if len(c3) != 3*len(c1) {
		t.Fatalf("%d cells with 3 seeds, %d with one: want 3x", len(c3), len(c1))
	}
	ids := map[string]bool{}
	for _, c := range c3 {
		ids[c.ID] = true
	}
	for _, c := range c1 {
		if !ids[c.ID] {
			t.Fatalf("cell %s of the one-seed run is not among the 3-seed run's: a rerun would not reuse it", c.ID)
		}
	}
	if s, err := PresetWithSeeds("paper-ffdnn", 0); err != nil || fmt.Sprint(s.Seeds) != "[1]" {
		t.Errorf("seeds 0: %v, %v; want the preset's [1]", s.Seeds, err)
	}
	for _, bad := range []struct {
		name  string
		seeds int
	}{{"quick", 3}, {"paper-ffdnn", -1}, {"paper-cnn", MaxPresetSeeds + 1}, {"nope", 2}} {
		if _, err := PresetWithSeeds(bad.name, bad.seeds); err == nil {
			t.Errorf("PresetWithSeeds(%q, %d): no error", bad.name, bad.seeds)
		}
	}
	if _, err := PresetWithSeeds("quick", 1); err != nil {
		t.Errorf("quick with 1 seed: %v", err)
	}
}
