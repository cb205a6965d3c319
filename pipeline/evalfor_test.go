package pipeline

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalFor checks that a timed evaluation measures the same error as
// Eval, at any batch, and records a throughput over whole passes.
func TestEvalFor(t *testing.T) {
	ctx := context.Background()
	ds := blobs(2, 300, 150)
	path := filepath.Join(t.TempDir(), "float.st")
	if _, err := TrainFloat(ctx, ds, "mlp:12-16-3", smallTrain(), 3, path, nil); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	base, err := c.Eval(ds)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 7, 150, 1000} {
		o, err := c.EvalFor(ctx, ds, batch, 0.05)
		if err != nil {
			t.Fatal(err)
		}
		tp := o.Throughput
		if o.TestErrPct != base.TestErrPct || tp == nil || tp.Batch != batch || tp.Passes < 1 || !(tp.SamplesPerSec > 0) {
			t.Fatalf("batch %d: error %.3f%% (want %.3f%%), throughput %+v", batch, o.TestErrPct, base.TestErrPct, tp)
		}
	}
	if o, err := c.EvalFor(ctx, ds, 0, 0); err != nil || o.Throughput != nil {
		t.Fatalf("untimed EvalFor: %v, throughput %+v", err, o.Throughput)
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1)} {
		if _, err := c.EvalFor(ctx, ds, 10, bad); err == nil || !strings.Contains(err.Error(), "seconds") {
			t.Errorf("EvalFor %v seconds: %v", bad, err)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.EvalFor(done, ds, 10, 1); err == nil {
		t.Error("EvalFor with a cancelled context returned no error")
	}
}
