package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/pipeline"
	"github.com/resq-dev/resq/tensor"
	"github.com/resq-dev/resq/train"
)

// dataFlags are the flags of every command that reads a dataset.
type dataFlags struct {
	name  string
	cache string
	val   int
	limit int
}

func (d *dataFlags) register(fs *flag.FlagSet, required bool) {
	def := "mnist"
	if required {
		def = ""
	}
	fs.StringVar(&d.name, "data", def, "dataset: mnist, fashion-mnist, cifar10 or npy:TRAIN_X.npy,TRAIN_Y.npy,TEST_X.npy,TEST_Y.npy")
	fs.StringVar(&d.cache, "cache", "", "dataset cache folder (default $RESQ_CACHE, else $XDG_CACHE_HOME/resq, else ~/.cache/resq)")
	fs.IntVar(&d.val, "val", 0, "validation rows carved from the training set by seed (0: none)")
	fs.IntVar(&d.limit, "limit", 0, "use only the first N training and test rows (0: all)")
}

func (d *dataFlags) load(seed uint64, log io.Writer) (*data.Dataset, error) {
	if d.name == "" {
		return nil, fmt.Errorf("%w: --data is required (mnist, fashion-mnist, cifar10 or npy:...)", errUsage)
	}
	return data.Load(d.name, data.Options{CacheDir: d.cache, ValSize: d.val, Seed: seed, Fetch: true, Log: log, Limit: d.limit})
}

// trainFlags are the float training hyper-parameters.
type trainFlags struct {
	cfg     train.Config
	seed    uint64
	threads int
}

func (t *trainFlags) register(fs *flag.FlagSet, def train.Config) {
	t.cfg = def
	c := &t.cfg
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "training epochs")
	fs.IntVar(&c.Batch, "batch", c.Batch, "minibatch size")
	fs.Float64Var(&c.LR, "lr", c.LR, "base learning rate")
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "sgd or adam")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "SGD momentum")
	fs.BoolVar(&c.Nesterov, "nesterov", c.Nesterov, "Nesterov momentum")
	fs.Float64Var(&c.WeightDecay, "wd", c.WeightDecay, "L2 weight decay")
	fs.StringVar(&c.Schedule, "schedule", c.Schedule, "learning-rate schedule: constant, step, exp or cosine")
	fs.IntVar(&c.StepEvery, "step-every", c.StepEvery, "step schedule: epochs between decays")
	fs.Float64Var(&c.Gamma, "gamma", c.Gamma, "step/exp schedule: decay factor")
	fs.IntVar(&c.Patience, "patience", c.Patience, "early stopping: epochs without a better validation error (0: off; needs --val)")
	fs.Float64Var(&c.ClipNorm, "clip", c.ClipNorm, "clip the gradients of each step to this global L2 norm (0: off)")
	fs.Uint64Var(&t.seed, "seed", 1, "seed of initialisation, dropout and shuffling")
	fs.IntVar(&t.threads, "threads", 0, "GEMM threads (0: all cores)")
}

func (t *trainFlags) apply() error {
	if t.threads < 0 {
		return fmt.Errorf("%w: --threads %d: want 0 (all cores) or more", errUsage, t.threads)
	}
	if t.threads > 0 {
		tensor.SetThreads(t.threads)
	}
	return nil
}

// printJSON writes v as one JSON line.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// logWriter is where progress goes: stderr, so that stdout carries only
// results (and the --json object).
func logWriter(stderr io.Writer) io.Writer { return stderr }

// checkOut refuses to write a result over an input file.
func checkOut(out string, inputs ...string) error {
	if out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	for _, in := range inputs {
		if sameFile(in, out) {
			return fmt.Errorf("%w: --out %q would overwrite the input; choose another file", errUsage, out)
		}
	}
	// Fail now, not after hours of training, if the file cannot be placed.
	dir := filepath.Dir(out)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("--out %q: folder %q does not exist or cannot be read (create it first): %v", out, dir, err)
	case !st.IsDir():
		return fmt.Errorf("--out %q: %q is not a folder", out, dir)
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return fmt.Errorf("--out %q is a folder; give a file name", out)
	}
	// A read-only folder or file system, too, is found now.
	return atomicfile.CheckWritable(out)
}

func sameFile(a, b string) bool {
	if strings.TrimSpace(a) == strings.TrimSpace(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// loadInputs reads the checkpoint a command works on and the dataset it is
// measured on.
func loadInputs(path string, df *dataFlags, stderr io.Writer) (*pipeline.Checkpoint, *data.Dataset, error) {
	c, err := pipeline.Load(path)
	if err != nil {
		return nil, nil, err
	}
	ds, err := df.load(1, logWriter(stderr))
	if err != nil {
		return nil, nil, err
	}
	return c, ds, nil
}

// errorText formats a test error in its dataset's measure: "1.23%", or
// "2.971 bits per character" for next-character data.
func errorText(dataset string, v float64) string {
	if data.MetricFor(dataset) == data.MetricBPC {
		return fmt.Sprintf("%.3f bits per character", v)
	}
	return fmt.Sprintf("%.2f%%", v)
}
