package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/resq-dev/resq/pipeline"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/train"
)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train")
	var df dataFlags
	var tf trainFlags
	df.register(fs, false)
	tf.register(fs, train.DefaultConfig())
	spec := fs.String("model", "mlp:784-1024x3-10,drop=0.2", "model spec, e.g. mlp:784-1024x3-10,drop=0.2 or cnn:32c5-p2-64c5-p2-fc512-10")
	out := fs.String("out", "", "checkpoint file to write (safetensors)")
	asJSON := fs.Bool("json", false, "print the results as one JSON object, last on stdout")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := checkOut(*out); err != nil {
		return err
	}
	if err := tf.apply(); err != nil {
		return err
	}
	ds, err := df.load(tf.seed, logWriter(stderr))
	if err != nil {
		return err
	}
	o, err := pipeline.TrainFloat(ctx, ds, *spec, tf.cfg, tf.seed, *out, logWriter(stderr))
	if err != nil {
		return err
	}
	return printOutcome(stdout, o, *asJSON)
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval")
	var df dataFlags
	df.register(fs, false)
	asJSON := fs.Bool("json", false, "print the results as one JSON object, last on stdout")
	batch := fs.Int("batch", 0, "samples per forward pass (0: the checkpoint's evaluation batch, 500 unless set)")
	threads := fs.Int("threads", 0, "GEMM threads (0: all cores)")
	seconds := fs.Float64("seconds", 0, "after the measuring pass, repeat the test set until this many seconds have passed and report the forward pass's samples/s (0: no timing)")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *batch < 0 {
		return fmt.Errorf("%w: --batch %d, want 1 or more (0: the default)", errUsage, *batch)
	}
	if err := (&trainFlags{threads: *threads}).apply(); err != nil {
		return err
	}
	c, ds, err := loadInputs(pos[0], &df, stderr)
	if err != nil {
		return err
	}
	o, err := c.EvalFor(ctx, ds, *batch, *seconds)
	if err != nil {
		return err
	}
	if err := printOutcome(stdout, o, *asJSON); err != nil || *asJSON || o.Throughput == nil {
		return err
	}
	tp := o.Throughput
	_, err = fmt.Fprintf(stdout, "float32 forward: %.0f samples/s (batch %d, %d passes in %.1f s)\n", tp.SamplesPerSec, tp.Batch, tp.Passes, tp.Seconds)
	return err
}

// printOutcome prints an outcome as text or as one JSON line.
func printOutcome(w io.Writer, o *pipeline.Outcome, asJSON bool) error {
	if asJSON {
		return printJSON(w, o)
	}
	prec := "float32"
	if o.Mode != results.ModeFloat {
		prec = fmt.Sprintf("%s %d-bit", o.Mode, o.Bits)
	}
	if o.Quant != nil && len(o.Quant.BitsPerLayer) > 0 {
		prec = fmt.Sprintf("%s %s-bit", o.Mode, quant.FormatBits(o.Quant.BitsPerLayer))
	}
	fmt.Fprintf(w, "%s on %s (%s): test error %s of %d samples, %d weights\n", o.Model, o.Dataset, prec, errorText(o.Dataset, o.TestErrPct), o.TestN, o.Weights)
	if len(o.Sparsity) > 0 {
		f := make([]string, len(o.Sparsity))
		for i, s := range o.Sparsity {
			f[i] = fmt.Sprintf("%.1f%%", 100*s)
		}
		fmt.Fprintf(w, "pruned per layer: %s\n", strings.Join(f, " "))
	}
	if o.Out != "" {
		fmt.Fprintf(w, "saved %s\n", o.Out)
	}
	return nil
}
