package pipeline

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/internal/host"
	"github.com/resq-dev/resq/internal/version"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/sweep"
	"github.com/resq-dev/resq/tensor"
)

// kernelNames names the kernels computing a cell now: the float GEMM
// micro-kernel (tensor) and the integer one (packed).
func kernelNames() string {
	return "gemm " + tensor.Kernel() + ", int8 " + packed.IntKernel()
}

// CellRunnerOptions configure the real runner.
type CellRunnerOptions struct {
	CacheDir string         // dataset cache ("" = data.DefaultCacheDir())
	Fetch    bool           // fetch a missing named dataset on first use
	Log      io.Writer      // dataset loading and fetching messages (nil = silent)
	Packed   packed.Options // how stored bytes are counted (e.g. base-3 ternary)
	// SaveRetrained also saves each retrained model, with its quantizer
	// state, to DIR/models/<id>.safetensors (for resq export).
	SaveRetrained bool
	// CostTable prices the cost figures of every record (nil: the
	// default 45 nm table, cost.DefaultTable).
	CostTable *cost.Table
	// MeasureLatency keeps each cell's model (packed bytes in memory, the
	// float checkpoint on disk) and times it once every cell of the run
	// has finished (Finish), with no cell running.
	MeasureLatency bool
}

// CellRunner is the Runner that really trains: float cells train a model
// from scratch (train.Run) and save it; direct cells load it and quantize
// it (quant.Direct); retrain cells load it, attach the quantizer and
// retrain (train.Run with Hooks.AfterStep = State.Sync). Each dataset is
// loaded once per process and shared, read-only, by all cells. It is safe
// for concurrent use.
type CellRunner struct {
	opt CellRunnerOptions

	mu   sync.Mutex
	sets map[dataKey]*dataEntry
	lat  latencyQueue // models to time in Finish
}

type dataKey struct {
	name           string
	limit, valSize int
	seed           uint64
}

type dataEntry struct {
	once sync.Once
	ds   *data.Dataset
	err  error
}

// NewCellRunner returns the real runner.
func NewCellRunner(opt CellRunnerOptions) *CellRunner {
	return &CellRunner{opt: opt, sets: map[dataKey]*dataEntry{}}
}

// dataset loads (once) the dataset of a cell.
func (r *CellRunner) dataset(k sweep.CellConfig) (*data.Dataset, error) {
	key := dataKey{k.Dataset, k.Limit, k.ValSize, k.DataSeed}
	r.mu.Lock()
	e := r.sets[key]
	if e == nil {
		e = &dataEntry{}
		r.sets[key] = e
	}
	r.mu.Unlock()
	e.once.Do(func() {
		e.ds, e.err = data.Load(k.Dataset, data.Options{
			CacheDir: r.opt.CacheDir, ValSize: k.ValSize, Seed: k.DataSeed, Fetch: r.opt.Fetch, Log: r.opt.Log, Limit: k.Limit,
		})
	})
	return e.ds, e.err
}

// Run computes one cell (see Runner).
func (r *CellRunner) Run(ctx context.Context, c sweep.Cell, env *sweep.Env) (results.Record, error) {
	k := c.Config
	ds, err := r.dataset(k)
	if err != nil {
		return results.Record{}, err
	}
	rec := results.Record{DatasetChecksum: ds.Checksum, Version: version.String(), CPU: host.CPU(), Kernels: kernelNames()}
	switch k.Mode {
	case sweep.ModeFloat:
		err = r.runFloat(ctx, c, env, ds, &rec)
	case sweep.ModeDirect, sweep.ModeRetrain:
		err = r.runQuant(ctx, c, env, ds, &rec)
	default:
		err = fmt.Errorf("sweep: unknown mode %q", k.Mode)
	}
	return rec, err
}

func (r *CellRunner) runFloat(ctx context.Context, c sweep.Cell, env *sweep.Env, ds *data.Dataset, rec *results.Record) error {
	k := c.Config
	spec, err := k.ModelSpec(ds.Shape, ds.Classes)
	if err != nil {
		return err
	}
	rec.Model = spec
	o, err := TrainFloat(ctx, ds, spec, k.Float.TrainConfig(k.Seed), k.Seed, env.ModelPath(c.ID), env.Log)
	if err != nil {
		return err
	}
	fillOutcome(rec, o)
	rec.StoredBytes = 4 * rec.Params
	if err := r.costFloat(c, env, o.M, rec); err != nil {
		return err
	}
	return faultsFloat(ctx, k, ds, o.M, rec)
}

func (r *CellRunner) runQuant(ctx context.Context, c sweep.Cell, env *sweep.Env, ds *data.Dataset, rec *results.Record) error {
	k := c.Config
	fc, err := Load(env.ModelPath(c.Parent))
	if err != nil {
		return err
	}
	if fc.Meta.DatasetChecksum != "" && fc.Meta.DatasetChecksum != ds.Checksum {
		return fmt.Errorf("sweep: float model %s was trained on dataset %s, this cell loads %s", fc.Path, fc.Meta.DatasetChecksum, ds.Checksum)
	}
	fc.EvalBatch = k.EvalBatch
	rec.Model = fc.M.Spec
	qcfg := k.Quant.QuantConfig(k.Bits)
	if len(k.BitsPerLayer) > 0 {
		qcfg.BitsPerLayer, qcfg.FirstLastBits = k.BitsPerLayer, 0
	}
	pc := k.PruneConfig()
	var o *Outcome
	if k.Mode == sweep.ModeDirect {
		o, err = fc.QuantizePruned(ds, qcfg, pc, "")
	} else {
		out := ""
		if r.opt.SaveRetrained {
			out = env.ModelPath(c.ID)
		}
		o, err = fc.RetrainPruned(ctx, ds, qcfg, pc, k.Retrain.TrainConfig(k.Seed), out, env.Log)
	}
	if err != nil {
		return err
	}
	fillOutcome(rec, o)
	rec.LayerSparsity = o.Sparsity
	rec.StoredBytes = packed.StoredBytes(fc.M, fc.Quant, r.packedOptions(k))
	if err := r.costQuant(c, fc.M, fc.Quant, rec); err != nil {
		return err
	}
	return faultsQuant(ctx, k, ds, fc.M, fc.Quant, r.opt.Packed, rec)
}

// packedOptions returns how a cell's model is stored: pruned cells store
// each layer sparse where that is smaller.
func (r *CellRunner) packedOptions(k sweep.CellConfig) packed.Options {
	opt := r.opt.Packed
	if k.Sparsity > 0 {
		opt.Sparse = true
	}
	return opt
}

// Checksum returns the checksum of the dataset of cell config k (see
// Checker); it loads the dataset, once per process.
func (r *CellRunner) Checksum(k sweep.CellConfig) (string, error) {
	ds, err := r.dataset(k)
	if err != nil {
		return "", err
	}
	return ds.Checksum, nil
}

// Check returns why float cell c cannot run: its dataset does not load,
// its model does not fit the data, early stopping has no validation split
// (see Checker). It builds no model.
func (r *CellRunner) Check(c sweep.Cell) error {
	k := c.Config
	ds, err := r.dataset(k)
	if err != nil {
		return err
	}
	spec, err := k.ModelSpec(ds.Shape, ds.Classes)
	if err != nil {
		return err
	}
	if _, _, err := nn.SpecSize(spec, ds.Shape); err != nil {
		return err
	}
	for _, b := range []*sweep.Budget{&k.Float, k.Retrain} {
		if b != nil && b.Patience > 0 && ds.Val.N == 0 {
			return fmt.Errorf("sweep: early stopping (patience %d) needs a validation split: set val_size", b.Patience)
		}
	}
	return nil
}

// CheckModel returns why the saved model of float cell c cannot be used:
// it does not load (truncated, corrupt, non-finite weights), holds another
// architecture, or was trained on other data (see Checker).
func (r *CellRunner) CheckModel(c sweep.Cell, env *sweep.Env) error {
	k := c.Config
	ds, err := r.dataset(k)
	if err != nil {
		return err
	}
	fc, err := Load(env.ModelPath(c.ID))
	if err != nil {
		return err
	}
	want, err := k.ModelSpec(ds.Shape, ds.Classes)
	if err != nil {
		return err
	}
	if fc.M.Spec != want {
		return fmt.Errorf("sweep: %q holds model %s, the cell trains %s", fc.Path, fc.M.Spec, want)
	}
	if fc.Quant != nil {
		return fmt.Errorf("sweep: %q is quantized, the cell trains a float model", fc.Path)
	}
	if fc.Meta.DatasetChecksum != "" && fc.Meta.DatasetChecksum != ds.Checksum {
		return fmt.Errorf("sweep: %q was trained on dataset checksum %s, the data now has %s", fc.Path, fc.Meta.DatasetChecksum, ds.Checksum)
	}
	return nil
}

// fillOutcome copies what a unit of work measured into a record.
func fillOutcome(rec *results.Record, o *Outcome) {
	rec.TestErrPct, rec.ValErrPct = o.TestErrPct, o.ValErrPct
	rec.TrainSeconds, rec.EvalSeconds = o.TrainSeconds, o.EvalSeconds
	rec.Weights, rec.Params = o.Weights, o.Params
}
