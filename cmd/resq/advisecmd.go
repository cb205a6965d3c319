package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/resq-dev/resq/advise"
	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/pipeline"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/units"
)

// adviseFlags are the budgets of resq advise, as given on the command line.
type adviseFlags struct {
	bytes, ram, energy, latency, errPct string
	minimize, table                     string
	refine, workers                     int
	cache                               string
	asJSON, verbose                     bool
}

func (a *adviseFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.bytes, "max-weight-bytes", "", "weight memory budget: 64KiB, 1.5MiB (binary), 1.5MB (decimal), 200000 (bytes)")
	fs.StringVar(&a.ram, "max-ram", "", "activation RAM budget (batch 1), same units")
	fs.StringVar(&a.energy, "max-energy-nj", "", "energy per inference (batch 1): 200nJ, 1uJ, 500pJ; a bare number is nJ")
	fs.StringVar(&a.latency, "max-latency-us", "", "latency at batch 1 on this machine: 250 (us), 1.5ms")
	fs.StringVar(&a.errPct, "max-error-pct", "", "test error requirement in percent (seed mean)")
	fs.StringVar(&a.minimize, "minimize", "", "with only --max-error-pct: the cost to minimise: weight-bytes (default), ram, energy, latency")
	fs.StringVar(&a.table, "cost-table", "", "energy table (YAML) to reprice the records with (default: as recorded)")
	fs.IntVar(&a.refine, "refine", 0, "run up to N more cells where the answer is uncertain, then answer again")
	fs.IntVar(&a.workers, "workers", 0, "cells run at once by --refine (0: automatic)")
	fs.StringVar(&a.cache, "cache", "", "dataset cache folder (for --refine)")
	fs.BoolVar(&a.asJSON, "json", false, "print the answer as one JSON object, last on stdout")
	fs.BoolVar(&a.verbose, "v", false, "print --refine's sweep progress")
}

// query turns the flags into an advise.Query; a bad value names its flag.
func (a *adviseFlags) query() (advise.Query, error) {
	q := advise.Query{Minimize: a.minimize}
	for _, f := range []struct {
		flag, val, name string
		parse           func(string) (float64, error)
	}{
		{"--max-weight-bytes", a.bytes, advise.WeightBytes, units.ParseSize},
		{"--max-ram", a.ram, advise.RAM, units.ParseSize},
		{"--max-energy-nj", a.energy, advise.Energy, units.ParseEnergy},
		{"--max-latency-us", a.latency, advise.Latency, units.ParseLatency},
		{"--max-error-pct", a.errPct, advise.ErrorPct, units.ParsePercent},
	} {
		if f.val == "" {
			continue
		}
		v, err := f.parse(f.val)
		if err != nil {
			return q, fmt.Errorf("%w: %s: %v", errUsage, f.flag, err)
		}
		q.Limits = append(q.Limits, advise.Limit{Name: f.name, Value: v})
	}
	if err := q.Validate(); err != nil {
		return q, fmt.Errorf("%w: %v", errUsage, err)
	}
	if a.minimize != "" && !(len(q.Limits) == 1 && q.Limits[0].Name == advise.ErrorPct) {
		return q, fmt.Errorf("%w: --minimize applies when --max-error-pct is the only limit", errUsage)
	}
	if a.workers < 0 {
		return q, fmt.Errorf("%w: --workers %d: want 0 (automatic) or more", errUsage, a.workers)
	}
	if a.refine < 0 {
		return q, fmt.Errorf("%w: --refine %d: want N >= 1 cells", errUsage, a.refine)
	}
	return q, nil
}

// errNoFit makes advise exit non-zero when no configuration fits.
var errNoFit = errors.New("no measured configuration meets every limit")

func runAdvise(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("advise")
	var af adviseFlags
	af.register(fs)
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	q, err := af.query()
	if err != nil {
		return err
	}
	var table *cost.Table // nil: energies as recorded
	if af.table != "" {
		if table, err = loadCostTable(af.table); err != nil {
			return err
		}
	}
	dir := pos[0]
	if af.refine > 0 {
		return refineCmd(ctx, dir, q, &af, stdout, stderr)
	}
	recs, err := results.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("advise: %s has no records (run 'resq sweep' first)", dir)
	}
	cands, err := advise.Candidates(recs, table)
	if err != nil {
		return err
	}
	a, err := advise.Advise(cands, q)
	if err != nil {
		return err
	}
	return printAnswer(a, af.asJSON, stdout)
}

func printAnswer(a *advise.Answer, asJSON bool, stdout io.Writer) error {
	if _, err := io.WriteString(stdout, a.Summary()); err != nil {
		return err
	}
	if asJSON {
		if err := printJSON(stdout, a.JSON()); err != nil {
			return err
		}
	}
	if !a.Fits() {
		return errNoFit
	}
	return nil
}

func refineCmd(ctx context.Context, dir string, q advise.Query, af *adviseFlags, stdout, stderr io.Writer) error {
	opt := advise.RefineOptions{Cells: af.refine, Workers: af.workers,
		Runner: pipeline.NewCellRunner(pipeline.CellRunnerOptions{CacheDir: af.cache, Fetch: true, Log: stderr, MeasureLatency: true})}
	if af.table != "" {
		t, err := loadCostTable(af.table)
		if err != nil {
			return err
		}
		opt.Table = t
	}
	if af.verbose {
		opt.Log = stderr
	}
	res, err := advise.Refine(ctx, dir, q, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "before:\n%s", indent(res.Before.Summary()))
	fmt.Fprintf(stdout, "refine: %d proposals, %d cells run\n", len(res.Proposals), res.Ran)
	for _, p := range res.Proposals {
		fmt.Fprintf(stdout, "  %s seed %d (%d cells): %s\n", p.Label(), p.Seed, p.Cells, p.Why)
	}
	fmt.Fprintf(stdout, "after:\n")
	if af.asJSON {
		if _, err := io.WriteString(stdout, indent(res.After.Summary())); err != nil {
			return err
		}
		if err := printJSON(stdout, map[string]any{"before": res.Before.JSON(), "after": res.After.JSON(), "proposals": res.Proposals, "ran": res.Ran}); err != nil {
			return err
		}
		if !res.After.Fits() {
			return errNoFit
		}
		return nil
	}
	fmt.Fprint(stdout, indent(res.After.Summary()))
	if !res.After.Fits() {
		return errNoFit
	}
	return nil
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}
