package train

import (
	"context"
	"fmt"
	"testing"
)

// flopsPerSample estimates the training FLOPs of one sample through an MLP
// (forward, input-gradient and weight-gradient GEMMs: 6 per weight).
func flopsPerSample(b *testing.B, spec string) float64 {
	w, _ := mustBuild(b, spec, 1).Count()
	return 6 * float64(w)
}

// BenchmarkStep times one training step (forward, backward, SGD update)
// at batch 100; it reports samples/s, GFLOP/s and, with -benchmem,
// allocations per step (0 expected).
func BenchmarkStep(b *testing.B) {
	for _, spec := range []string{"mlp:784-256-10", "mlp:784-1024x3-10"} {
		b.Run(spec[4:], func(b *testing.B) {
			ds := blobs(1, 784, 10, 1000, 0, 0, 1)
			m := mustBuild(b, spec, 1)
			cfg := DefaultConfig()
			l := newLoop(m, &ds.Train, cfg, Hooks{})
			l.step(cfg.LR)
			fps := flopsPerSample(b, spec) // builds a model: outside the timed loop
			b.ReportAllocs()
			b.ResetTimer()
			samples := 0
			for i := 0; i < b.N; i++ {
				n, _, _ := l.step(0.01)
				if n == 0 {
					l.b.Reset(i)
					n, _, _ = l.step(0.01)
				}
				samples += n
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(samples)/s, "samples/s")
			b.ReportMetric(float64(samples)*fps/s/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkEpochMLP times Run for one epoch of 6000 MNIST-shaped synthetic
// samples (10% of MNIST) with a 1000-sample validation pass.
func BenchmarkEpochMLP(b *testing.B) {
	for _, width := range []int{256, 1024} {
		spec := fmt.Sprintf("mlp:784-%d-10", width)
		b.Run(fmt.Sprintf("784-%d-10", width), func(b *testing.B) {
			ds := blobs(2, 784, 10, 6000, 1000, 0, 1)
			cfg := DefaultConfig()
			cfg.Epochs = 1
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				m := mustBuild(b, spec, 1)
				if _, err := Run(context.Background(), m, ds, cfg, Hooks{}, nil); err != nil {
					b.Fatal(err)
				}
			}
			s := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(s*1e3, "ms/epoch")
			b.ReportMetric(6000/s, "samples/s")
		})
	}
}

// BenchmarkOptimizer times one update of the 784-1024x3-10 params
// (2.9M floats) and reports the update rate in Mparams/s.
func BenchmarkOptimizer(b *testing.B) {
	m := mustBuild(b, "mlp:784-1024x3-10", 1)
	_, n := m.Count()
	for _, name := range []string{"sgd", "momentum", "nesterov", "adam"} {
		b.Run(name, func(b *testing.B) {
			var opt Optimizer
			switch name {
			case "sgd":
				opt = &SGD{WeightDecay: 1e-4}
			case "momentum":
				opt = &SGD{Momentum: 0.9, WeightDecay: 1e-4}
			case "nesterov":
				opt = &SGD{Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4}
			default:
				opt = &Adam{}
			}
			opt.Step(m.Params(), 1e-6)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				opt.Step(m.Params(), 1e-6)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mparams/s")
		})
	}
}
