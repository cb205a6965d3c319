package main

import (
	"context"
	"fmt"
	"io"

	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/pipeline"
	"github.com/resq-dev/resq/quant"
)

func runExport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export")
	out := fs.String("out", "", "packed model file to write")
	base3 := fs.Bool("base3", false, "pack ternary layers 5 weights per byte (1.6 bits/weight) instead of 4")
	sparse := fs.Bool("sparse", false, "store each layer as relative indices where that is smaller (always on for pruned checkpoints)")
	var bf bitsFlag
	bf.register(fs)
	fs.Lookup("bits-per-layer").Usage = "quantize a float checkpoint directly with these bits per layer first, e.g. 8,2,2,8"
	asJSON := fs.Bool("json", false, "print the results as one JSON object")
	var ef exportFlags
	ef.register(fs)
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	var qc quant.Config
	if err := bf.apply(&qc); err != nil {
		return err
	}
	if done, err := ef.exportOther(pos[0], *out, stdout, stderr); done {
		return err
	}
	if err := checkOut(*out, pos[0]); err != nil {
		return err
	}
	c, err := pipeline.Load(pos[0])
	if err != nil {
		return err
	}
	if qc.BitsPerLayer != nil {
		if err := c.UseBits(qc.BitsPerLayer); err != nil {
			return err
		}
	}
	var e *pipeline.Exported
	if ef.integer {
		e, err = ef.exportInteger(c, *out, *base3, stderr)
	} else {
		e, err = c.ExportOptions(*out, packed.Options{Base3: *base3, Sparse: *sparse || c.Pruned()})
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, e)
	}
	if ef.integer {
		fmt.Fprintf(stdout, "wrote %s: %d bytes, integer-only (%d-bit codes, int32 biases and requantization: %d bytes) for %d weights; float32 tensors %d bytes\n",
			e.Out, e.FileBytes, e.Bits, e.StoredBytes, e.Weights, e.FloatBytes)
		return nil
	}
	bits := fmt.Sprintf("%d-bit", e.Bits)
	if len(e.BitsPerLay) > 0 {
		bits = quant.FormatBits(e.BitsPerLay) + "-bit"
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes (%s codes, steps and float biases: %d bytes) for %d weights; float32 tensors %d bytes, %.1fx smaller (%.1fx in tensor bytes)\n",
		e.Out, e.FileBytes, bits, e.StoredBytes, e.Weights, e.FloatBytes, e.Ratio, e.TensorRatio)
	if e.Sparse {
		fmt.Fprintf(stdout, "%d layers stored as relative indices (every index byte counted); code entropy %.3f bits/weight, entropy bound %d bytes\n",
			e.SparseLays, e.EntropyBits, e.EntropyBytes)
	}
	return nil
}

func runInfer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("infer")
	var df dataFlags
	df.register(fs, false)
	batch := fs.Int("batch", 100, "samples per inference call")
	threads := fs.Int("threads", 0, "GEMM threads (0: all cores)")
	seconds := fs.Float64("seconds", 0, "repeat the test set until this many seconds have passed, for a stable samples/s (0: one pass)")
	check := fs.String("check", "", "quantized checkpoint the model was exported from: also compare predictions and logits with its simulated-quantized float forward")
	asJSON := fs.Bool("json", false, "print the results as one JSON object")
	printTo := fs.String("print", "", "integer-only model: write one line per test sample to this file (- for stdout): the class, then the int32 logits, as the generated C harness prints them")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := (&trainFlags{threads: *threads}).apply(); err != nil {
		return err
	}
	var ck *pipeline.Checkpoint
	if *check != "" {
		if ck, err = pipeline.Load(*check); err != nil {
			return err
		}
	}
	ds, err := df.load(1, logWriter(stderr))
	if err != nil {
		return err
	}
	if *printTo != "" {
		return pipeline.PrintLines(pos[0], ds, *printTo, stdout)
	}
	r, err := pipeline.InferFor(ctx, pos[0], ds, *batch, *seconds)
	if err != nil {
		return err
	}
	var a *pipeline.Agreement
	if ck != nil {
		if a, err = pipeline.Compare(ctx, pos[0], ck, ds, *batch); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(stdout, struct {
			*pipeline.Inferred
			Check *pipeline.Agreement `json:"check,omitempty"`
		}{r, a})
	}
	fmt.Fprintf(stdout, "%s on %s: test error %s of %d samples, %.0f samples/s (batch %d, %d passes in %.1f s; %d samples rechecked with 16-bit activations, %d of them with float)\n",
		r.Model, r.Dataset, errorText(r.Dataset, r.TestErrPct), r.TestN, r.SamplesPerSec, r.Batch, r.Passes, r.Seconds, r.Rechecked.Wide, r.Rechecked.Float)
	if a != nil {
		fmt.Fprintf(stdout, "against %s (simulated-quantized float forward): %d of %d predictions differ; logit difference relative to the sample's largest logit: max %.2g, mean %.2g\n",
			a.Checkpoint, a.Disagree, a.N, a.MaxLogitErr, a.MeanLogitErr)
	}
	return nil
}
