package faults

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/resq-dev/resq/ckpt"
	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/internal/safetensors"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/tensor"
)

// RunFile runs the experiment on the model at path: a packed model (float
// epilogue or integer-only; faults hit its bit image after Load validated
// the file) or a float32 checkpoint (faults hit the IEEE-754 bits of its
// parameters after ckpt.Load). test is the test split it is scored on.
func RunFile(ctx context.Context, path string, test data.Split, c Config) (*Result, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("faults: %v", err)
	}
	if isPacked(b) {
		m, img, err := packed.ReadImage(b)
		if err != nil {
			return nil, fmt.Errorf("%v (file %q)", err, path)
		}
		return RunPacked(ctx, m, img, test, c, path)
	}
	m, meta, err := ckpt.LoadBytes(b, path)
	if err != nil {
		return nil, err
	}
	if len(meta.Quant) > 0 {
		return nil, fmt.Errorf("faults: %q is a quantized checkpoint: export it (resq export) and run faults on the packed model, which holds the stored bits", path)
	}
	return RunFloat(ctx, m, test, c, path)
}

var errNoActs = fmt.Errorf("faults: activation faults need a packed model")

// actParts reports whether parts include activation faults.
func actParts(parts []string) bool {
	for _, p := range parts {
		if p == PartActs || p == PartBoth {
			return true
		}
	}
	return false
}

// isPacked reports whether b is a safetensors file with the packed
// format's metadata.
func isPacked(b []byte) bool {
	f, err := safetensors.Read(b)
	return err == nil && f.Meta["format"] == packed.FormatName
}

// RunPacked runs the experiment on a loaded packed model and its image
// (packed.ReadImage); name labels the result.
func RunPacked(ctx context.Context, m *packed.Model, img *packed.Image, test data.Split, c Config, name string) (*Result, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	s, err := newPacked(m, img, test)
	if err != nil {
		return nil, err
	}
	res := &Result{Model: name, Format: "packed", Bits: m.Meta["bits"]}
	if img.Integer {
		res.Format = "integer"
	}
	if err := run(ctx, s, c, m.Classes, test.N, res); err != nil {
		return nil, err
	}
	return res, nil
}

// RunFloat runs the experiment on a float32 model (its parameters' bits);
// the model is left as it was. name labels the result.
func RunFloat(ctx context.Context, m *nn.Model, test data.Split, c Config, name string) (*Result, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	if actParts(c.Parts) {
		return nil, fmt.Errorf("faults: --target activations: %s is a float32 checkpoint, whose activations are not codes (export it with resq export)", name)
	}
	for _, p := range m.Params() {
		if p.Q != nil {
			return nil, fmt.Errorf("faults: %s has quantized weights: run faults on its packed export", name)
		}
	}
	s, err := newFloat(m, test)
	if err != nil {
		return nil, err
	}
	var bits []string
	for _, r := range s.mem {
		if !r.scale {
			bits = append(bits, "32")
		}
	}
	res := &Result{Model: name, Format: "float32", Bits: strings.Join(bits, ",")}
	if err := run(ctx, s, c, m.Classes, test.N, res); err != nil {
		return nil, err
	}
	return res, nil
}

// Corrupt returns the model m (with image img, packed.ReadImage) after one
// trial's flips, without protection: every bit of the part's memory flips
// when its draw from a Stream starting at state is below Threshold(ber).
// It is what the generated C computes when compiled with
// -DRESQ_FAULT_SEED=state -DRESQ_FAULT_BER_Q64=Threshold(ber) (part all).
func Corrupt(m *packed.Model, img *packed.Image, part string, state uint64, ber float64) (*packed.Model, int, error) {
	if !(ber >= 0 && ber <= 1) {
		return nil, 0, fmt.Errorf("faults: bit error rate %g outside [0, 1]", ber)
	}
	s, err := newPacked(m, img, data.Split{D: tensor.Numel(m.In)})
	if err != nil {
		return nil, 0, err
	}
	mem := s.mem.clone()
	n := mem.inject(part, &Stream{State: state}, Threshold(ber))
	fm, err := m.WithImage(s.image(mem))
	return fm, n, err
}
