package sweep

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/ckpt"
	"github.com/resq-dev/resq/results"
)

// tinySpec is a one-group sweep (float, direct and retrain at 2 bits) on
// dataset.
func tinySpec(t *testing.T, dataset, extra string) *Spec {
	return mustSpec(t, "dataset: "+dataset+`
mlp: {widths: [4], depths: [1]}
bits: [2]
float: {epochs: 1, batch: 20}
retrain: {epochs: 1}
`+extra)
}

// TestRunRefusesCellsThatCannotRun checks that what the single commands
// reject up front stops a sweep before its first cell, with nothing
// recorded.
func TestRunRefusesCellsThatCannotRun(t *testing.T) {
	ds := blobs(t, t.TempDir(), 6, 3, 60, 30, 3)
	for _, tc := range []struct {
		name, spec, want string
	}{
		{"val_size larger than the data", "dataset: " + ds + "\nval_size: 500\nmlp: {widths: [4], depths: [1]}\nbits: [2]\n", "validation size 500 leaves no training rows"},
		{"cnn on flat data", "dataset: " + ds + "\nfamily: cnn\ncnn: {base: \"cnn:4c3-p2-fc8-3\", scales: [1]}\nbits: [2]\n", "cnn model needs a [C H W] input shape"},
		{"unknown dataset", "dataset: nope\nmlp: {widths: [4], depths: [1]}\nbits: [2]\n", `unknown dataset "nope"`},
		{"early stopping without validation", "dataset: " + ds + "\nmlp: {widths: [4], depths: [1]}\nbits: [2]\nfloat: {patience: 2}\n", "needs a validation split"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Run(context.Background(), mustSpec(t, tc.spec), dir, RunOptions{Runner: NewTrainRunner(TrainRunnerOptions{})})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "no cell was run") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v, want one line with %q", err, tc.want)
			}
			if recs, _ := results.ReadDir(dir); len(recs) != 0 {
				t.Errorf("%d records written", len(recs))
			}
		})
	}
}

// TestRunHealsFloatModel checks that a float model that cannot be used
// (truncated, of another architecture, with a NaN weight) is trained again
// when its dependents need it, instead of failing them on every rerun.
func TestRunHealsFloatModel(t *testing.T) {
	ds := blobs(t, t.TempDir(), 6, 3, 60, 30, 4)
	spec := tinySpec(t, ds, "")
	// A model of another architecture: width 7 instead of 4.
	wide := t.TempDir()
	wideSpec := mustSpec(t, "dataset: "+ds+"\nmlp: {widths: [7], depths: [1]}\nbits: [2]\nfloat: {epochs: 1, batch: 20}\nretrain: {epochs: 1}\n")
	if _, err := Run(context.Background(), wideSpec, wide, RunOptions{Runner: NewTrainRunner(TrainRunnerOptions{})}); err != nil {
		t.Fatal(err)
	}
	wideCells, _ := wideSpec.Cells()
	wideModel, err := os.ReadFile(filepath.Join(wide, "models", wideCells[0].ID+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	cells, _ := spec.Cells()
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"another architecture", func([]byte) []byte { return wideModel }},
		{"empty", func([]byte) []byte { return nil }},
		{"NaN weight", func(b []byte) []byte {
			m, meta, err := ckpt.LoadBytes(b, "m")
			if err != nil {
				t.Fatal(err)
			}
			m.Params()[0].W.Data[3] = float32(math.NaN())
			var out bytes.Buffer
			if err := ckpt.Encode(&out, m, meta); err != nil {
				t.Fatal(err)
			}
			return out.Bytes()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			run := func() *Summary {
				sum, err := Run(context.Background(), spec, dir, RunOptions{Runner: NewTrainRunner(TrainRunnerOptions{})})
				if err != nil {
					t.Fatal(err)
				}
				return sum
			}
			run()
			// The float cell is done; drop the dependents' records so that
			// they must run again from the damaged model.
			res := filepath.Join(dir, "results.jsonl")
			b, _ := os.ReadFile(res)
			lines := strings.SplitAfter(string(b), "\n")
			if err := os.WriteFile(res, []byte(lines[0]), 0o644); err != nil {
				t.Fatal(err)
			}
			model := filepath.Join(dir, "models", cells[0].ID+".safetensors")
			mb, err := os.ReadFile(model)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(model, tc.damage(mb), 0o644); err != nil {
				t.Fatal(err)
			}
			sum := run()
			if sum.Failed != 0 || sum.Ran != 3 {
				t.Errorf("rerun on a damaged float model: %+v, want the float cell and both dependents run, none failed", sum)
			}
		})
	}
}

// TestRunRefusesChangedData checks that a sweep whose dataset files
// changed under the same path does not reuse the cells of the old data.
func TestRunRefusesChangedData(t *testing.T) {
	dataDir := t.TempDir()
	ds := blobs(t, dataDir, 6, 3, 60, 30, 5)
	spec := tinySpec(t, ds, "")
	dir := t.TempDir()
	if _, err := Run(context.Background(), spec, dir, RunOptions{Runner: NewTrainRunner(TrainRunnerOptions{})}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "results.jsonl"))
	blobs(t, dataDir, 6, 3, 60, 30, 6) // same paths, other rows
	_, err := Run(context.Background(), spec, dir, RunOptions{Runner: NewTrainRunner(TrainRunnerOptions{})})
	if err == nil || !strings.Contains(err.Error(), "the data changed") || !strings.Contains(err.Error(), "3 records") {
		t.Fatalf("err %v, want a refusal", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "results.jsonl")); string(after) != string(before) {
		t.Error("results.jsonl changed")
	}
}

// TestRunRemovesOrphans checks that temporary model files a killed run
// left behind are removed, but only those of this shard's cells.
func TestRunRemovesOrphans(t *testing.T) {
	spec := mustSpec(t, smallSpec)
	cells, err := spec.Cells()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	if err := os.MkdirAll(models, 0o755); err != nil {
		t.Fatal(err)
	}
	var mine, theirs string
	for _, c := range cells {
		p := filepath.Join(models, "."+c.ID+".safetensors.tmp-12345")
		if c.Group%2 == 0 && mine == "" {
			mine = p
		} else if c.Group%2 == 1 && theirs == "" {
			theirs = p
		} else {
			continue
		}
		if err := os.WriteFile(p, []byte("half a model"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Run(context.Background(), spec, dir, RunOptions{Runner: newFake(), Shard: 0, Shards: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mine); !os.IsNotExist(err) {
		t.Errorf("shard 0 left its orphan %s", mine)
	}
	if _, err := os.Stat(theirs); err != nil {
		t.Errorf("shard 0 removed shard 1's temporary file: %v", err)
	}
}

// TestSummaryErr checks that a sweep with failed cells says how many.
func TestSummaryErr(t *testing.T) {
	if err := (&Summary{Ran: 3, OK: 3}).Err(); err != nil {
		t.Errorf("no failure: %v", err)
	}
	err := (&Summary{Ran: 3, OK: 1, Failed: 2, Results: "d/results.jsonl"}).Err()
	if err == nil || !strings.Contains(err.Error(), "2 of 3 cells run failed") {
		t.Errorf("err %v", err)
	}
}
