package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/resq-dev/resq/tensor"
)

// benchStep times one training step (forward, loss, backward; no optimiser)
// and reports allocations, FLOP rate of the GEMM/conv work, and samples/s.
func benchStep(b *testing.B, spec string, in []int, batch int) {
	m, err := Build(spec, in, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := randTensor(rng, batch, tensor.Numel(m.In))
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(rng.IntN(m.Classes))
	}
	step := func() {
		m.Loss.Forward(m.Forward(x, true), labels)
		m.Backward(m.Loss.Backward())
	}
	step()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		step()
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(batch)/sec, "samples/s")
	b.ReportMetric(stepFlops(m, batch)/sec/1e9, "GFLOP/s")
}

// stepFlops counts 2·MNK per GEMM product of a training step: 3 products
// per Dense/Conv2D layer, 2 for the first one (no input gradient).
func stepFlops(m *Model, batch int) float64 {
	var f float64
	shape := append([]int(nil), m.In...)
	for _, l := range m.Layers {
		var macs float64
		var skip bool
		switch l := l.(type) {
		case *Dense:
			macs, skip = float64(batch*l.In*l.Out), l.SkipInputGrad
		case *Conv2D:
			o, _ := l.OutShape(shape[0], shape[1], shape[2])
			macs, skip = float64(batch*o[0]*o[1]*o[2]*l.C*l.R*l.S), l.SkipInputGrad
			shape = o[:]
		case *MaxPool:
			shape = []int{shape[0], (shape[1]-l.K)/l.Stride + 1, (shape[2]-l.K)/l.Stride + 1}
		}
		n := 3.0
		if skip {
			n = 2
		}
		f += 2 * n * macs
	}
	return f
}

// BenchmarkMLPStep is the training shape of the paper's largest MNIST MLP:
// 784-1024x3-10, batch 100, dropout 0.2.
func BenchmarkMLPStep(b *testing.B) {
	b.Run("784-1024x3-10/b100", func(b *testing.B) { benchStep(b, "mlp:784-1024x3-10", nil, 100) })
	b.Run("784-1024x3-10,drop=0.2/b100", func(b *testing.B) { benchStep(b, "mlp:784-1024x3-10,drop=0.2", nil, 100) })
}

// BenchmarkCNNStep is the MNIST CNN (32c5-p2-64c5-p2-fc512-10), batch 100.
func BenchmarkCNNStep(b *testing.B) {
	b.Run("mnist-cnn/b100", func(b *testing.B) { benchStep(b, "cnn:32c5-p2-64c5-p2-fc512-10", []int{1, 28, 28}, 100) })
}

// BenchmarkLayers times the non-GEMM layers at MLP training size
// ([100, 1024]) so their share of a step is visible.
func BenchmarkLayers(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randTensor(rng, 100, 1024)
	dy := randTensor(rng, 100, 1024)
	for _, c := range []struct {
		name string
		l    Layer
	}{
		{"relu/100x1024", &ReLU{}},
		{"dropout/100x1024", NewDropout(0.2, 1, 1)},
		{"batchnorm/100x1024", NewBatchNorm(1024)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				c.l.Forward(x, true)
				c.l.Backward(dy)
			}
			b.ReportMetric(float64(b.N)*float64(len(x.Data))/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
