package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/resq-dev/resq/faults"
)

func runFaults(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("faults")
	var df dataFlags
	df.register(fs, true)
	ber := fs.String("ber", "1e-7,1e-6,1e-5,1e-4,1e-3", "bit error rates, comma-separated, each in [0, 1]")
	target := fs.String("target", "weights", "what the faults hit: weights (the stored codes, steps and biases, per --part), activations (the 8-bit codes between the layers of a packed model) or both")
	part := fs.String("part", "codes,scales,all", "with --target weights: parts of the weight memory, each its own curve: codes, scales (steps and biases), all")
	protect := fs.String("protect", "none", "protections, each its own curve: none, clamp, parity-byte, parity-row, tmr (or all)")
	trials := fs.Int("trials", 20, "trials per rate")
	seed := fs.Uint64("seed", 1, "seed of the trials' streams (trial t starts at faults.TrialSeed(seed, t))")
	workers := fs.Int("workers", 0, "trials evaluated at once (0: all cores)")
	asJSON := fs.Bool("json", false, "print the results as one JSON object")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	c := faults.Config{Trials: *trials, Seed: *seed, Workers: *workers, Parts: splitList(*part)}
	if c.BERs, err = parseList("--ber", *ber, func(s string) (float64, error) {
		return strconv.ParseFloat(strings.TrimSpace(s), 64)
	}); err != nil {
		return err
	}
	switch *target {
	case "weights":
	case "activations":
		c.Parts = []string{faults.PartActs}
	case "both":
		c.Parts = []string{faults.PartBoth}
	default:
		return fmt.Errorf("%w: --target %q: want weights, activations or both", errUsage, *target)
	}
	if c.Protections = splitList(*protect); *protect == "all" {
		c.Protections = faults.Protections
	}
	if err := c.Check(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, strings.TrimPrefix(err.Error(), "faults: "))
	}
	ds, err := df.load(1, logWriter(stderr))
	if err != nil {
		return err
	}
	r, err := faults.RunFile(ctx, pos[0], ds.Test, c)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, r)
	}
	printFaults(stdout, r)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// printFaults prints one table per curve: per rate the mean ± std, worst
// error and the broken and non-finite fractions.
func printFaults(w io.Writer, r *faults.Result) {
	fmt.Fprintf(w, "%s (%s, %s-bit weights): fault-free test error %.2f%% of %d samples; %d stored bits (codes %d, scales %d); %d trials per rate, seed %d\n",
		r.Model, r.Format, r.Bits, r.FaultFree, r.TestN, r.StoredBits, r.CodeBits, r.ScaleBits, r.Trials, r.Seed)
	for _, c := range r.Curves {
		fmt.Fprintf(w, "\n%s, protection %s (+%d bits, +%.2f%%): tolerated BER %s (mean error within %.1f pp of fault-free)\n",
			c.Part, c.Protection, c.ExtraBits, c.ExtraPct, berString(c.Tolerated), faults.Tolerance)
		fmt.Fprintf(w, "  %-8s %16s %8s %8s %9s %10s\n", "BER", "error mean±std", "worst", "broken", "nonfinite", "flips")
		for _, p := range c.Points {
			fmt.Fprintf(w, "  %-8s %8.2f ± %5.2f %7.2f%% %7.0f%% %8.0f%% %10.1f\n",
				berString(p.BER), p.Mean, p.Std, p.Worst, 100*p.Broken, 100*p.NonFinite, p.Flipped)
		}
	}
}

func berString(b float64) string {
	if b == 0 {
		return "none"
	}
	return strconv.FormatFloat(b, 'g', 3, 64)
}
