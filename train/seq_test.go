package train

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

func TestClipGradNorm(t *testing.T) {
	a := &nn.Param{W: tensor.New(2), G: tensor.FromData([]float32{3, 0}, 2)}
	b := &nn.Param{W: tensor.New(1), G: tensor.FromData([]float32{4}, 1)}
	if n := ClipGradNorm([]*nn.Param{a, b}, 10); n != 5 || a.G.Data[0] != 3 || b.G.Data[0] != 4 {
		t.Fatalf("under the limit: norm %v, grads %v %v changed", n, a.G.Data, b.G.Data)
	}
	if n := ClipGradNorm([]*nn.Param{a, b}, 1); n != 5 {
		t.Fatalf("norm %v, want 5", n)
	}
	if math.Abs(float64(a.G.Data[0])-0.6) > 1e-6 || math.Abs(float64(b.G.Data[0])-0.8) > 1e-6 {
		t.Fatalf("clipped grads %v %v, want 0.6 0.8", a.G.Data, b.G.Data)
	}
	if err := (Config{Epochs: 1, Batch: 1, LR: 1, Optimizer: "sgd", Schedule: "constant", ClipNorm: -1}).Validate(); err == nil {
		t.Fatal("negative clip norm accepted")
	}
}

// nextTokenData is a repeating sequence 0 1 2 ... V-1 0 1 ... in windows:
// every next token is determined by the current one.
func nextTokenData(n, steps, vocab int, rng *rand.Rand) data.Split {
	s := data.Split{N: n, D: steps, Steps: steps, X: make([]float32, n*steps), Y: make([]int32, n*steps)}
	for i := 0; i < n; i++ {
		c := rng.IntN(vocab)
		for t := 0; t < steps; t++ {
			s.X[i*steps+t] = float32(c)
			c = (c + 1) % vocab
			s.Y[i*steps+t] = int32(c)
		}
	}
	return s
}

// TestTrainNextToken trains a small character model on a deterministic
// sequence: its bits per character must fall from log2(V) towards 0.
func TestTrainNextToken(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const steps, vocab = 8, 5
	ds := &data.Dataset{Name: "cycle", Shape: []int{steps}, Classes: vocab,
		Train: nextTokenData(400, steps, vocab, rng), Test: nextTokenData(50, steps, vocab, rng)}
	if ds.Metric() != data.MetricBPC {
		t.Fatalf("metric %q", ds.Metric())
	}
	m, err := nn.Build("lstm:5-16-5,head=seq,tokens", ds.Shape, 1)
	if err != nil {
		t.Fatal(err)
	}
	before := Evaluate(m, &ds.Test, 64)
	if math.Abs(before-math.Log2(vocab)) > 0.5 {
		t.Fatalf("untrained bpc %.3f, want about log2(%d) = %.3f", before, vocab, math.Log2(vocab))
	}
	cfg := Config{Epochs: 8, Batch: 20, LR: 0.02, Optimizer: "adam", Schedule: "constant", ClipNorm: 1, Seed: 1}
	res, err := Run(context.Background(), m, ds, cfg, Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.TestErrPct > 0.2 {
		t.Fatalf("trained bpc %.3f (untrained %.3f), want < 0.2", res.TestErrPct, before)
	}
	// The per-sample head refuses per-step labels.
	m1, _ := nn.Build("lstm:5-16-5,tokens", ds.Shape, 1)
	if _, err := Run(context.Background(), m1, ds, cfg, Hooks{}, nil); err == nil {
		t.Fatal("a head=last model trained on per-step labels")
	}
}

// TestTrainNPYSequences trains an LSTM on NPY sequences [N, T, D]: the
// class is the sign of the sum of the first feature over the steps.
func TestTrainNPYSequences(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(4, 4))
	const steps, feat = 6, 3
	write := func(name string, shape []int, v any) string {
		var b bytes.Buffer
		if err := data.WriteNPY(&b, shape, v); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	split := func(n int) ([]float32, []int64) {
		x := make([]float32, n*steps*feat)
		y := make([]int64, n)
		for i := 0; i < n; i++ {
			var s float32
			for k := 0; k < steps*feat; k++ {
				x[i*steps*feat+k] = float32(rng.NormFloat64())
				if k%feat == 0 {
					s += x[i*steps*feat+k]
				}
			}
			if s > 0 {
				y[i] = 1
			}
		}
		return x, y
	}
	trx, try := split(600)
	tex, tey := split(200)
	name := "npy:" + write("trx.npy", []int{600, steps, feat}, trx) + "," + write("try.npy", []int{600}, try) + "," +
		write("tex.npy", []int{200, steps, feat}, tex) + "," + write("tey.npy", []int{200}, tey)
	ds, err := data.Load(name, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.Build("lstm:3-8-2", ds.Shape, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Epochs: 6, Batch: 20, LR: 0.02, Optimizer: "adam", Schedule: "constant", ClipNorm: 1, Seed: 1}
	res, err := Run(context.Background(), m, ds, cfg, Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.TestErrPct > 15 {
		t.Fatalf("test error %.1f%% on a sign-of-sum task, want < 15%%", res.TestErrPct)
	}
}
