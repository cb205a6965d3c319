package train

import (
	"context"
	"math"
	"math/rand/v2"
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
