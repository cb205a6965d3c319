package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/resq-dev/resq/bench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "retrain" {
		return runBenchRetrain(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "infer" {
		return runBenchInfer(args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "openblas-core" {
		return runBenchBLASCore(args[1:], stdout)
	}
	if len(args) == 0 || args[0] != "gemm" {
		return fmt.Errorf("%w: want 'resq bench gemm', 'resq bench infer', 'resq bench retrain' or 'resq bench openblas-core'", errUsage)
	}
	fs := newFlags("bench gemm")
	var opt bench.GemmOptions
	fs.BoolVar(&opt.JSON, "json", false, "print one JSON object per shape and line")
	fs.IntVar(&opt.Threads, "threads", 0, "GEMM threads (0: all cores)")
	fs.StringVar(&opt.Kernel, "kernel", "", "force a kernel: generic (pure Go), sse, avx2, avx512 (default: best for this CPU)")
	fs.DurationVar(&opt.MinTime, "time", 200*time.Millisecond, "minimum time per timing round")
	fs.IntVar(&opt.Rounds, "rounds", 7, "timing rounds per shape, resq and peers taking turns (best kept)")
	peer := fs.String("peer", "", "comma-separated peers timed in the same run: gonum, openblas (needs -tags openblas)")
	pthreads := fs.String("peer-threads", "", "comma-separated thread counts each peer is timed at, its best kept (default: 1 and --threads)")
	fs.DurationVar(&opt.Settle, "settle", 0, "pause before each timing round, so that a peer's spinning threads are idle (0: 100ms with peers, none without; negative: none)")
	if _, err := parse(fs, args[1:], 0, 0); err != nil {
		return err
	}
	if err := checkTiming(opt.Rounds, opt.MinTime); err != nil {
		return err
	}
	if *peer != "" {
		opt.Peers = strings.Split(*peer, ",")
	}
	if *pthreads != "" {
		for _, f := range strings.Split(*pthreads, ",") {
			t, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("%w: --peer-threads: %q is not a number", errUsage, f)
			}
			opt.PeerThreads = append(opt.PeerThreads, t)
		}
	}
	if slices.Contains(opt.Peers, "openblas") {
		// OpenBLAS reads OPENBLAS_CORETYPE when it loads: restart
		// with it set if it fell back to kernels below this CPU's.
		if err := bench.ReexecForBLASCore(); err != nil {
			return err
		}
	}
	_, err := bench.RunGemm(stdout, opt)
	return err
}

// runBenchBLASCore prints which OpenBLAS core type a peer should run on
// this CPU, given the one it runs (OPENBLAS_VERBOSE=2 prints "Core: X"):
// lines running=, best= and set= (the OPENBLAS_CORETYPE to use, empty
// when none is needed), then the decision in words.
func runBenchBLASCore(args []string, stdout io.Writer) error {
	fs := newFlags("bench openblas-core")
	running := fs.String("running", "", "the core type OpenBLAS runs (required)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *running == "" {
		return fmt.Errorf("%w: bench openblas-core needs --running CORE (as OPENBLAS_VERBOSE=2 prints it)", errUsage)
	}
	d := bench.ChooseBLASCore(bench.HostFeatures(), *running, os.Getenv("OPENBLAS_CORETYPE"), os.Getenv(bench.KeepCoreEnv) == "1")
	fmt.Fprintf(stdout, "running=%s\nbest=%s\nset=%s\n# %s\n", d.Running, d.Best, d.Set, d)
	return nil
}

// runBenchRetrain times float and quantized-retraining epochs of the same
// network side by side (bench.RunRetrain).
func runBenchRetrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench retrain")
	var opt bench.RetrainOptions
	var df dataFlags
	df.register(fs, false)
	fs.StringVar(&opt.Model, "model", "", "model spec (default mlp:IN-1024x3-CLASSES,drop=0.2)")
	fs.IntVar(&opt.Bits, "bits", 2, "weight bits of the retraining epochs (2..8)")
	fs.StringVar(&opt.Rule, "rule", "l2", "step rule: l2, maxabs, twn, pow2")
	fs.IntVar(&opt.Batch, "batch", 100, "minibatch size")
	fs.IntVar(&opt.Rounds, "rounds", 3, "float/retrain epoch pairs (medians compared)")
	fs.IntVar(&opt.Threads, "threads", 0, "GEMM threads (0: all cores)")
	fs.BoolVar(&opt.JSON, "json", false, "print one JSON object")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := checkRounds(opt.Rounds); err != nil {
		return err
	}
	ds, err := df.load(1, stderr)
	if err != nil {
		return err
	}
	opt.Data = ds
	_, err = bench.RunRetrain(ctx, stdout, opt)
	return err
}

// checkTiming rejects timing flags a benchmark cannot run with: fewer
// than one round, or rounds of no time.
func checkTiming(rounds int, minTime time.Duration) error {
	if err := checkRounds(rounds); err != nil {
		return err
	}
	if minTime <= 0 {
		return fmt.Errorf("%w: --time %v: want a positive duration", errUsage, minTime)
	}
	return nil
}

// checkRounds rejects a --rounds below 1.
func checkRounds(rounds int) error {
	if rounds < 1 {
		return fmt.Errorf("%w: --rounds %d: need at least 1", errUsage, rounds)
	}
	return nil
}
