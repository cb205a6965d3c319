package nn

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkLSTMTrainStep is one training step's forward and backward of
// lstm:28-128-10's recurrent layer on sequential MNIST: batch 100, 28
// steps of 28 features, 128 hidden units.
func BenchmarkLSTMTrainStep(b *testing.B) {
	for _, kind := range []string{"lstm", "gru"} {
		b.Run(kind, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			var l Layer = NewLSTM(28, 128, false)
			if kind == "gru" {
				l = NewGRU(28, 128, false)
			}
			initParams(rng, l)
			x := randTensor(rng, 100, 28*28)
			dy := randTensor(rng, 100, 128)
			b.ResetTimer()
			for range b.N {
				l.Forward(x, true)
				l.Backward(dy)
			}
			b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
