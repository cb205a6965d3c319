package main

import (
	"context"
	"fmt"
	"io"
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
	if len(args) == 0 || args[0] != "gemm" {
		return fmt.Errorf("%w: want 'resq bench gemm' or 'resq bench retrain'", errUsage)
	}
	fs := newFlags("bench gemm")
	var opt bench.GemmOptions
	fs.BoolVar(&opt.JSON, "json", false, "print one JSON object per shape and line")
	fs.IntVar(&opt.Threads, "threads", 0, "GEMM threads (0: all cores)")
	fs.StringVar(&opt.Kernel, "kernel", "", "force a kernel: generic (pure Go), sse, avx2, avx512 (default: best for this CPU)")
	fs.DurationVar(&opt.MinTime, "time", 200*time.Millisecond, "minimum time per timing round")
	fs.IntVar(&opt.Rounds, "rounds", 7, "timing rounds per shape, resq and peers taking turns (best kept)")
	peer := fs.String("peer", "", "comma-separated peers timed in the same run: gonum, openblas (needs -tags openblas)")
	if _, err := parse(fs, args[1:], 0, 0); err != nil {
		return err
	}
	if *peer != "" {
		opt.Peers = strings.Split(*peer, ",")
	}
	_, err := bench.RunGemm(stdout, opt)
	return err
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
	ds, err := df.load(1, stderr)
	if err != nil {
		return err
	}
	opt.Data = ds
	_, err = bench.RunRetrain(ctx, stdout, opt)
	return err
}
