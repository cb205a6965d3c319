package train

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
)

// TestMNIST trains DefaultConfig's MLP on real MNIST. It takes minutes, so
// it runs only with RESQ_MNIST=EPOCHS set (and the dataset cached or
// fetchable): RESQ_MNIST=3 go test -run MNIST -v ./train. RESQ_MNIST_SPEC
// and RESQ_MNIST_LR override the model (mlp:784-256-10) and learning rate.
func TestMNIST(t *testing.T) {
	env := os.Getenv("RESQ_MNIST")
	if env == "" {
		t.Skip("set RESQ_MNIST=EPOCHS to train on MNIST")
	}
	cfg := DefaultConfig()
	if _, err := fmt.Sscan(env, &cfg.Epochs); err != nil {
		t.Fatalf("RESQ_MNIST=%q: %v", env, err)
	}
	if lr := os.Getenv("RESQ_MNIST_LR"); lr != "" {
		if _, err := fmt.Sscan(lr, &cfg.LR); err != nil {
			t.Fatalf("RESQ_MNIST_LR=%q: %v", lr, err)
		}
	}
	spec := os.Getenv("RESQ_MNIST_SPEC")
	if spec == "" {
		spec = "mlp:784-256-10"
	}
	ds, err := data.Load("mnist", data.Options{ValSize: 5000, Seed: 1, Fetch: true, Log: os.Stderr})
	if err != nil {
		t.Skipf("MNIST unavailable: %v", err)
	}
	m, err := nn.Build(spec, ds.Shape, 1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), m, ds, cfg, Hooks{}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	limit := 3.0 // any MLP of width >= 256 reaches it in 2 epochs
	if cfg.Epochs < 2 {
		limit = 5
	}
	if res.TestErrPct > limit {
		t.Errorf("%s after %d epochs: test error %.2f%%, want <= %g%%", spec, cfg.Epochs, res.TestErrPct, limit)
	}
}
