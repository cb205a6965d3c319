package pipeline

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/train"
)

// blobs returns a small synthetic 3-class dataset: Gaussian clusters in 12
// dimensions, linearly separable enough for a tiny MLP to learn.
func blobs(seed uint64, nTrain, nTest int) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, seed))
	const d, classes = 12, 3
	centers := make([]float32, classes*d)
	for i := range centers {
		centers[i] = float32(rng.NormFloat64() * 2)
	}
	split := func(n int) data.Split {
		s := data.Split{X: make([]float32, n*d), Y: make([]int32, n), N: n, D: d}
		for i := 0; i < n; i++ {
			c := rng.IntN(classes)
			s.Y[i] = int32(c)
			for j := 0; j < d; j++ {
				s.X[i*d+j] = centers[c*d+j] + float32(rng.NormFloat64())
			}
		}
		return s
	}
	return &data.Dataset{Name: "blobs", Checksum: "sha256:test", Shape: []int{d}, Classes: classes,
		Train: split(nTrain), Test: split(nTest)}
}

func smallTrain() train.Config {
	c := train.DefaultConfig()
	c.Epochs, c.Batch, c.LR = 3, 20, 0.05
	return c
}

// TestPipeline runs float training, direct quantization, retraining, a
// reload of each checkpoint, export and packed inference, and checks that
// every saved model evaluates exactly as it did when it was made.
func TestPipeline(t *testing.T) {
	ctx := context.Background()
	ds := blobs(1, 600, 300)
	dir := t.TempDir()
	fpath := filepath.Join(dir, "float.st")
	fo, err := TrainFloat(ctx, ds, "mlp:12-32x2-3", smallTrain(), 7, fpath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fo.TestErrPct > 10 {
		t.Fatalf("float test error %.2f%%, want a trained model (< 10%%)", fo.TestErrPct)
	}
	if fo.Weights != 12*32+32*32+32*3 || fo.Mode != "float" || fo.Bits != 32 || len(fo.EpochSeconds) != 3 {
		t.Fatalf("outcome %+v", fo)
	}
	fc, err := Load(fpath)
	if err != nil {
		t.Fatal(err)
	}
	if fc.seed() != 7 {
		t.Errorf("checkpoint seed %d, want 7", fc.seed())
	}
	again, err := fc.Eval(ds)
	if err != nil {
		t.Fatal(err)
	}
	if again.TestErrPct != fo.TestErrPct {
		t.Errorf("reloaded float model: %.4f%%, trained %.4f%%", again.TestErrPct, fo.TestErrPct)
	}

	for _, mode := range []string{"direct", "retrain"} {
		c, err := Load(fpath)
		if err != nil {
			t.Fatal(err)
		}
		qpath := filepath.Join(dir, mode+".st")
		var o *Outcome
		cfg := quant.Config{Bits: 2}
		if mode == "direct" {
			o, err = c.Quantize(ds, cfg, qpath)
		} else {
			tc := smallTrain()
			tc.Epochs, tc.LR = 2, 0.01
			o, err = c.Retrain(ctx, ds, cfg, tc, qpath, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		if o.Mode != mode || o.Bits != 2 || o.Quant == nil {
			t.Fatalf("%s outcome %+v", mode, o)
		}
		q, err := Load(qpath)
		if err != nil {
			t.Fatal(err)
		}
		e, err := q.Eval(ds)
		if err != nil {
			t.Fatal(err)
		}
		if e.TestErrPct != o.TestErrPct || e.Mode != mode || e.Bits != 2 {
			t.Errorf("%s: reloaded %s %d-bit %.4f%%, made %.4f%%", mode, e.Mode, e.Bits, e.TestErrPct, o.TestErrPct)
		}
		if _, err := q.Quantize(ds, cfg, filepath.Join(dir, "again.st")); err == nil || !strings.Contains(err.Error(), "already quantized") {
			t.Errorf("quantizing a quantized checkpoint: %v", err)
		}
		ppath := filepath.Join(dir, mode+".rq")
		ex, err := q.Export(ppath, false)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(ppath); err != nil || st.Size() != ex.FileBytes || ex.StoredBytes >= ex.FileBytes {
			t.Errorf("export: %+v, stat %v", ex, err)
		}
		inf, err := Infer(context.Background(), ppath, ds, 50)
		if err != nil {
			t.Fatal(err)
		}
		// Predict rechecks close calls: the packed engine's predictions
		// are the quantized model's.
		if inf.TestErrPct != e.TestErrPct || inf.TestN != ds.Test.N {
			t.Errorf("%s: packed inference %.2f%%, quantized model %.2f%%", mode, inf.TestErrPct, e.TestErrPct)
		}
		long, err := InferFor(context.Background(), ppath, ds, 7, 0.02)
		if err != nil {
			t.Fatal(err)
		}
		// Repeated passes predict the same; the time covers all of them.
		if long.TestErrPct != inf.TestErrPct || long.Passes < 1 || inf.Passes != 1 || long.Seconds < 0.02 || long.Rechecked != inf.Rechecked {
			t.Errorf("%s: InferFor %+v, Infer %+v", mode, long, inf)
		}
		if _, err := InferFor(context.Background(), ppath, ds, 7, math.NaN()); err == nil {
			t.Errorf("%s: InferFor took NaN seconds", mode)
		}
		a, err := Compare(context.Background(), ppath, q, ds, 64)
		if err != nil {
			t.Fatal(err)
		}
		if a.N != ds.Test.N || a.Disagree != 0 || a.MaxLogitErr > 0.05 || a.MeanLogitErr > a.MaxLogitErr {
			t.Errorf("%s: packed vs simulated forward: %+v", mode, a)
		}
		if _, err := Compare(context.Background(), ppath, fc, ds, 64); err == nil || !strings.Contains(err.Error(), "float checkpoint") {
			t.Errorf("comparing with the float checkpoint: %v", err)
		}
		stopped, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Infer(stopped, ppath, ds, 50); !errors.Is(err, context.Canceled) {
			t.Errorf("inference with a cancelled context: %v, want context.Canceled", err)
		}
		if _, err := Compare(stopped, ppath, q, ds, 64); !errors.Is(err, context.Canceled) {
			t.Errorf("comparison with a cancelled context: %v, want context.Canceled", err)
		}
	}
	if _, err := fc.Export(filepath.Join(dir, "x.rq"), false); err == nil {
		t.Error("exporting a float checkpoint succeeded")
	}
}

// TestMismatchedDataset checks that a model meets a dataset of another
// input size with an error that names the checkpoint.
func TestMismatchedDataset(t *testing.T) {
	ds := blobs(2, 100, 50)
	dir := t.TempDir()
	p := filepath.Join(dir, "m.st")
	if _, err := TrainFloat(context.Background(), ds, "mlp:12-8-3", smallTrain(), 1, p, nil); err != nil {
		t.Fatal(err)
	}
	other := blobs(3, 100, 50)
	other.Shape, other.Train.D, other.Test.D = []int{6}, 6, 6
	other.Train.X, other.Test.X = other.Train.X[:600], other.Test.X[:300]
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Eval(other); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("eval on a 6-feature dataset: %v", err)
	}
	if _, err := TrainFloat(context.Background(), other, "mlp:12-8-3", smallTrain(), 1, "", nil); err == nil {
		t.Error("training a 12-input model on 6 features succeeded")
	}
}
