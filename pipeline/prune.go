package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/resq-dev/resq/ckpt"
	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/prune"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/train"
)

// Checkpoint metadata keys (ckpt.Meta.Extra) of a pruned model: the
// schedule as JSON and the sparsity reached per quantizable layer,
// comma-separated.
const (
	metaPrune    = "prune"
	metaSparsity = "sparsity"
)

// Pruned reports whether the checkpoint holds a pruned model.
func (c *Checkpoint) Pruned() bool { return c.Meta.Extra[metaPrune] != "" }

// Prune trains the float checkpoint for tc's budget while pruning its
// weights to pc (gradual magnitude pruning, package prune), evaluates it
// on ds and, when out is not empty, saves the pruned float checkpoint
// there. Biases are not pruned.
func (c *Checkpoint) Prune(ctx context.Context, ds *data.Dataset, pc prune.Config, tc train.Config, out string, log io.Writer) (*Outcome, error) {
	if err := pc.Validate(); err != nil {
		return nil, err
	}
	if err := tc.Validate(); err != nil {
		return nil, err
	}
	if c.Quant != nil {
		return nil, fmt.Errorf("pipeline: %q is quantized (%d bits); prune the float checkpoint, or retrain with --sparsity", c.Path, c.Quant.Bits)
	}
	if err := c.compatible(ds); err != nil {
		return nil, err
	}
	seed := c.seed()
	tc.Seed = RetrainSeed(seed)
	c.M.ReseedDropout(tc.Seed)
	pr, err := c.pruner(ds, pc, tc)
	if err != nil {
		return nil, err
	}
	if err := pr.Start(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	res, err := train.Run(ctx, c.M, ds, tc, train.Hooks{AfterStep: pr.Step}, log)
	if err != nil {
		return nil, err
	}
	c.pruned(pr, pc)
	o := newOutcome(c.M, ds, seed, results.ModeFloat, 32)
	o.trained(res, time.Since(t0).Seconds())
	c.describePrune(o)
	if out == "" {
		return o, nil
	}
	meta := c.Meta
	meta.Extra = cloneMap(meta.Extra)
	meta.Extra["float_checkpoint"] = c.Path
	js, err := json.Marshal(trainMeta{Config: tc, Result: res, Seed: seed})
	if err != nil {
		return nil, fmt.Errorf("pipeline: encoding training metadata: %v", err)
	}
	if meta.Extra["float_train"] == "" && len(c.Meta.Train) > 0 {
		meta.Extra["float_train"] = string(c.Meta.Train)
	}
	meta.Train = js
	if err := ckpt.Save(out, c.M, meta); err != nil {
		return nil, err
	}
	o.Out = out
	return o, nil
}

// pruner returns the pruner of a run with tc's budget on ds: one for pc,
// or, when pc prunes nothing, one that keeps a pruned checkpoint's mask
// (nil for an unpruned checkpoint).
func (c *Checkpoint) pruner(ds *data.Dataset, pc prune.Config, tc train.Config) (*prune.Pruner, error) {
	if pc.Sparsity == 0 && !c.Pruned() {
		return nil, nil
	}
	steps := (ds.Train.N + tc.Batch - 1) / tc.Batch * tc.Epochs
	return prune.New(c.M, pc, max(steps, 1))
}

// pruned records the schedule and the sparsity reached in the
// checkpoint's metadata (kept from a pruned checkpoint when pr is nil).
func (c *Checkpoint) pruned(pr *prune.Pruner, pc prune.Config) {
	if pr == nil {
		return
	}
	if old := c.Meta.Extra[metaPrune]; old != "" && pc.Sparsity == 0 {
		pc = prune.Config{}
		_ = json.Unmarshal([]byte(old), &pc)
	}
	js, _ := json.Marshal(pc)
	sp := pr.Sparsity()
	f := make([]string, len(sp))
	for i, s := range sp {
		f[i] = strconv.FormatFloat(s, 'f', 6, 64)
	}
	c.Meta.Extra = cloneMap(c.Meta.Extra)
	c.Meta.Extra[metaPrune] = string(js)
	c.Meta.Extra[metaSparsity] = strings.Join(f, ",")
}

// describePrune sets an outcome's pruning fields from the metadata.
func (c *Checkpoint) describePrune(o *Outcome) {
	if !c.Pruned() {
		return
	}
	var pc prune.Config
	if json.Unmarshal([]byte(c.Meta.Extra[metaPrune]), &pc) == nil {
		o.Prune = &pc
	}
	for _, f := range strings.Split(c.Meta.Extra[metaSparsity], ",") {
		if v, err := strconv.ParseFloat(f, 64); err == nil {
			o.Sparsity = append(o.Sparsity, v)
		}
	}
}
