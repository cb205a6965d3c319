package train_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/train"
)

// twoBlobs returns n points per class around (-1, -1) and (+1, +1).
func twoBlobs(rng *rand.Rand, n int) data.Split {
	s := data.Split{X: make([]float32, 4*n), Y: make([]int32, 2*n), N: 2 * n, D: 2}
	for i := 0; i < 2*n; i++ {
		c := i % 2
		s.Y[i] = int32(c)
		for j := 0; j < 2; j++ {
			s.X[2*i+j] = float32(2*c-1) + float32(0.5*rng.NormFloat64())
		}
	}
	return s
}

func ExampleRun() {
	rng := rand.New(rand.NewPCG(1, 1))
	ds := &data.Dataset{Name: "blobs", Shape: []int{2}, Classes: 2,
		Train: twoBlobs(rng, 200), Val: twoBlobs(rng, 50), Test: twoBlobs(rng, 50)}
	m, err := nn.Build("mlp:2-8-2", ds.Shape, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := train.DefaultConfig()
	cfg.Epochs, cfg.Batch, cfg.LR = 5, 20, 0.05
	res, err := train.Run(context.Background(), m, ds, cfg, train.Hooks{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("epochs:", res.Epochs, "test error below 5%:", res.TestErrPct < 5)
	// Output: epochs: 5 test error below 5%: true
}
