package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/resq-dev/resq/bench"
)

func runBench(_ context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) == 0 || args[0] != "gemm" {
		return fmt.Errorf("%w: want 'resq bench gemm'", errUsage)
	}
	fs := newFlags("bench gemm")
	var opt bench.GemmOptions
	fs.BoolVar(&opt.JSON, "json", false, "print one JSON object per shape and line")
	fs.IntVar(&opt.Threads, "threads", 0, "GEMM threads (0: all cores)")
	fs.StringVar(&opt.Kernel, "kernel", "", "force a kernel: generic, avx2, avx512 (default: best for this CPU)")
	fs.DurationVar(&opt.MinTime, "time", 200*time.Millisecond, "minimum time per timing round")
	fs.IntVar(&opt.Rounds, "rounds", 3, "timing rounds per shape (best kept)")
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
