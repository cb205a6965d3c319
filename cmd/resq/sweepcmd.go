package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/pipeline"
	"github.com/resq-dev/resq/report"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/sweep"
	"github.com/resq-dev/resq/units"
)

// sweepFlags are the flags shared by sweep and reproduce.
type sweepFlags struct {
	out     string
	workers int
	shard   string
	cache   string
	verbose bool
	base3   bool
	noRep   bool
	latency bool
	table   string
}

func (s *sweepFlags) register(fs *flag.FlagSet, defOut string) {
	fs.StringVar(&s.out, "out", defOut, "sweep folder: results*.jsonl, models/, report/")
	fs.IntVar(&s.workers, "workers", 0, "cells run at once (0: the spec's, else the number of cores)")
	fs.StringVar(&s.shard, "shard", "", "run shard I/N only (0-based I; default from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID)")
	fs.StringVar(&s.cache, "cache", "", "dataset cache folder")
	fs.BoolVar(&s.verbose, "v", false, "print every cell's epochs")
	fs.BoolVar(&s.base3, "base3", false, "count ternary layers as base-3 packed (1.6 bits/weight) in stored bytes")
	fs.BoolVar(&s.noRep, "no-report", false, "do not write the report after the sweep")
	fs.BoolVar(&s.latency, "measure-latency", false, "time every model of this run at batch 1 and 100 once all cells are done")
	fs.StringVar(&s.table, "cost-table", "", "energy table (YAML) for the cost figures (default: the built-in 45 nm table, Horowitz ISSCC 2014)")
}

// run executes a resolved spec and, unless disabled or sharded, writes its
// report into OUT/report.
func (s *sweepFlags) run(ctx context.Context, spec *sweep.Spec, stdout, stderr io.Writer) error {
	if s.out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	if s.workers < 0 {
		return fmt.Errorf("%w: --workers %d: want 0 (the spec's, else one per core) or more", errUsage, s.workers)
	}
	opt := sweep.RunOptions{Workers: s.workers, Log: stderr, Progress: true, Verbose: s.verbose}
	var err error
	switch {
	case s.shard != "":
		opt.Shard, opt.Shards, err = sweep.ParseShard(s.shard)
	default:
		var ok bool
		opt.Shard, opt.Shards, ok, err = sweep.ShardFromEnv()
		if ok && err == nil {
			fmt.Fprintf(stderr, "sweep: shard %d of %d (from the environment)\n", opt.Shard, opt.Shards)
		}
	}
	if err != nil {
		return err
	}
	table, err := loadCostTable(s.table)
	if err != nil {
		return err
	}
	opt.Runner = pipeline.NewCellRunner(pipeline.CellRunnerOptions{CacheDir: s.cache, Fetch: true, Log: stderr, Packed: packed.Options{Base3: s.base3},
		CostTable: table, MeasureLatency: s.latency})
	sum, err := sweep.Run(ctx, spec, s.out, opt)
	if err != nil {
		return err
	}
	// Failed cells are recorded and reported; the exit status says so.
	if s.noRep {
		return sum.Err()
	}
	if opt.Shards > 1 {
		fmt.Fprintf(stdout, "sharded run: write the report once every shard is done: resq report %s\n", s.out)
		return sum.Err()
	}
	t0 := time.Now()
	var ropt report.Options
	if ropt.WeightBudgets, ropt.EnergyBudgets, err = spec.Budgets.Values(); err != nil {
		return err
	}
	if err := writeReport(s.out, filepath.Join(s.out, "report"), ropt, stdout); err != nil {
		if ferr := sum.Err(); ferr != nil {
			return fmt.Errorf("%v; no report: %v", ferr, err)
		}
		return err
	}
	rep := time.Since(t0).Seconds()
	all := *sum
	all.Seconds += rep
	all.CoreSeconds = float64(all.Cores) * all.Seconds
	if over, ok := all.Overhead(); ok {
		fmt.Fprintf(stderr, "timing: sweep %.1fs + report %.1fs; training %.0f of %.0f core-seconds; overhead (scheduling, evaluation, records, models, report) %.1f%% of training\n",
			sum.Seconds, rep, all.TrainCoreSeconds, all.CoreSeconds, 100*over)
	} else if sum.Ran > 0 {
		fmt.Fprintf(stderr, "timing: sweep %.1fs + report %.1fs; training under %g core-second, too little to state an overhead\n",
			sum.Seconds, rep, sweep.MinTrainCoreSeconds)
	}
	return sum.Err()
}

// writeReport merges the records of a sweep folder and writes the report.
func writeReport(dir, out string, ropt report.Options, stdout io.Writer) error {
	recs, st, err := results.ReadDirStats(dir)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("report: no records in %q (run 'resq sweep' first)", dir)
	}
	if st.Torn > 0 {
		fmt.Fprintf(stdout, "report: ignored %d torn last line(s) left by an interrupted run\n", st.Torn)
	}
	ropt.Source = dir
	sum, err := report.Write(out, recs, ropt)
	if err != nil {
		return err
	}
	if err := sum.WriteText(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: open %s\n", sum.HTML)
	return nil
}

func runSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep")
	var sf sweepFlags
	sf.register(fs, "")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	spec, err := sweep.LoadSpec(pos[0])
	if err != nil {
		return err
	}
	return sf.run(ctx, spec, stdout, stderr)
}

func runReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reproduce")
	var sf sweepFlags
	preset := fs.String("preset", "quick", "preset: "+strings.Join(sweep.PresetNames(), ", "))
	show := fs.Bool("print-spec", false, "print the preset's sweep spec (YAML) and exit")
	seeds := fs.Int("seeds", 0, "run the paper presets with seeds 1..N (default: the preset's one seed; quick stays at one)")
	sf.register(fs, "")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *show {
		// The text that runs: paper-cnn's dataset as the cache decides, --seeds applied.
		if _, ok := sweep.PresetSource(*preset); !ok {
			return fmt.Errorf("%w: unknown preset %q (known: %s)", errUsage, *preset, strings.Join(sweep.PresetNames(), ", "))
		}
		src, err := sweep.PresetSourceWithSeeds(*preset, *seeds)
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, src)
		return err
	}
	if sf.out == "" {
		sf.out = filepath.Join("out", *preset)
		fmt.Fprintf(stderr, "reproduce: writing into %q (choose another folder with --out)\n", sf.out)
	}
	spec, err := sweep.PresetWithSeeds(*preset, *seeds)
	if err != nil {
		return err
	}
	return sf.run(ctx, spec, stdout, stderr)
}

func runReport(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("report")
	out := fs.String("out", "", "report folder (default DIR/report)")
	wb := fs.String("weight-budgets", "", "weight-memory budgets of the designer's view, e.g. 16KiB,64KiB,1MiB (default 8KiB,32KiB,128KiB,512KiB,2MiB)")
	eb := fs.String("energy-budgets", "", "energy budgets of the designer's view, e.g. 50nJ,1uJ (default: decades spanning the measured energies)")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	var ropt report.Options
	if ropt.WeightBudgets, err = parseList("--weight-budgets", *wb, units.ParseSize); err != nil {
		return err
	}
	if ropt.EnergyBudgets, err = parseList("--energy-budgets", *eb, units.ParseEnergy); err != nil {
		return err
	}
	if ropt.WeightBudgets == nil || ropt.EnergyBudgets == nil {
		// Budgets not given as flags come from the folder's spec.
		w, e, err := folderBudgets(pos[0])
		if err != nil {
			return err
		}
		if ropt.WeightBudgets == nil {
			ropt.WeightBudgets = w
		}
		if ropt.EnergyBudgets == nil {
			ropt.EnergyBudgets = e
		}
	}
	if *out == "" {
		*out = filepath.Join(pos[0], "report")
	}
	return writeReport(pos[0], *out, ropt, stdout)
}

// folderBudgets returns the designer's-view budgets of the spec a sweep
// folder holds (DIR/sweep.yaml); none when the folder has no spec.
func folderBudgets(dir string) (weightBytes, energyNJ []float64, err error) {
	p := filepath.Join(dir, "sweep.yaml")
	src, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("report: %v", err)
	}
	spec, err := sweep.ParseSpec(p, src)
	if err != nil {
		return nil, nil, err
	}
	return spec.Budgets.Values()
}
