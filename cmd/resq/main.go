// Command resq measures and exploits how well deep neural networks survive
// low-precision weights: train, quantize, retrain, sweep size x bits,
// report, export packed models and run them.
//
// This file and its siblings only parse flags and print; all logic lives in
// the packages they call.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/resq-dev/resq/internal/host"
	"github.com/resq-dev/resq/internal/version"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/tensor"
)

// command is one subcommand: its one-line summary and its entry point.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"version":     {"print the resq version", runVersion},
		"data":        {"fetch and list datasets: data fetch NAME, data list", runData},
		"bench":       {"benchmarks: bench gemm [--json] [--peer gonum,openblas] [--peer-threads 1,2]; bench infer [--batch 1,100] [--threads 1,2] [--json]; bench retrain [--bits B] [--json]; bench openblas-core --running CORE", runBench},
		"train":       {"train a float model: train --model SPEC --data NAME --epochs N --out FILE", runTrain},
		"eval":        {"evaluate a checkpoint: eval FILE --data NAME", runEval},
		"quantize":    {"quantize weights directly: quantize FILE --bits B --out FILE", runQuantize},
		"retrain":     {"retrain with quantized weights: retrain FILE --bits B --epochs N --out FILE", runRetrain},
		"allocate":    {"per-layer bits under a weight budget: allocate CKPT --data NAME --max-weight-bytes B --out FILE", runAllocate},
		"prune":       {"magnitude pruning with float training: prune FILE --sparsity 0.9 --epochs N --out FILE", runPrune},
		"sweep":       {"run a size x bits sweep: sweep SPEC.yaml --out DIR [--shard I/N]", runSweep},
		"report":      {"write the report of a sweep folder: report DIR", runReport},
		"reproduce":   {"run a preset sweep and its report: reproduce --preset quick|paper-ffdnn|paper-cnn --out DIR", runReproduce},
		"export":      {"write a packed low-bit model: export CKPT --out MODEL [--base3] [--integer --data NAME]; export MODEL --format c|raw-inputs --out DIR|FILE", runExport},
		"infer":       {"run a packed model: infer MODEL --data NAME [--print FILE]", runInfer},
		"sensitivity": {"per-layer sensitivity: sensitivity FILE --data NAME --bits 2,3,4", runSensitivity},
		"cost":        {"recompute cost figures of a sweep folder from its models: cost DIR [--measure-latency]", runCost},
		"faults":      {"inject bit errors into a model's stored weights: faults MODEL --data NAME --ber 1e-7,1e-6 [--protect clamp,parity-row,tmr]", runFaults},
		"advise":      {"pick size and precision for a budget: advise DIR [--max-weight-bytes 64KiB] [--max-error-pct P] [--refine N]", runAdvise},
	}
}

// errUsage marks an error caused by bad command-line usage (exit code 2).
var errUsage = errors.New("usage")

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	stop, err := startCPUProfile(os.Getenv("RESQ_CPUPROFILE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := runSignals(os.Args[1:], sigs, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// startCPUProfile writes a CPU profile of the whole command to path (go
// tool pprof reads it) when path is not empty; stop ends it.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("resq: RESQ_CPUPROFILE: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("resq: RESQ_CPUPROFILE %s: %v", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "resq: RESQ_CPUPROFILE %s: %v\n", path, err)
		}
	}, nil
}

// gracePeriod is how long a command may take, after SIGINT or SIGTERM
// cancelled its context, to stop by itself and say what it kept; then the
// process exits anyway.
const gracePeriod = 1500 * time.Millisecond

// runSignals runs a command line under the signals arriving on sigs: the
// first cancels the command's context (a sweep records the cells it
// finished, a download keeps its .part); the command then exits with
// 128 + the signal number (130 for SIGINT, 143 for SIGTERM), at the latest
// after gracePeriod or at a second signal. Atomic writes make a stop at
// any point safe: a file is complete or absent.
func runSignals(args []string, sigs <-chan os.Signal, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, stdout, stderr) }()
	var sig os.Signal
	select {
	case code := <-done:
		return code
	case sig = <-sigs:
	}
	cancel()
	name := "resq"
	if len(args) > 0 {
		name += " " + args[0]
	}
	select {
	case <-done:
		// The command said why it stopped (or finished just then).
	case <-sigs:
		fmt.Fprintf(stderr, "%s: stopped by a second %s\n", name, sigName(sig))
	case <-time.After(gracePeriod):
		fmt.Fprintf(stderr, "%s: stopped by %s\n", name, sigName(sig))
	}
	return signalExit(sig)
}

// signalExit is the shell's exit status for a process ended by sig.
func signalExit(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

func sigName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// run executes one resq command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "resq: unknown command %q (run 'resq help' for the list)\n", args[0])
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		var h *helpRequest
		if errors.As(err, &h) {
			printFlags(stdout, h.fs)
		}
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "resq %s: %v\n", args[0], strings.TrimPrefix(err.Error(), "usage: "))
		return 2
	default:
		fmt.Fprintf(stderr, "resq %s: %v\n", args[0], oneLine(err))
		return 1
	}
}

// oneLine folds an error message onto a single line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "resq %s: resiliency of deep neural networks under weight quantization\n\nUsage: resq COMMAND [ARGS] [FLAGS]\n\nCommands:\n", version.String())
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'resq COMMAND -h' for a command's flags.\n")
}

func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("version")
	asJSON := fs.Bool("json", false, "print the version, build, CPU and kernels as one JSON object")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	b := version.Current()
	v := struct {
		Version  string `json:"resq_version"`
		Revision string `json:"revision,omitempty"`
		Dirty    bool   `json:"dirty"`
		ExeHash  string `json:"executable_sha256,omitempty"`
		Go       string `json:"go"`
		CPU      string `json:"cpu"`
		Kernels  string `json:"kernels"`
	}{version.String(), b.Revision, b.Dirty, b.ExeHash, runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		host.CPU(), "gemm " + tensor.Kernel() + ", int8 " + packed.IntKernel()}
	if *asJSON {
		return printJSON(stdout, v)
	}
	fmt.Fprintf(stdout, "%s\nbuilt from  %s\ngo          %s\ncpu         %s\nkernels     %s\n", v.Version, b.Source(), v.Go, v.CPU, v.Kernels)
	return nil
}

// newFlags returns a FlagSet whose errors are returned, not printed twice.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses flags that may be interleaved with positional arguments
// ("resq eval model.st --data mnist") and checks the positional count.
func parse(fs *flag.FlagSet, args []string, minPos, maxPos int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpRequest{fs}
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			pos = append(pos, rest[1:]...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) < minPos || (maxPos >= 0 && len(pos) > maxPos) {
		switch {
		case minPos == maxPos && minPos == 0:
			return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
		case len(pos) < minPos:
			return nil, fmt.Errorf("%w: missing argument (see 'resq %s -h')", errUsage, fs.Name())
		default:
			return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, pos[maxPos])
		}
	}
	return pos, nil
}

// helpRequest is -h or --help given to a command: run prints the flags of
// fs on the command's stdout and exits 0. It is a flag.ErrHelp.
type helpRequest struct{ fs *flag.FlagSet }

func (h *helpRequest) Error() string { return flag.ErrHelp.Error() }
func (h *helpRequest) Unwrap() error { return flag.ErrHelp }

func printFlags(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage of resq %s:\n", fs.Name())
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
