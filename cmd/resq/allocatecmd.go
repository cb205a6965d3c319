package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/units"
)

func runAllocate(_ context.Context, args []string, stdout, stderr io.Writer) error {
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
	if err := checkOut(*out, pos[0]); err != nil {
		return err
	}
	c, ds, err := loadInputs(pos[0], &df, stderr)
	if err != nil {
		return err
	}
	a, err := c.Allocate(ds, quant.Config{Rule: *rule, PerChannel: *perChannel}, *minBits, *maxBits, int64(b))
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
	fmt.Fprintf(stdout, "chosen on the loss of %d %s rows; retrain with: resq retrain %s --bits-per-layer %s ...; wrote %s\n",
		a.LossRows, a.LossSplit, c.Path, quant.FormatBits(a.BitsPerLayer), *out)
	return nil
}
