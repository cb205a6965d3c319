package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// blobs returns a dataset of Gaussian clusters: one centre per class in d
// dimensions, unit-variance noise scaled by spread.
func blobs(seed uint64, d, classes, ntrain, nval, ntest int, spread float64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, seed))
	centres := make([]float64, classes*d)
	for i := range centres {
		centres[i] = 2 * rng.NormFloat64()
	}
	split := func(n int) data.Split {
		s := data.Split{X: make([]float32, n*d), Y: make([]int32, n), N: n, D: d}
		for i := 0; i < n; i++ {
			c := rng.IntN(classes)
			s.Y[i] = int32(c)
			for j := 0; j < d; j++ {
				s.X[i*d+j] = float32(centres[c*d+j] + spread*rng.NormFloat64())
			}
		}
		return s
	}
	return &data.Dataset{Name: "blobs", Checksum: "none", Shape: []int{d}, Classes: classes,
		Train: split(ntrain), Val: split(nval), Test: split(ntest)}
}

func mustBuild(t testing.TB, spec string, seed uint64) *nn.Model {
	t.Helper()
	m, err := nn.Build(spec, nil, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func weights(m *nn.Model) [][]float32 {
	var w [][]float32
	for _, p := range m.Params() {
		w = append(w, slices.Clone(p.W.Data))
	}
	return w
}

func equalWeights(a, b [][]float32) bool {
	return slices.EqualFunc(a, b, func(x, y []float32) bool {
		return slices.EqualFunc(x, y, func(u, v float32) bool { return math.Float32bits(u) == math.Float32bits(v) })
	})
}

func smallConfig() Config {
	c := DefaultConfig()
	c.Epochs, c.Batch, c.LR = 6, 16, 0.05
	return c
}

func TestRunLearns(t *testing.T) {
	ds := blobs(1, 8, 3, 300, 60, 90, 1)
	for _, opt := range []string{"sgd", "adam"} {
		m := mustBuild(t, "mlp:8-16-3,drop=0.1", 1)
		cfg := smallConfig()
		cfg.Optimizer = opt
		if opt == "adam" {
			cfg.Momentum, cfg.LR = 0, 0.01
		}
		before := Evaluate(m, &ds.Test, 7)
		var log bytes.Buffer
		var epochs []EpochStats
		res, err := Run(context.Background(), m, ds, cfg, Hooks{Epoch: func(s EpochStats) { epochs = append(epochs, s) }}, &log)
		if err != nil {
			t.Fatalf("%s: %v", opt, err)
		}
		if res.TestErrPct > 10 || res.TestErrPct >= before {
			t.Errorf("%s: test error %.1f%% after training (%.1f%% before)", opt, res.TestErrPct, before)
		}
		if res.Epochs != cfg.Epochs || len(res.TrainLoss) != cfg.Epochs || len(res.ValErrPct) != cfg.Epochs || len(epochs) != cfg.Epochs {
			t.Errorf("%s: history lengths %d %d %d %d, want %d", opt, res.Epochs, len(res.TrainLoss), len(res.ValErrPct), len(epochs), cfg.Epochs)
		}
		if res.TrainLoss[len(res.TrainLoss)-1] >= res.TrainLoss[0] {
			t.Errorf("%s: loss did not fall: %v", opt, res.TrainLoss)
		}
		if want := cfg.Epochs * ((300 + 15) / 16); res.Steps != want {
			t.Errorf("%s: %d steps, want %d", opt, res.Steps, want)
		}
		if got := Evaluate(m, &ds.Test, 1000); got != res.TestErrPct {
			t.Errorf("%s: Evaluate %v, Result.TestErrPct %v", opt, got, res.TestErrPct)
		}
		if n := strings.Count(log.String(), "\nepoch "); n != cfg.Epochs {
			t.Errorf("%s: %d epoch lines in log:\n%s", opt, n, log.String())
		}
		if !strings.Contains(log.String(), "epoch 6/6 loss ") || !strings.Contains(log.String(), "samples/s") {
			t.Errorf("%s: log lacks the epoch line format:\n%s", opt, log.String())
		}
	}
}

func TestRunDeterministic(t *testing.T) {
	ds := blobs(2, 5, 4, 100, 20, 0, 1.5)
	run := func(seed uint64) [][]float32 {
		m := mustBuild(t, "mlp:5-7x2-4,drop=0.3", 3)
		cfg := smallConfig()
		cfg.Epochs, cfg.Batch, cfg.Seed = 3, 9, seed
		cfg.Nesterov, cfg.WeightDecay = true, 1e-3
		if _, err := Run(context.Background(), m, ds, cfg, Hooks{}, nil); err != nil {
			t.Fatal(err)
		}
		return weights(m)
	}
	a, b, c := run(1), run(1), run(2)
	if !equalWeights(a, b) {
		t.Error("two runs with the same seed gave different weights")
	}
	if equalWeights(a, c) {
		t.Error("runs with different seeds gave identical weights")
	}
}

func TestRunNaN(t *testing.T) {
	ds := blobs(3, 4, 2, 64, 0, 0, 1)
	m := mustBuild(t, "mlp:4-8-2", 1)
	cfg := smallConfig()
	cfg.LR, cfg.Schedule = 1e30, "constant"
	res, err := Run(context.Background(), m, ds, cfg, Hooks{}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "train: epoch 1 batch ") || !strings.Contains(err.Error(), "learning rate 1e+30 too high?") {
		t.Fatalf("error %v, want a non-finite loss error", err)
	}
	if res == nil || res.Epochs != 0 {
		t.Errorf("result %+v, want no finished epoch", res)
	}
}

// TestRunDiverged checks that a loss that explodes but stays finite stops
// training with an error, while an ordinary run passes the check.
func TestRunDiverged(t *testing.T) {
	for _, lr := range []float64{1e6, 0.05} {
		ds := blobs(3, 4, 2, 64, 0, 0, 1)
		m := mustBuild(t, "mlp:4-8-2", 1)
		cfg := smallConfig()
		cfg.LR, cfg.Schedule = lr, "constant"
		res, err := Run(context.Background(), m, ds, cfg, Hooks{}, nil)
		if lr == 0.05 {
			if err != nil {
				t.Fatalf("lr %g: %v", lr, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), "train: epoch 1: mean training loss ") || !strings.Contains(err.Error(), "diverged") {
			t.Fatalf("lr %g: error %v, want a diverged-loss error", lr, err)
		}
		if res == nil || res.Epochs != 0 {
			t.Errorf("result %+v, want no finished epoch", res)
		}
	}
}

func TestRunCancel(t *testing.T) {
	ds := blobs(4, 4, 2, 64, 0, 0, 1)
	m := mustBuild(t, "mlp:4-8-2", 1)
	ctx, cancel := context.WithCancel(context.Background())
	cfg := smallConfig()
	res, err := Run(ctx, m, ds, cfg, Hooks{Epoch: func(s EpochStats) {
		if s.Epoch == 2 {
			cancel()
		}
	}}, nil)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "train: epoch 3 batch 1: ") {
		t.Fatalf("error %v, want cancellation at epoch 3 batch 1", err)
	}
	if res.Epochs != 2 {
		t.Errorf("%d epochs finished, want 2", res.Epochs)
	}
}

func TestRunHookError(t *testing.T) {
	ds := blobs(5, 4, 2, 64, 0, 0, 1)
	m := mustBuild(t, "mlp:4-8-2", 1)
	calls := 0
	boom := errors.New("boom")
	_, err := Run(context.Background(), m, ds, smallConfig(), Hooks{AfterStep: func() error {
		calls++
		if calls == 5 {
			return boom
		}
		return nil
	}}, nil)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "train: epoch 2 batch 1: ") {
		t.Fatalf("error %v, want boom at epoch 2 batch 1 (4 batches per epoch)", err)
	}
}

// TestEarlyStopping ruins the weights during epochs 3 and 4, so that the
// validation error rises, and checks that training stops after Patience
// epochs without improvement and restores the best epoch's weights.
func TestEarlyStopping(t *testing.T) {
	ds := blobs(6, 6, 3, 150, 60, 60, 0.7)
	m := mustBuild(t, "mlp:6-12-3", 2)
	cfg := smallConfig()
	cfg.Epochs, cfg.Patience = 10, 2
	var best [][]float32
	ruin, finished, afterEnd := false, 0, 0
	h := Hooks{
		Epoch: func(s EpochStats) {
			finished = s.Epoch
			ruin = s.Epoch == 2 || s.Epoch == 3
			if s.Best {
				best = weights(m)
			}
		},
		AfterStep: func() error {
			if ruin {
				for _, p := range m.Params() {
					clear(p.W.Data)
				}
			}
			if finished == 4 {
				afterEnd++
			}
			return nil
		},
	}
	res, err := Run(context.Background(), m, ds, cfg, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.EarlyStopped || res.Epochs != 4 || res.BestEpoch != 2 || !res.Restored {
		t.Fatalf("result %+v: want early stop after epoch 4 with best epoch 2, restored", res)
	}
	if afterEnd != 1 {
		t.Errorf("AfterStep ran %d times after the last epoch, want 1 (after the restore)", afterEnd)
	}
	if !equalWeights(weights(m), best) {
		t.Error("the model does not hold the best epoch's weights")
	}
	if got := Evaluate(m, &ds.Val, 50); got != res.BestValErrPct || got > 20 {
		t.Errorf("val error after restore %v%%, best was %v%%", got, res.BestValErrPct)
	}
}

func TestEvaluate(t *testing.T) {
	// A linear 2-class model scoring class 1 by x0 - x1: predicts 1 when
	// x0 > x1.
	m := mustBuild(t, "mlp:2-2", 1)
	w := m.Params()[0].W.Data // [2, 2]
	copy(w, []float32{-1, 1, 1, -1})
	clear(m.Params()[1].W.Data)
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{1, 3, 17, 129} {
		s := data.Split{X: make([]float32, 2*n), Y: make([]int32, n), N: n, D: 2}
		wrong := 0
		for i := 0; i < n; i++ {
			a, b := rng.Float32(), rng.Float32()
			s.X[2*i], s.X[2*i+1] = a, b
			s.Y[i] = int32(rng.IntN(2))
			pred := int32(0)
			if a > b {
				pred = 1
			}
			if pred != s.Y[i] {
				wrong++
			}
		}
		want := 100 * float64(wrong) / float64(n)
		for _, batch := range []int{1, 3, 17, 1000} {
			if got := Evaluate(m, &s, batch); got != want {
				t.Errorf("n %d batch %d: error %v%%, want %v%%", n, batch, got, want)
			}
		}
	}
	if got := Evaluate(m, &data.Split{D: 2}, 5); got != 0 {
		t.Errorf("empty split: %v", got)
	}
}

func TestCheckCompatible(t *testing.T) {
	m := mustBuild(t, "mlp:4-3", 1)
	ds := blobs(8, 5, 3, 10, 0, 0, 1)
	if err := CheckCompatible(m, ds); err == nil || !strings.Contains(err.Error(), "takes 4 inputs") {
		t.Errorf("width mismatch: %v", err)
	}
	ds = blobs(8, 4, 5, 10, 0, 0, 1)
	if err := CheckCompatible(m, ds); err == nil || !strings.Contains(err.Error(), "has 3 classes") {
		t.Errorf("class mismatch: %v", err)
	}
	if _, err := Run(context.Background(), m, ds, smallConfig(), Hooks{}, nil); err == nil {
		t.Error("Run accepted an incompatible dataset")
	}
	ds = blobs(8, 4, 3, 10, 0, 0, 1)
	cfg := smallConfig()
	cfg.Patience = 2
	if _, err := Run(context.Background(), m, ds, cfg, Hooks{}, nil); err == nil || !strings.Contains(err.Error(), "needs a validation split") {
		t.Errorf("patience without validation: %v", err)
	}
}

func TestStepAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	defer tensor.SetThreads(tensor.SetThreads(1))
	ds := blobs(9, 20, 4, 200, 0, 0, 1)
	m := mustBuild(t, "mlp:20-32-4,drop=0.2", 1)
	cfg := smallConfig()
	cfg.Batch = 32
	l := newLoop(m, &ds.Train, cfg, Hooks{})
	l.step(0.01)
	allocs := testing.AllocsPerRun(50, func() {
		if n, _, _ := l.step(0.01); n == 0 {
			l.b.Reset(1)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per training step, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(10, func() { Evaluate(m, &ds.Train, 64) })
	if allocs > 3 {
		t.Errorf("Evaluate: %v allocations per call (4 batches), want at most 3 (its buffers)", allocs)
	}
}

// TestRunCNN trains a small CNN with BatchNorm on image-shaped blobs and
// checks that early stopping restores its running statistics as well.
func TestRunCNN(t *testing.T) {
	ds := blobs(10, 36, 3, 120, 30, 30, 1)
	ds.Shape = []int{1, 6, 6}
	m, err := nn.Build("cnn:4c3-bn-p2-3", ds.Shape, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := smallConfig()
	cfg.Epochs, cfg.Patience = 4, 4
	var bestBufs [][]float32
	res, err := Run(context.Background(), m, ds, cfg, Hooks{Epoch: func(s EpochStats) {
		if s.Best {
			bestBufs = nil
			for _, b := range m.Buffers() {
				bestBufs = append(bestBufs, slices.Clone(b.T.Data))
			}
		}
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.TestErrPct > 20 {
		t.Errorf("cnn test error %.1f%%", res.TestErrPct)
	}
	for i, b := range m.Buffers() {
		if !slices.Equal(b.T.Data, bestBufs[i]) {
			t.Errorf("buffer %q does not hold the best epoch's statistics", b.Name)
		}
	}
}
