package cexport_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/packed/cexport"
	"github.com/resq-dev/resq/quant"
)

// Export a ternary MLP as an integer-only model and generate its C.
func Example() {
	m, _ := nn.Build("mlp:16-8-3", []int{16}, 1)
	s, _ := quant.Direct(m, quant.Config{Bits: 2})
	calib := make([]float32, 10*16) // calibration rows (here a ramp)
	for i := range calib {
		calib[i] = float32(i%16) / 15
	}
	dir, _ := os.MkdirTemp("", "cexport")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tiny.rq")
	if _, err := packed.ExportInteger(path, m, s, calib, 10, packed.IntOptions{}, packed.Meta{}); err != nil {
		fmt.Println(err)
		return
	}
	pm, _ := packed.Load(path)
	files, err := cexport.Generate(pm, cexport.Options{Name: "tiny"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range strings.Split(string(files["model.h"]), "\n") {
		if strings.HasPrefix(l, "#define TINY_") || strings.HasPrefix(l, "int ") {
			fmt.Println(l)
		}
	}
	// Output:
	// #define TINY_MODEL_H
	// #define TINY_INPUT_SIZE 16
	// #define TINY_CLASSES 3
	// #define TINY_SCRATCH_BYTES 40
	// #define TINY_WEIGHT_BYTES 137
	// int tiny_predict(const uint8_t *input, int32_t *logits);
}
