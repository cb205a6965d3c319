package sweep_test

import (
	"fmt"

	"github.com/resq-dev/resq/sweep"
)

// A spec expands into cells: per (size, seed) one float cell, and per bit
// width a direct and a retrain cell that start from its model.
func ExampleParseSpec() {
	spec, err := sweep.ParseSpec("tiny.yaml", []byte(`
dataset: mnist
mlp: {widths: [64, 256], depths: [2]}
bits: [2]
float: {epochs: 5}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	cells, _ := spec.Cells()
	for _, c := range cells {
		fmt.Printf("group %d: %s (retrain epochs %d)\n", c.Group, c.Label(), spec.Retrain.Epochs)
	}
	// Output:
	// group 0: mlp w=64 d=2 seed=1 float (retrain epochs 3)
	// group 0: mlp w=64 d=2 seed=1 direct 2b (retrain epochs 3)
	// group 0: mlp w=64 d=2 seed=1 retrain 2b (retrain epochs 3)
	// group 1: mlp w=256 d=2 seed=1 float (retrain epochs 3)
	// group 1: mlp w=256 d=2 seed=1 direct 2b (retrain epochs 3)
	// group 1: mlp w=256 d=2 seed=1 retrain 2b (retrain epochs 3)
}

// Spec errors name the file and line.
func ExampleParseSpec_error() {
	_, err := sweep.ParseSpec("spec.yaml", []byte("dataset: mnist\nmlp:\n  widht: [32]\n"))
	fmt.Println(err)
	// Output:
	// sweep: spec.yaml:3: unknown key "widht" in mlp (did you mean "widths"?)
}
