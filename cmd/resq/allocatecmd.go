package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/pipeline"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/sweep"
	"github.com/resq-dev/resq/train"
	"github.com/resq-dev/resq/units"
)

func runAllocate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("allocate")
	var df dataFlags
	df.register(fs, false)
	budget := fs.String("max-weight-bytes", "", "budget of stored weight bytes (codes with indices, steps, biases), e.g. 64KiB or 200000")
	minBits := fs.Int("min-bits", 2, "narrowest width a layer may get")
	maxBits := fs.Int("max-bits", 8, "widest width a layer may get")
	rule := fs.String("rule", "l2", "step rule: l2, maxabs, pow2")
	perChannel := fs.Bool("per-channel", false, "one step per output channel")
	out := fs.String("out", "", "JSON file to write the allocation to (bits_per_layer, steps, uniform comparison)")
	asJSON := fs.Bool("json", false, "print the allocation as one JSON object, last on stdout")
	search := fs.String("search", quant.SearchTrade, "greedy search: up (from --min-bits everywhere, give bits while one fits) or trade (from the widest uniform width that fits, give bits while one lowers the loss, paying for one that does not fit with a bit of another layer)")
	measure := fs.String("measure", pipeline.MeasureRetrain, "loss of an allocation: direct (quantized directly) or retrain (after a short retraining, the probe)")
	probe := train.DefaultConfig()
	probe.Epochs, probe.LR = 1, probe.LR/sweep.RetrainLRDivisor
	fs.IntVar(&probe.Epochs, "probe-epochs", probe.Epochs, "--measure retrain: epochs of each probe")
	fs.Float64Var(&probe.LR, "probe-lr", probe.LR, "--measure retrain: learning rate of each probe (sgd, momentum 0.9, cosine)")
	fs.IntVar(&probe.Batch, "probe-batch", probe.Batch, "--measure retrain: minibatch size of each probe")
	probeRows := fs.Int("probe-rows", 0, "--measure retrain: training rows each probe runs on (0: all)")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *budget == "" {
		return fmt.Errorf("%w: --max-weight-bytes is required", errUsage)
	}
	b, err := units.ParseSize(*budget)
	if err != nil || !(b > 0) || b > math.MaxInt64/2 {
		return fmt.Errorf("%w: --max-weight-bytes %q: want a positive size like 64KiB", errUsage, *budget)
	}
	if *search != quant.SearchUp && *search != quant.SearchTrade {
		return fmt.Errorf("%w: --search %q: want up or trade", errUsage, *search)
	}
	if *measure != pipeline.MeasureDirect && *measure != pipeline.MeasureRetrain {
		return fmt.Errorf("%w: --measure %q: want direct or retrain", errUsage, *measure)
	}
	if err := probe.Validate(); err != nil {
		return fmt.Errorf("%w: probe: %v", errUsage, err)
	}
	if *probeRows < 0 {
		return fmt.Errorf("%w: --probe-rows %d: want 0 (all) or more", errUsage, *probeRows)
	}
	if err := checkOut(*out, pos[0]); err != nil {
		return err
	}
	c, ds, err := loadInputs(pos[0], &df, stderr)
	if err != nil {
		return err
	}
	a, err := c.Allocate(ctx, ds, quant.Config{Rule: *rule, PerChannel: *perChannel}, *minBits, *maxBits, int64(b),
		pipeline.AllocOptions{Search: *search, Measure: *measure, Probe: probe, ProbeRows: *probeRows})
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(*out, func(w io.Writer) error { _, err := w.Write(append(js, '\n')); return err }); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, a)
	}
	fmt.Fprintf(stdout, "%s on %s, budget %s: bits per layer %s, %s stored (float model test error %s)\n",
		a.Model, a.Dataset, units.FormatBytes(float64(a.BudgetBytes)), quant.FormatBits(a.BitsPerLayer), units.FormatBytes(float64(a.StoredBytes)), errorText(a.Dataset, a.FloatTestError))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BITS\tSTORED BYTES\tDIRECT TEST ERROR %\tFITS THE ALLOCATION'S BYTES")
	fmt.Fprintf(tw, "%s\t%d\t%.2f\t(allocation)\n", quant.FormatBits(a.BitsPerLayer), a.StoredBytes, a.TestErrPct)
	for _, u := range a.Uniform {
		fits := "no"
		if u.Fits {
			fits = "yes"
		}
		fmt.Fprintf(tw, "%d uniform\t%d\t%.2f\t%s\n", u.Bits, u.Bytes, u.TestErrPct, fits)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	how := "direct quantization"
	if a.Probe != nil {
		how = fmt.Sprintf("a %d-epoch retraining on %d training rows", a.Probe.Epochs, a.ProbeRows)
	}
	fmt.Fprintf(stdout, "search %s, %d allocations measured after %s in %.1fs\n", a.Search, a.Measured, how, a.Seconds)
	fmt.Fprintf(stdout, "chosen on the loss of %d %s rows; retrain with: resq retrain %s --bits-per-layer %s ...; wrote %s\n",
		a.LossRows, a.LossSplit, c.Path, quant.FormatBits(a.BitsPerLayer), *out)
	return nil
}
