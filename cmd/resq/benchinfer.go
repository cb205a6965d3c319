package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/resq-dev/resq/bench"
)

// runBenchInfer times packed and float32 inference (bench.RunInfer).
func runBenchInfer(args []string, stdout io.Writer) error {
	fs := newFlags("bench infer")
	var opt bench.InferOptions
	fs.BoolVar(&opt.JSON, "json", false, "print one JSON object per configuration and line")
	nets := fs.String("nets", strings.Join(bench.InferNets, ";"), "semicolon-separated dense model specs")
	bits := fs.String("bits", "2,3,8,32", "comma-separated weight bits (2..8; 32 = the float32 forward)")
	batches := fs.String("batch", "1,100", "comma-separated batch sizes")
	threads := fs.String("threads", "1,2", "comma-separated thread counts")
	kernels := fs.String("kernels", "", "comma-separated packed kernels: go, avx2, avx512vnni (default: every assembly kernel of this CPU)")
	fs.DurationVar(&opt.MinTime, "time", 50*time.Millisecond, "minimum time per timing round")
	fs.IntVar(&opt.Rounds, "rounds", 15, "timing rounds, every configuration of a network, batch and thread count taking turns (best kept)")
	seed := fs.Uint64("seed", 1, "seed of the weights and inputs")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := checkTiming(opt.Rounds, opt.MinTime); err != nil {
		return err
	}
	opt.Seed = *seed
	for _, n := range strings.Split(*nets, ";") {
		if n = strings.TrimSpace(n); n != "" {
			opt.Nets = append(opt.Nets, n)
		}
	}
	var err error
	if opt.Bits, err = intList("--bits", *bits); err != nil {
		return err
	}
	if opt.Batches, err = intList("--batch", *batches); err != nil {
		return err
	}
	if opt.Threads, err = intList("--threads", *threads); err != nil {
		return err
	}
	if *kernels != "" {
		opt.Kernels = splitList(*kernels)
	}
	_, err = bench.RunInfer(stdout, opt)
	return err
}

// intList parses a comma-separated list of integers given to flag.
func intList(flag, s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %q is not a number", errUsage, flag, f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s: empty list", errUsage, flag)
	}
	return out, nil
}
