package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/resq-dev/resq/prune"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/sweep"
	"github.com/resq-dev/resq/train"
)

// pruneFlags are the pruning schedule's settings.
type pruneFlags struct{ cfg prune.Config }

func (p *pruneFlags) register(fs *flag.FlagSet, def float64) {
	c := &p.cfg
	fs.Float64Var(&c.Sparsity, "sparsity", def, "final fraction of pruned (zero) weights, [0, 1); biases are not pruned")
	fs.StringVar(&c.Scope, "prune-scope", prune.ScopeLayer, "magnitude threshold per layer (layer) or over all layers (global)")
	fs.Float64Var(&c.Begin, "prune-begin", prune.DefaultBegin, "start of the cubic sparsity ramp, fraction of the training steps")
	fs.Float64Var(&c.End, "prune-end", prune.DefaultEnd, "end of the ramp; the mask is fixed from then on")
	fs.IntVar(&c.Every, "prune-every", 0, "steps between mask updates (0: the ramp / 50)")
}

// bitsFlag is --bits-per-layer: a list like 8,2,2,8 that overrides --bits.
type bitsFlag struct{ s string }

func (b *bitsFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&b.s, "bits-per-layer", "", "bits of each quantized layer in order, e.g. 8,2,2,8 (overrides --bits)")
}

// apply sets cfg's per-layer bits (and Bits to the largest) when given.
func (b *bitsFlag) apply(cfg *quant.Config) error {
	if b.s == "" {
		return nil
	}
	bits, err := quant.ParseBits(b.s)
	if err != nil {
		return fmt.Errorf("%w: --bits-per-layer: %v", errUsage, err)
	}
	cfg.BitsPerLayer, cfg.Bits = bits, 0
	for _, v := range bits {
		cfg.Bits = max(cfg.Bits, v)
	}
	cfg.FirstLastBits = 0
	return nil
}

func runPrune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("prune")
	var df dataFlags
	var pf pruneFlags
	var tf trainFlags
	df.register(fs, false)
	pf.register(fs, 0.9)
	def := train.DefaultConfig()
	def.Epochs, def.LR = 10, def.LR/sweep.RetrainLRDivisor
	tf.register(fs, def)
	fs.Lookup("epochs").Usage = "float training epochs while pruning"
	out := fs.String("out", "", "pruned float checkpoint to write")
	asJSON := fs.Bool("json", false, "print the results as one JSON object, last on stdout")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := pf.cfg.Validate(); err != nil {
		return err
	}
	if err := tf.cfg.Validate(); err != nil {
		return err
	}
	if err := checkOut(*out, pos[0]); err != nil {
		return err
	}
	if err := tf.apply(); err != nil {
		return err
	}
	c, ds, err := loadInputs(pos[0], &df, stderr)
	if err != nil {
		return err
	}
	o, err := c.Prune(ctx, ds, pf.cfg, tf.cfg, *out, logWriter(stderr))
	if err != nil {
		return err
	}
	return printOutcome(stdout, o, *asJSON)
}
