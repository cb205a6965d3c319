package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/resq-dev/resq/tensor"
)

// BenchmarkCNNLayers times each layer of the MNIST CNN
// (32c5-p2-64c5-p2-fc512-10, batch 100) forward and backward on its own,
// so that the share of every layer in BenchmarkCNNStep is visible.
func BenchmarkCNNLayers(b *testing.B) {
	m, err := Build("cnn:32c5-p2-64c5-p2-fc512-10", []int{1, 28, 28}, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := randTensor(rng, 100, 1, 28, 28)
	ins := make([]*tensor.Tensor, len(m.Layers))
	outs := make([]*tensor.Tensor, len(m.Layers))
	for i, l := range m.Layers {
		ins[i] = x
		x = l.Forward(x, true)
		outs[i] = tensor.FromData(append([]float32(nil), x.Data...), x.Shape...)
	}
	for i, l := range m.Layers {
		dy := randTensor(rng, outs[i].Shape...)
		name := fmt.Sprintf("%d-%s", i, l.Kind())
		b.Run(name+"/forward", func(b *testing.B) {
			for b.Loop() {
				l.Forward(ins[i], true)
			}
		})
		b.Run(name+"/backward", func(b *testing.B) {
			l.Forward(ins[i], true)
			for b.Loop() {
				l.Backward(dy)
			}
		})
	}
}
