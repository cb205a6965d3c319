package pipeline

import (
	"fmt"
	"slices"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
	"github.com/resq-dev/resq/train"
)

// Allocation is what Allocate chose and measured. Test errors are of
// direct quantization (no retraining); the choice itself used only the
// loss on training (or validation) rows.
type Allocation struct {
	Model          string            `json:"model"`
	Dataset        string            `json:"dataset"`
	Checkpoint     string            `json:"checkpoint"`
	BudgetBytes    int64             `json:"budget_bytes"`
	BitsPerLayer   []int             `json:"bits_per_layer"`
	StoredBytes    int64             `json:"stored_bytes"`
	Loss           float64           `json:"loss"`       // mean cross-entropy on the selection rows, direct quantization
	LossRows       int               `json:"loss_rows"`  // rows the loss was measured on
	LossSplit      string            `json:"loss_split"` // "val" or "train"
	TestErrPct     float64           `json:"test_error_pct"`
	Steps          []quant.AllocStep `json:"steps"`
	Uniform        []UniformPoint    `json:"uniform"` // every uniform width, with whether it fits the allocation's bytes
	FloatTestError float64           `json:"float_test_error_pct"`
}

// UniformPoint is one uniform bit width beside an allocation.
type UniformPoint struct {
	Bits       int     `json:"bits"`
	Bytes      int64   `json:"stored_bytes"`
	TestErrPct float64 `json:"test_error_pct"`
	Fits       bool    `json:"fits"` // stored in no more bytes than the allocation
}

// lossRows is the number of rows the allocation's loss is measured on.
const lossRows = 5000

// Allocate chooses per-layer bit widths (minBits..maxBits) for the float
// checkpoint under maxBytes of stored weights (packed.StoredBytes, sparse
// where smaller for a pruned checkpoint), greedily by the loss each
// increment buys per byte (quant.Allocate), measured on up to 5000
// validation rows (training rows without a validation split). It then
// reports the test error of the allocation and of every uniform width,
// all quantized directly. The checkpoint stays float.
func (c *Checkpoint) Allocate(ds *data.Dataset, cfg quant.Config, minBits, maxBits int, maxBytes int64) (*Allocation, error) {
	if c.Quant != nil {
		return nil, fmt.Errorf("pipeline: %q is already quantized (%d bits); give the float checkpoint", c.Path, c.Quant.Bits)
	}
	if err := c.compatible(ds); err != nil {
		return nil, err
	}
	split, name := &ds.Val, "val"
	if split.N == 0 {
		split, name = &ds.Train, "train"
	}
	n := min(split.N, lossRows)
	x := tensor.FromData(split.X[:n*split.D], n, split.D)
	y := split.Y[:n]
	opt := packed.Options{Sparse: c.Pruned()}
	var masks [][]bool
	if c.Pruned() {
		masks = zeroMasks(c.M)
	}
	bytesOf := func(ls []quant.LayerInfo) int64 {
		return packed.StoredBytes(c.M, &quant.State{Config: cfg, Layers: ls}, opt)
	}
	bits, steps, err := quant.Allocate(c.M, quant.AllocRequest{
		Config: cfg, MinBits: minBits, MaxBits: maxBits, MaxBytes: maxBytes, Masks: masks,
		Bytes: bytesOf,
		Loss:  func() float64 { return meanLoss(c, x, y) },
	})
	if err != nil {
		return nil, err
	}
	last := steps[len(steps)-1]
	a := &Allocation{Model: c.M.Spec, Dataset: ds.Name, Checkpoint: c.Path, BudgetBytes: maxBytes, BitsPerLayer: bits,
		StoredBytes: last.Bytes, Loss: last.Loss, LossRows: n, LossSplit: name, Steps: steps,
		FloatTestError: train.Evaluate(c.M, &ds.Test, c.evalBatch())}
	if a.TestErrPct, _, err = c.directError(ds, quant.Config{Rule: cfg.Rule, PerChannel: cfg.PerChannel, Bits: slices.Max(bits), BitsPerLayer: bits}, opt, masks); err != nil {
		return nil, err
	}
	for b := minBits; b <= maxBits; b++ {
		e, nb, err := c.directError(ds, quant.Config{Rule: cfg.Rule, PerChannel: cfg.PerChannel, Bits: b}, opt, masks)
		if err != nil {
			return nil, err
		}
		a.Uniform = append(a.Uniform, UniformPoint{Bits: b, Bytes: nb, TestErrPct: e, Fits: nb <= a.StoredBytes})
	}
	return a, nil
}

// directError quantizes the float model directly with cfg (over the
// surviving weights with masks), measures its test error and stored
// bytes, and detaches the quantizer again.
func (c *Checkpoint) directError(ds *data.Dataset, cfg quant.Config, opt packed.Options, masks [][]bool) (float64, int64, error) {
	s, err := quant.Attach(c.M, cfg)
	if err != nil {
		return 0, 0, err
	}
	defer s.Detach(c.M)
	if masks != nil {
		if err := s.SetMasks(masks); err != nil {
			return 0, 0, err
		}
	}
	return train.Evaluate(c.M, &ds.Test, c.evalBatch()), packed.StoredBytes(c.M, s, opt), nil
}

// meanLoss is the model's mean cross-entropy on x [n, D] with labels y,
// in evaluation batches.
func meanLoss(c *Checkpoint, x *tensor.Tensor, y []int32) float64 {
	n, d := x.Shape[0], x.Shape[1]
	bs := c.evalBatch()
	var sum float64
	for i := 0; i < n; i += bs {
		k := min(bs, n-i)
		xb := tensor.FromData(x.Data[i*d:(i+k)*d], k, d)
		logits := c.M.Forward(xb, false)
		sum += c.M.Loss.Forward(logits, y[i:i+k]) * float64(k)
	}
	return sum / float64(max(n, 1))
}
