package pipeline

import (
	"context"
	"fmt"
	"slices"
	"time"

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
	Search         string            `json:"search"`               // quant.SearchUp or SearchTrade
	Measure        string            `json:"measure"`              // MeasureDirect or MeasureRetrain
	Probe          *train.Config     `json:"probe,omitempty"`      // the short retraining of MeasureRetrain
	ProbeRows      int               `json:"probe_rows,omitempty"` // training rows it ran on
	Measured       int               `json:"measured"`             // allocations measured
	Seconds        float64           `json:"seconds"`              // wall time of the search
	Model          string            `json:"model"`
	Dataset        string            `json:"dataset"`
	Checkpoint     string            `json:"checkpoint"`
	BudgetBytes    int64             `json:"budget_bytes"`
	BitsPerLayer   []int             `json:"bits_per_layer"`
	StoredBytes    int64             `json:"stored_bytes"`
	Loss           float64           `json:"loss"`       // mean cross-entropy on the selection rows (after the probe with MeasureRetrain)
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

// Measures of AllocOptions.
const (
	MeasureDirect  = "direct"  // the loss of the directly quantized model
	MeasureRetrain = "retrain" // the loss after a short retraining (the probe)
)

// AllocOptions are Allocate's search and how it measures an allocation.
// With MeasureRetrain every allocation the search looks at is quantized
// from the float weights and retrained with Probe (forward and backward
// through Q(W), as Retrain does; the checkpoint's retraining seed for the
// batch order and dropout, the same for every allocation, so that the
// allocations are compared on the same batches) on the first ProbeRows
// training rows (0: all), then its loss is measured; the float weights are
// restored after each.
type AllocOptions struct {
	Search    string // quant.SearchUp (default) or quant.SearchTrade
	Measure   string // MeasureDirect (default) or MeasureRetrain
	Probe     train.Config
	ProbeRows int
}

// Allocate chooses per-layer bit widths (minBits..maxBits) for the float
// checkpoint under maxBytes of stored weights (packed.StoredBytes, sparse
// where smaller for a pruned checkpoint), greedily by the loss each bit
// buys per byte (quant.Allocate, with opt's search and measure), measured
// on up to 5000 validation rows (training rows without a validation
// split; never test rows). It then reports the test error of the
// allocation and of every uniform width, all quantized directly. The
// checkpoint stays float.
func (c *Checkpoint) Allocate(ctx context.Context, ds *data.Dataset, cfg quant.Config, minBits, maxBits int, maxBytes int64, opt AllocOptions) (*Allocation, error) {
	if c.Quant != nil {
		return nil, fmt.Errorf("pipeline: %q is already quantized (%d bits); give the float checkpoint", c.Path, c.Quant.Bits)
	}
	if err := c.compatible(ds); err != nil {
		return nil, err
	}
	if opt.Measure == "" {
		opt.Measure = MeasureDirect
	}
	if opt.Search == "" {
		opt.Search = quant.SearchUp
	}
	if opt.Measure != MeasureDirect && opt.Measure != MeasureRetrain {
		return nil, fmt.Errorf("pipeline: allocation measure %q: want %s or %s", opt.Measure, MeasureDirect, MeasureRetrain)
	}
	if opt.ProbeRows < 0 {
		return nil, fmt.Errorf("pipeline: probe rows %d: want 0 (all) or more", opt.ProbeRows)
	}
	split, name := &ds.Val, "val"
	if split.N == 0 {
		split, name = &ds.Train, "train"
	}
	n := min(split.N, lossRows)
	x := tensor.FromData(split.X[:n*split.D], n, split.D)
	y := split.Y[:n]
	popt := packed.Options{Sparse: c.Pruned()}
	var masks [][]bool
	if c.Pruned() {
		masks = zeroMasks(c.M)
	}
	bytesOf := func(ls []quant.LayerInfo) int64 {
		return packed.StoredBytes(c.M, &quant.State{Config: cfg, Layers: ls}, popt)
	}
	req := quant.AllocRequest{
		Config: cfg, MinBits: minBits, MaxBits: maxBits, MaxBytes: maxBytes, Masks: masks, Search: opt.Search,
		Bytes: bytesOf,
		Loss:  func() float64 { return meanLoss(c, x, y) },
	}
	measured := 0
	loss := req.Loss
	req.Loss = func() float64 { measured++; return loss() }
	var probe *train.Config
	probeRows := 0
	if opt.Measure == MeasureRetrain {
		if err := opt.Probe.Validate(); err != nil {
			return nil, err
		}
		probe, probeRows = &opt.Probe, ds.Train.N
		if opt.ProbeRows > 0 {
			probeRows = min(opt.ProbeRows, ds.Train.N)
		}
		score := c.probe(ctx, ds, cfg, masks, opt.Probe, probeRows, x, y)
		req.Loss, req.Score = nil, func(bits []int) (float64, error) { measured++; return score(bits) }
	}
	t0 := time.Now()
	bits, steps, err := quant.Allocate(c.M, req)
	if err != nil {
		return nil, err
	}
	last := steps[len(steps)-1]
	a := &Allocation{Search: opt.Search, Measure: opt.Measure, Probe: probe, ProbeRows: probeRows, Measured: measured, Seconds: time.Since(t0).Seconds(),
		Model: c.M.Spec, Dataset: ds.Name, Checkpoint: c.Path, BudgetBytes: maxBytes, BitsPerLayer: bits,
		StoredBytes: last.Bytes, Loss: last.Loss, LossRows: n, LossSplit: name, Steps: steps,
		FloatTestError: train.Evaluate(c.M, &ds.Test, c.evalBatch())}
	if a.TestErrPct, _, err = c.directError(ds, quant.Config{Rule: cfg.Rule, PerChannel: cfg.PerChannel, Bits: slices.Max(bits), BitsPerLayer: bits}, popt, masks); err != nil {
		return nil, err
	}
	for b := minBits; b <= maxBits; b++ {
		e, nb, err := c.directError(ds, quant.Config{Rule: cfg.Rule, PerChannel: cfg.PerChannel, Bits: b}, popt, masks)
		if err != nil {
			return nil, err
		}
		a.Uniform = append(a.Uniform, UniformPoint{Bits: b, Bytes: nb, TestErrPct: e, Fits: nb <= a.StoredBytes})
	}
	return a, nil
}

// probe returns the loss of MeasureRetrain: the float model quantized with
// an allocation, retrained with tc on the first rows training rows, and
// its mean loss on x, y; the float weights (and buffers) are restored
// after each call.
func (c *Checkpoint) probe(ctx context.Context, ds *data.Dataset, cfg quant.Config, masks [][]bool, tc train.Config, rows int, x *tensor.Tensor, y []int32) func(bits []int) (float64, error) {
	pds := *ds
	tr := ds.Train
	tr.X, tr.Y, tr.N = tr.X[:rows*tr.D], tr.Y[:rows*ds.Train.LabelsPer()], rows
	pds.Train, pds.Val, pds.Test = tr, data.Split{D: tr.D}, data.Split{D: tr.D}
	ps := c.M.Params()
	bs := c.M.Buffers()
	w := make([][]float32, len(ps))
	for i, p := range ps {
		w[i] = slices.Clone(p.W.Data)
	}
	b := make([][]float32, len(bs))
	for i, v := range bs {
		b[i] = slices.Clone(v.T.Data)
	}
	return func(bits []int) (float64, error) {
		qc := cfg
		qc.Bits, qc.BitsPerLayer = slices.Max(bits), bits
		s, err := quant.Attach(c.M, qc)
		if err != nil {
			return 0, err
		}
		defer func() {
			s.Detach(c.M)
			for i, p := range ps {
				copy(p.W.Data, w[i])
			}
			for i, v := range bs {
				copy(v.T.Data, b[i])
			}
		}()
		if masks != nil {
			if err := s.SetMasks(masks); err != nil {
				return 0, err
			}
		}
		tc.Seed = RetrainSeed(c.seed())
		c.M.ReseedDropout(tc.Seed)
		if _, err := train.Run(ctx, c.M, &pds, tc, train.Hooks{AfterStep: s.Sync}, nil); err != nil {
			return 0, fmt.Errorf("pipeline: probe of allocation %s: %w", quant.FormatBits(bits), err)
		}
		return meanLoss(c, x, y), nil
	}
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
