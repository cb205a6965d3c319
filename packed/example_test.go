package packed_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
)

// ExampleLoad exports a ternary MLP and runs it with the packed engine.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "resq-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// A (here untrained) float model, quantized to ternary weights.
	m, err := nn.Build("mlp:784-256x2-10", nil, 1)
	if err != nil {
		log.Fatal(err)
	}
	s, err := quant.Attach(m, quant.Config{Bits: 2})
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "mlp.resq")
	size, err := packed.Export(path, m, s, packed.Meta{Dataset: "mnist", SourceCheckpoint: "mlp.ckpt"})
	if err != nil {
		log.Fatal(err)
	}
	// 2-bit codes + one F32 step per layer + F32 biases; the file adds
	// the safetensors header with the architecture and provenance.
	stored := packed.StoredBytes(m, s, packed.Options{})
	fmt.Printf("stored %d tensor bytes, header %v\n", stored, size > stored)

	pm, err := packed.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("input", pm.In, "classes", pm.Classes, "bits", pm.Meta["bits"], "dataset", pm.Meta["dataset"])

	x := make([]float32, 3*784) // three all-zero images
	logits := make([]float32, 3*pm.Classes)
	pm.Infer(logits, x, 3)
	pred := make([]int32, 3)
	pm.Predict(pred, x, 3)
	fmt.Println("same class for identical inputs:", pred[0] == pred[1] && pred[1] == pred[2])
	// Output:
	// stored 69300 tensor bytes, header true
	// input [784] classes 10 bits 2,2,2 dataset mnist
	// same class for identical inputs: true
}
