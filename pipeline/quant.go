package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/resq-dev/resq/ckpt"
	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/prune"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/tensor"
	"github.com/resq-dev/resq/train"
)

// Checkpoint is a model read from a checkpoint file, with its quantizer
// re-created bit for bit when the checkpoint holds a quantized model.
type Checkpoint struct {
	Path  string
	M     *nn.Model
	Meta  ckpt.Meta
	Quant *quant.State // nil for a float model

	EvalBatch int // rows per evaluation pass; 0: 500
}

// Load reads a checkpoint; a quantized checkpoint gets its stored quantizer
// state back (same steps, same rounding), so it evaluates exactly as it
// did when it was saved.
func Load(path string) (*Checkpoint, error) {
	m, meta, err := ckpt.Load(path)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{Path: path, M: m, Meta: meta}
	if len(meta.Quant) > 0 {
		if c.Quant, err = quant.LoadState(m, meta.Quant); err != nil {
			return nil, fmt.Errorf("pipeline: %q: %v", path, err)
		}
	}
	return c, nil
}

func (c *Checkpoint) evalBatch() int {
	if c.EvalBatch > 0 {
		return c.EvalBatch
	}
	return defaultEvalBatch
}

// seed returns the seed the checkpoint's model was trained with (1 when
// the checkpoint does not say).
func (c *Checkpoint) seed() uint64 {
	var tm trainMeta
	if len(c.Meta.Train) > 0 && json.Unmarshal(c.Meta.Train, &tm) == nil && tm.Seed != 0 {
		return tm.Seed
	}
	return 1
}

// Eval measures the checkpoint's test error on ds.
func (c *Checkpoint) Eval(ds *data.Dataset) (*Outcome, error) {
	if err := c.compatible(ds); err != nil {
		return nil, err
	}
	o := newOutcome(c.M, ds, c.seed(), results.ModeFloat, 32)
	c.describe(o)
	o.evaluate(ds, c.evalBatch())
	return o, nil
}

// Throughput is the speed of a model's forward pass over the test split:
// the whole split, Passes times, in batches of Batch rows.
type Throughput struct {
	Batch         int     `json:"batch"`
	Passes        int     `json:"passes"`
	Seconds       float64 `json:"seconds"`
	SamplesPerSec float64 `json:"samples_per_second"`
}

// EvalFor is Eval in batches of batch rows (0: the default) that then
// repeats the test split until at least seconds have passed and records
// the forward pass's throughput in the outcome (none when seconds <= 0).
// The first, measuring pass warms the buffers and is not timed. It stops
// between passes when ctx is done and returns ctx's error.
func (c *Checkpoint) EvalFor(ctx context.Context, ds *data.Dataset, batch int, seconds float64) (*Outcome, error) {
	if batch < 0 {
		return nil, fmt.Errorf("pipeline: batch %d, need at least 1", batch)
	}
	if !(seconds <= math.MaxInt32) {
		return nil, fmt.Errorf("pipeline: %v seconds of evaluation: want a finite number", seconds)
	}
	if batch > 0 {
		defer func(prev int) { c.EvalBatch = prev }(c.EvalBatch)
		c.EvalBatch = batch
	}
	o, err := c.Eval(ds)
	if err != nil || seconds <= 0 || ds.Test.N == 0 {
		return o, err
	}
	tp := &Throughput{Batch: c.evalBatch()}
	t0 := time.Now()
	for tp.Passes == 0 || time.Since(t0).Seconds() < seconds {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pipeline: %q: evaluation stopped after %d passes: %w", c.Path, tp.Passes, err)
		}
		train.Evaluate(o.M, &ds.Test, tp.Batch)
		tp.Passes++
	}
	tp.Seconds = time.Since(t0).Seconds()
	tp.SamplesPerSec = float64(ds.Test.N) * float64(tp.Passes) / tp.Seconds
	o.Throughput = tp
	return o, nil
}

// describe sets an outcome's mode, bits and quantizer from the checkpoint.
func (c *Checkpoint) describe(o *Outcome) {
	c.describePrune(o)
	if c.Quant == nil {
		return
	}
	o.Mode, o.Bits, o.Quant = results.ModeDirect, c.Quant.Bits, c.Quant
	if c.Meta.Extra["quant_mode"] != "" {
		o.Mode = c.Meta.Extra["quant_mode"]
	}
}

func (c *Checkpoint) compatible(ds *data.Dataset) error {
	if err := train.CheckCompatible(c.M, ds); err != nil {
		return fmt.Errorf("pipeline: %q: %v", c.Path, err)
	}
	return nil
}

// Quantize quantizes the float checkpoint's weights directly (no training)
// with cfg, evaluates the result on ds and, when out is not empty, saves
// the quantized checkpoint there (float shadow weights plus quantizer
// state; `resq eval` re-creates the same quantized weights).
func (c *Checkpoint) Quantize(ds *data.Dataset, cfg quant.Config, out string) (*Outcome, error) {
	return c.QuantizePruned(ds, cfg, prune.Config{}, out)
}

// QuantizePruned is Quantize after one-shot magnitude pruning to pc (no
// training; the steps are estimated over the surviving weights). A zero
// pc prunes nothing new; a pruned checkpoint keeps its mask.
func (c *Checkpoint) QuantizePruned(ds *data.Dataset, cfg quant.Config, pc prune.Config, out string) (*Outcome, error) {
	if err := pc.Validate(); err != nil {
		return nil, err
	}
	if err := c.quantize(ds, cfg); err != nil {
		return nil, err
	}
	pr, err := c.pruner(ds, pc, train.Config{Epochs: 1, Batch: 1})
	if err != nil {
		return nil, err
	}
	if pr != nil {
		pr.OnChange = c.Quant.SetMasks
		if err := pr.OneShot(); err != nil {
			return nil, err
		}
		c.pruned(pr, pc)
	}
	return c.finish(ds, results.ModeDirect, nil, 0, out)
}

// quantize checks that the float checkpoint fits ds, quantizes its
// weights with their L2-optimal steps (quant.Attach, which direct
// quantization and retraining both start from) and, with signal
// quantization on, calibrates the activation quantizers on ds.
func (c *Checkpoint) quantize(ds *data.Dataset, cfg quant.Config) error {
	if c.Quant != nil {
		return fmt.Errorf("pipeline: %q is already quantized (%d bits); give the float checkpoint", c.Path, c.Quant.Bits)
	}
	if err := c.compatible(ds); err != nil {
		return err
	}
	s, err := quant.Attach(c.M, cfg)
	if err != nil {
		return err
	}
	if cfg.ActBits > 0 {
		if err := s.AttachActs(c.M, calibrationBatch(ds)); err != nil {
			return err
		}
	}
	c.Quant = s
	return nil
}

// Retrain quantizes the float checkpoint with cfg and retrains it with
// quantized weights for tc's budget (forward and backward through Q(W),
// updates to the float shadow weights, re-quantization after every step),
// then evaluates and saves it like Quantize.
//
// A pruned float checkpoint (see Prune) keeps its mask: its zeros stay
// exactly zero and the steps are estimated over the surviving weights.
func (c *Checkpoint) Retrain(ctx context.Context, ds *data.Dataset, cfg quant.Config, tc train.Config, out string, log io.Writer) (*Outcome, error) {
	return c.RetrainPruned(ctx, ds, cfg, prune.Config{}, tc, out, log)
}

// RetrainPruned is Retrain with gradual magnitude pruning to pc during the
// retraining (package prune): the quantizer's steps are re-estimated over
// the surviving weights at every mask change, and the pruned weights are
// exactly zero in the saved model. A zero pc prunes nothing new (but a
// pruned checkpoint keeps its mask).
func (c *Checkpoint) RetrainPruned(ctx context.Context, ds *data.Dataset, cfg quant.Config, pc prune.Config, tc train.Config, out string, log io.Writer) (*Outcome, error) {
	if err := pc.Validate(); err != nil {
		return nil, err
	}
	if err := tc.Validate(); err != nil {
		return nil, err
	}
	if err := c.quantize(ds, cfg); err != nil {
		return nil, err
	}
	// The float training's seed drew its batch order and dropout masks;
	// retraining draws both from a stream of its own, so that it does not
	// replay the float training's first epochs (and the masks of a
	// checkpoint, built with seed 0, differ from seed to seed).
	seed := c.seed()
	tc.Seed = RetrainSeed(seed)
	c.M.ReseedDropout(tc.Seed)
	after := c.Quant.Sync
	pr, err := c.pruner(ds, pc, tc)
	if err != nil {
		return nil, err
	}
	if pr != nil {
		pr.OnChange = c.Quant.SetMasks
		if err := pr.Start(); err != nil {
			return nil, err
		}
		after = func() error {
			if err := pr.Step(); err != nil {
				return err
			}
			return c.Quant.Sync()
		}
	}
	t0 := time.Now()
	res, err := train.Run(ctx, c.M, ds, tc, train.Hooks{AfterStep: after}, log)
	if err != nil {
		return nil, err
	}
	c.pruned(pr, pc)
	return c.finish(ds, results.ModeRetrain, &trainMeta{Config: tc, Result: res, Seed: seed}, time.Since(t0).Seconds(), out)
}

// RetrainSeed returns the seed of the batch order and dropout masks of a
// retraining that starts from a float model trained with seed.
func RetrainSeed(seed uint64) uint64 {
	const stream = 0x72657472 // "retr"
	x := seed ^ stream<<32
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// finish evaluates a freshly quantized model (or takes the errors that
// retraining, tm, measured in wall seconds) and saves it.
func (c *Checkpoint) finish(ds *data.Dataset, mode string, tm *trainMeta, wall float64, out string) (*Outcome, error) {
	o := newOutcome(c.M, ds, c.seed(), mode, c.Quant.Bits)
	o.Quant = c.Quant
	c.describePrune(o)
	if tm != nil {
		o.trained(tm.Result, wall)
	} else {
		o.evaluate(ds, c.evalBatch())
	}
	if out == "" {
		return o, nil
	}
	qs, err := json.Marshal(c.Quant)
	if err != nil {
		return nil, fmt.Errorf("pipeline: encoding quantizer state: %v", err)
	}
	meta := c.Meta
	meta.Quant = qs
	meta.Extra = cloneMap(meta.Extra)
	meta.Extra["quant_mode"] = mode
	meta.Extra["float_checkpoint"] = c.Path
	if tm != nil {
		if meta.Extra["float_train"] == "" && len(c.Meta.Train) > 0 {
			meta.Extra["float_train"] = string(c.Meta.Train)
		}
		js, err := json.Marshal(tm)
		if err != nil {
			return nil, fmt.Errorf("pipeline: encoding training metadata: %v", err)
		}
		meta.Train = js
	}
	if err := ckpt.Save(out, c.M, meta); err != nil {
		return nil, err
	}
	o.Out = out
	return o, nil
}

// Sensitivity quantizes one layer at a time at each bit width (the others
// stay float) and returns the test error of each on ds.
func (c *Checkpoint) Sensitivity(ds *data.Dataset, bits []int, cfg quant.Config) ([]quant.SensRow, error) {
	if c.Quant != nil {
		return nil, fmt.Errorf("pipeline: %q is already quantized (%d bits); give the float checkpoint", c.Path, c.Quant.Bits)
	}
	if err := c.compatible(ds); err != nil {
		return nil, err
	}
	return quant.Sensitivity(c.M, bits, cfg, func() (float64, error) {
		return train.Evaluate(c.M, &ds.Test, c.evalBatch()), nil
	})
}

// calibrationBatch returns up to 1000 training rows for setting the ranges
// of signal quantizers.
func calibrationBatch(ds *data.Dataset) *tensor.Tensor {
	n := min(ds.Train.N, 1000)
	return tensor.FromData(ds.Train.X[:n*ds.Train.D], n, ds.Train.D)
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}
