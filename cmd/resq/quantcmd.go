package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/sweep"
	"github.com/resq-dev/resq/train"
)

// quantFlags are the quantizer settings.
type quantFlags struct{ cfg quant.Config }

func (q *quantFlags) register(fs *flag.FlagSet) {
	c := &q.cfg
	fs.IntVar(&c.Bits, "bits", 2, "weight bits, 2..8 (2 = ternary {-1,0,+1})")
	fs.StringVar(&c.Rule, "rule", "l2", "step rule: l2 (L2-optimal), maxabs, twn, pow2")
	fs.BoolVar(&c.PerChannel, "per-channel", false, "one step per output channel instead of per tensor")
	fs.BoolVar(&c.PerGate, "per-gate", false, "recurrent layers: one step per gate of Wih and Whh instead of per matrix")
	fs.IntVar(&c.StateBits, "state-bits", 0, "recurrent layers: quantize the hidden state to this many signed bits after every step (0: float state)")
	fs.IntVar(&c.FirstLastBits, "first-last-bits", 0, "keep the first and last layers at this precision (0: same as --bits)")
	fs.IntVar(&c.Reestimate, "reestimate", 0, "re-estimate steps every N steps while retraining (0: fixed from the float model, as in the paper)")
	fs.IntVar(&c.ActBits, "act-bits", 0, "quantize hidden signals to this many unsigned bits (0: float signals)")
	fs.StringVar(&c.ActRange, "act-range", "", "signal clip: calib (L2-optimal on a calibration batch), max, pct:P (P-th percentile, the rule of export --integer), or a number")
}

func runQuantize(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("quantize")
	var df dataFlags
	var qf quantFlags
	var pf pruneFlags
	var bf bitsFlag
	df.register(fs, false)
	qf.register(fs)
	pf.register(fs, 0)
	bf.register(fs)
	fs.Lookup("sparsity").Usage = "prune this fraction of the weights by magnitude first (one shot), [0, 1)"
	out := fs.String("out", "", "quantized checkpoint to write")
	asJSON := fs.Bool("json", false, "print the results as one JSON object, last on stdout")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := bf.apply(&qf.cfg); err != nil {
		return err
	}
	if err := pf.cfg.Validate(); err != nil {
		return err
	}
	if err := qf.cfg.Validate(); err != nil {
		return err
	}
	if err := checkOut(*out, pos[0]); err != nil {
		return err
	}
	c, ds, err := loadInputs(pos[0], &df, stderr)
	if err != nil {
		return err
	}
	o, err := c.QuantizePruned(ds, qf.cfg, pf.cfg, *out)
	if err != nil {
		return err
	}
	return printOutcome(stdout, o, *asJSON)
}

func runRetrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("retrain")
	var df dataFlags
	var qf quantFlags
	var tf trainFlags
	var pf pruneFlags
	var bf bitsFlag
	df.register(fs, false)
	qf.register(fs)
	pf.register(fs, 0)
	bf.register(fs)
	// A sweep's retrain defaults: 3 epochs at the float lr / 10.
	def := train.DefaultConfig()
	def.Epochs, def.LR = sweep.DefaultRetrainEpochs, def.LR/sweep.RetrainLRDivisor
	tf.register(fs, def)
	fs.Lookup("epochs").Usage = "retraining epochs (a sweep's retrain default)"
	fs.Lookup("lr").Usage = fmt.Sprintf("base learning rate (a sweep's retrain default: its float lr / %d; %g is the float default / %d)",
		sweep.RetrainLRDivisor, def.LR, sweep.RetrainLRDivisor)
	out := fs.String("out", "", "retrained quantized checkpoint to write")
	asJSON := fs.Bool("json", false, "print the results as one JSON object, last on stdout")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := bf.apply(&qf.cfg); err != nil {
		return err
	}
	if err := pf.cfg.Validate(); err != nil {
		return err
	}
	if err := qf.cfg.Validate(); err != nil {
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
	o, err := c.RetrainPruned(ctx, ds, qf.cfg, pf.cfg, tf.cfg, *out, logWriter(stderr))
	if err != nil {
		return err
	}
	return printOutcome(stdout, o, *asJSON)
}

func runSensitivity(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sensitivity")
	var df dataFlags
	var qf quantFlags
	df.register(fs, false)
	qf.register(fs)
	bitsList := fs.String("bits-list", "2,3,4", "comma-separated bit widths")
	asJSON := fs.Bool("json", false, "print the table as one JSON object")
	// --bits is the natural name for the list here; accept it as an alias.
	fs.Lookup("bits").Usage = "ignored; use --bits-list (or --bits 2,3,4)"
	pos, err := parse(fs, rewriteBits(args), 1, 1)
	if err != nil {
		return err
	}
	var bits []int
	for _, f := range strings.Split(*bitsList, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("%w: --bits %q: want comma-separated integers like 2,3,4", errUsage, *bitsList)
		}
		bits = append(bits, b)
	}
	c, ds, err := loadInputs(pos[0], &df, stderr)
	if err != nil {
		return err
	}
	floatErr, err := c.Eval(ds)
	if err != nil {
		return err
	}
	rows, err := c.Sensitivity(ds, bits, qf.cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, map[string]any{"model": c.M.Spec, "dataset": ds.Name, "dataset_checksum": ds.Checksum,
			"float_test_error_pct": floatErr.TestErrPct, "rows": rows})
	}
	fmt.Fprintf(stdout, "%s on %s: float test error %s; one layer quantized at a time:\n", c.M.Spec, ds.Name, errorText(ds.Name, floatErr.TestErrPct))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAYER\tBITS\tSTEP\tTEST ERROR %\tDELTA")
	for _, r := range rows {
		step := "-"
		if len(r.Step) == 1 {
			step = fmt.Sprintf("%.4g", r.Step[0])
		} else if len(r.Step) > 1 {
			step = fmt.Sprintf("%d steps", len(r.Step))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.2f\t%+.2f\n", r.Layer, r.Bits, step, r.TestErrPct, r.TestErrPct-floatErr.TestErrPct)
	}
	return tw.Flush()
}

// rewriteBits turns "--bits 2,3,4" into "--bits-list 2,3,4" for the
// sensitivity command, whose --bits is a list.
func rewriteBits(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--bits" || a == "-bits":
			out = append(out, "--bits-list")
		case strings.HasPrefix(a, "--bits=") || strings.HasPrefix(a, "-bits="):
			out = append(out, "--bits-list="+a[strings.Index(a, "=")+1:])
		default:
			out = append(out, a)
		}
	}
	return out
}
