package sweep

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/job"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/results"
)

// TestRunnerCost: every record carries cost figures computed from its
// codes, latency comes after the cells, and Recost rebuilds the figures
// of records that lack them from the stored models.
func TestRunnerCost(t *testing.T) {
	ds := blobs(t, t.TempDir(), 12, 3, 400, 200, 7)
	spec := blobSpec(t, ds, "")
	dir := t.TempDir()
	runner := NewTrainRunner(TrainRunnerOptions{SaveRetrained: true, MeasureLatency: true})
	if _, err := Run(context.Background(), spec, dir, RunOptions{Runner: runner, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, dir)
	if len(recs) != 10 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs {
		f := r.Cost
		if f == nil || f.Latency == nil || f.Latency.Batch1US <= 0 || f.Latency.Batch100US <= 0 {
			t.Fatalf("%s %s %db: cost %+v", r.Mode, r.Model, r.Bits, f)
		}
		if f.WeightBytes != r.StoredBytes || f.Weights != r.Weights || f.Table != cost.DefaultTable().Name {
			t.Fatalf("%s: figures %+v do not match the record (%d bytes, %d weights)", r.ID, *f, r.StoredBytes, r.Weights)
		}
		// The figures are those of the model on disk (retrained models are
		// saved in this test), computed again from its codes.
		c, err := job.Load(filepath.Join(dir, "models", r.ID+".safetensors"))
		if err == nil && r.Mode != ModeDirect {
			g, err := cost.Of(c.M, c.Quant, packed.Options{}, cost.DefaultBatch, nil)
			if err != nil {
				t.Fatal(err)
			}
			g.Latency = f.Latency
			if *g != *f {
				t.Fatalf("%s %s: recorded %+v, recomputed %+v", r.Mode, r.ID, *f, *g)
			}
		}
		if r.Mode == ModeRetrain && r.Bits == 2 && (f.TernaryAdds == 0 || f.TernaryAdds > f.Weights || f.LowBitMACs != 0) {
			t.Fatalf("ternary figures %+v", *f)
		}
	}

	// Records of an older resq: no cost figures. Recost rebuilds them.
	old := t.TempDir()
	if err := os.MkdirAll(filepath.Join(old, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Cost = nil
		if err := results.Append(filepath.Join(old, "results.jsonl"), r); err != nil {
			t.Fatal(err)
		}
		if r.Mode == ModeFloat {
			b, err := os.ReadFile(filepath.Join(dir, "models", r.ID+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(old, "models", r.ID+".safetensors"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	sum, err := Recost(context.Background(), old, RecostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Float and direct cells come back; retrained models were not copied.
	if sum.Computed != 6 || len(sum.Missing) != 4 {
		t.Fatalf("recost: %+v", sum)
	}
	byID := map[string]results.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	for _, r := range readAll(t, old) {
		if r.Mode == ModeRetrain {
			if r.Cost != nil {
				t.Fatalf("retrain record got figures without its model")
			}
			continue
		}
		want := *byID[r.ID].Cost
		want.Latency = nil
		if r.Cost == nil || *r.Cost != want {
			t.Fatalf("%s %s: recomputed %+v, want %+v", r.Mode, r.ID, r.Cost, want)
		}
	}
}
