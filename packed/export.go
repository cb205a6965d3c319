package packed

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/quant"
)

// stateQuant looks weights up in a quant.State by param name.
func stateQuant(s *quant.State) weightQuant {
	byName := map[string]quant.LayerInfo{}
	if s != nil {
		for _, l := range s.Layers {
			byName[l.Name] = l
		}
	}
	return func(p *nn.Param) (int, []float32, []float32, bool) {
		l, ok := byName[p.Name]
		if !ok {
			return 0, nil, nil, false
		}
		return l.Bits, l.Step, l.Thresh, true
	}
}

// Export writes m, quantized as s describes, to path as a packed model
// (atomically: path is replaced only once the whole file is written) and
// returns the file's size. Weights are stored as the codes quant.Codes
// gives for the float weights and the state's steps, so Q = code*step is
// exactly what the quantized model computed with. BatchNorm layers are
// folded into the preceding layer's steps and biases; dropout is dropped.
// Models the engine cannot run (unquantized weights, layer kinds other than
// dense, conv, batch norm, max pool, flatten, dropout, relu, sigmoid,
// tanh) give an error.
func Export(path string, m *nn.Model, s *quant.State, meta Meta) (int64, error) {
	if s == nil {
		return 0, fmt.Errorf("packed: export %s: model has no quantization state", path)
	}
	for _, l := range s.Layers {
		if l.Bits < MinBits || l.Bits > MaxBits || l.QMax != qmax(l.Bits) {
			return 0, fmt.Errorf("packed: export %s: %s has %d bits with codes up to %d; the format stores %d..%d bits with codes up to 2^(bits-1)-1", path, l.Name, l.Bits, l.QMax, MinBits, MaxBits)
		}
	}
	a, data, err := fromModel(m, stateQuant(s), meta.Options, false)
	if err != nil {
		return 0, err
	}
	// Refuse now what Load would refuse later.
	for i, d := range data {
		if d == nil {
			continue
		}
		step := d.Step
		if rows := len(d.Bias); len(step) == 1 && rows > 1 {
			step = slices.Repeat(step, rows)
		}
		if err := checkScales(tensorName(i, "step"), step, tensorName(i, "bias"), d.Bias, d.Codes, len(d.Codes)/max(len(d.Bias), 1)); err != nil {
			return 0, fmt.Errorf("packed: export %s: %v", path, err)
		}
	}
	if meta.QuantConfig == "" {
		if j, err := json.Marshal(s.Config); err == nil {
			meta.QuantConfig = string(j)
		}
	}
	// The size is counted as written: path may be a device or a pipe
	// (atomicfile writes through those), whose size says nothing.
	var size int64
	err = atomicfile.WriteFile(path, func(w io.Writer) error {
		cw := &countingWriter{w: w}
		err := encode(cw, a, m.Spec, data, meta)
		size = cw.n
		return err
	})
	if err != nil {
		return 0, err
	}
	return size, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// StoredBytes returns the exact number of tensor bytes Export stores for m
// quantized as s: codes (bits per weight, rounded up to whole bytes per
// tensor; base 3 with opt.Base3 for ternary layers), 4 bytes per step and 4
// per bias. BatchNorm folding is included (it makes steps per channel).
// The file adds a header (FileSize - StoredBytes, a few hundred bytes). A
// weight tensor s does not quantize counts 4 bytes per weight, and layers
// the engine cannot run are skipped, so any model can be sized.
func StoredBytes(m *nn.Model, s *quant.State, opt Options) int64 {
	a, data, _ := fromModel(m, stateQuant(s), opt, true) // lenient: never fails
	return storedBytes(a, data)
}

// FileSize returns the size in bytes of the file at path.
func FileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("packed: %v", err)
	}
	return st.Size(), nil
}
