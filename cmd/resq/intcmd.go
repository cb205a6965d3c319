package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/packed/cexport"
	"github.com/resq-dev/resq/pipeline"
)

// exportFlags are export's flags beyond --out, --base3 and --json: the
// integer-only mode and the other output formats.
type exportFlags struct {
	df      dataFlags
	integer bool
	calib   int
	pct     float64
	format  string
	name    string
	board   string
}

func (e *exportFlags) register(fs *flag.FlagSet) {
	e.df.register(fs, true)
	fs.BoolVar(&e.integer, "integer", false, "write an integer-only model (static activation scales calibrated on --data, int32 biases, fixed-point requantization)")
	fs.IntVar(&e.calib, "calib-samples", 1000, "with --integer: calibration samples (the first N training rows of --data)")
	fs.Float64Var(&e.pct, "percentile", packed.DefaultPercentile, "with --integer: percentile of each hidden layer's calibration activations its largest code stands for (layers retrained with --act-bits keep their grid)")
	fs.StringVar(&e.format, "format", "packed", "packed (from a checkpoint), c (C99 sources from an integer-only packed model into the folder --out) or raw-inputs (the test rows of --data as input codes of an integer-only packed model)")
	fs.StringVar(&e.name, "name", "resq", "with --format c: C identifier prefixing the API (NAME_predict)")
	fs.StringVar(&e.board, "board", "", "with --format c: refuse a model that does not fit this board's flash and RAM (mps2-an386, microbit)")
}

// exportOther runs export for --format c and raw-inputs; it reports
// whether it handled the call.
func (e *exportFlags) exportOther(in, out string, stdout, stderr io.Writer) (bool, error) {
	switch e.format {
	case "packed":
		return false, nil
	case "c":
		if out == "" {
			return true, fmt.Errorf("%w: --out FOLDER is required", errUsage)
		}
		m, err := packed.Load(in)
		if err != nil {
			return true, err
		}
		if err := cexport.Write(out, m, cexport.Options{Name: e.name, Board: e.board}); err != nil {
			return true, err
		}
		s, _ := cexport.SizesOf(m)
		fmt.Fprintf(stdout, "wrote %s/model.h, model.c, main.c: %d bytes of const weights, %d bytes of scratch RAM\n", out, s.WeightBytes, s.ScratchBytes)
		return true, nil
	case "raw-inputs":
		if err := checkOut(out, in); err != nil {
			return true, err
		}
		ds, err := e.df.load(1, logWriter(stderr))
		if err != nil {
			return true, err
		}
		n, err := pipeline.RawInputs(in, ds, out)
		if err != nil {
			return true, err
		}
		fmt.Fprintf(stdout, "wrote %s: %d %s test rows of %d input codes\n", out, n, ds.Name, ds.Test.D)
		return true, nil
	}
	return true, fmt.Errorf("%w: --format %q: want packed, c or raw-inputs", errUsage, e.format)
}

// exportInteger runs export --integer.
func (e *exportFlags) exportInteger(c *pipeline.Checkpoint, out string, base3 bool, stderr io.Writer) (*pipeline.Exported, error) {
	if e.calib < 1 {
		return nil, fmt.Errorf("%w: --calib-samples %d, need at least 1", errUsage, e.calib)
	}
	if !(e.pct > 0 && e.pct <= 100) {
		return nil, fmt.Errorf("%w: --percentile %g out of range (0, 100]", errUsage, e.pct)
	}
	ds, err := e.df.load(1, logWriter(stderr))
	if err != nil {
		return nil, err
	}
	return c.ExportInteger(out, base3, ds, e.calib, e.pct)
}
