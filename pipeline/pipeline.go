package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/resq-dev/resq/ckpt"
	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/internal/version"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/prune"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/train"
)

// Outcome is what one unit of work measured, with its provenance. It is printed as
// the --json object of the train, eval, quantize and retrain commands.
type Outcome struct {
	Model           string    `json:"model"`
	Dataset         string    `json:"dataset"`
	DatasetChecksum string    `json:"dataset_checksum"`
	Version         string    `json:"resq_version"`
	Seed            uint64    `json:"seed"`
	Mode            string    `json:"mode"` // "float", "direct", "retrain"
	Bits            int       `json:"bits"` // 32 for float
	Weights         int64     `json:"weights"`
	Params          int64     `json:"params"`
	TestErrPct      float64   `json:"test_error_pct"`
	TestN           int       `json:"test_n"`
	ValErrPct       float64   `json:"val_error_pct,omitempty"` // of the returned weights, when there is a validation split
	EpochSeconds    []float64 `json:"epoch_seconds,omitempty"`
	TrainSeconds    float64   `json:"train_seconds,omitempty"`
	EvalSeconds     float64   `json:"eval_seconds"`
	Out             string    `json:"out,omitempty"`

	// Throughput is the float forward's speed over repeated test passes
	// (Checkpoint.EvalFor); nil when it was not timed.
	Throughput *Throughput `json:"throughput,omitempty"`

	// Prune is the pruning schedule of a pruned model and Sparsity the
	// fraction of pruned (exactly zero) weights it reached per quantizable
	// layer, in model order; both empty for unpruned models.
	Prune    *prune.Config `json:"prune,omitempty"`
	Sparsity []float64     `json:"sparsity,omitempty"`

	Train *train.Result `json:"train,omitempty"`
	Quant *quant.State  `json:"quant,omitempty"` // the quantizer state of a quantized model; nil in float

	M *nn.Model `json:"-"` // the model in memory (trained, quantized when Mode != "float")
}

// trainMeta is what a checkpoint records of the training that made it.
type trainMeta struct {
	Config train.Config  `json:"config"`
	Result *train.Result `json:"result,omitempty"`
	Seed   uint64        `json:"seed"`
}

// defaultEvalBatch is the batch size of evaluation passes (how, not what:
// the error does not depend on it).
const defaultEvalBatch = 500

// TrainFloat builds the model spec for ds's sample shape with seed, trains
// it in float with cfg, evaluates it on the test split and, when out is not
// empty, saves the checkpoint there. cfg.Seed is overwritten by seed so
// that one number reproduces the run.
func TrainFloat(ctx context.Context, ds *data.Dataset, spec string, cfg train.Config, seed uint64, out string, log io.Writer) (*Outcome, error) {
	m, err := nn.Build(spec, ds.Shape, seed)
	if err != nil {
		return nil, err
	}
	if err := train.CheckCompatible(m, ds); err != nil {
		return nil, err
	}
	cfg.Seed = seed
	t0 := time.Now()
	res, err := train.Run(ctx, m, ds, cfg, train.Hooks{}, log)
	if err != nil {
		return nil, err
	}
	o := newOutcome(m, ds, seed, results.ModeFloat, 32)
	o.trained(res, time.Since(t0).Seconds())
	if out != "" {
		meta, err := metaFor(ds, trainMeta{Config: cfg, Result: res, Seed: seed})
		if err != nil {
			return nil, err
		}
		if err := ckpt.Save(out, m, meta); err != nil {
			return nil, err
		}
		o.Out = out
	}
	return o, nil
}

func newOutcome(m *nn.Model, ds *data.Dataset, seed uint64, mode string, bits int) *Outcome {
	w, p := m.Count()
	return &Outcome{
		Model: m.Spec, Dataset: ds.Name, DatasetChecksum: ds.Checksum, Version: version.String(),
		Seed: seed, Mode: mode, Bits: bits, Weights: w, Params: p, M: m,
	}
}

// evaluate measures the test (and validation) error of o.M in batches of
// batch rows.
func (o *Outcome) evaluate(ds *data.Dataset, batch int) {
	t0 := time.Now()
	o.TestErrPct = train.Evaluate(o.M, &ds.Test, batch)
	o.TestN = ds.Test.N
	if ds.Val.N > 0 {
		o.ValErrPct = train.Evaluate(o.M, &ds.Val, batch)
	}
	o.EvalSeconds = time.Since(t0).Seconds()
}

// trained copies what train.Run measured (it evaluates the final model on
// the test split, so there is no second pass): the errors, the epochs'
// time as training time and the rest of its wall time as evaluation time.
func (o *Outcome) trained(res *train.Result, wall float64) {
	o.Train, o.EpochSeconds, o.TrainSeconds = res, res.EpochSeconds, sum(res.EpochSeconds)
	o.TestErrPct, o.TestN = res.TestErrPct, res.TestN
	if n := len(res.ValErrPct); n > 0 {
		o.ValErrPct = res.ValErrPct[n-1]
		if res.Restored && res.BestEpoch > 0 {
			o.ValErrPct = res.BestValErrPct
		}
	}
	o.EvalSeconds = max(0, wall-o.TrainSeconds)
}

func metaFor(ds *data.Dataset, tm trainMeta) (ckpt.Meta, error) {
	js, err := json.Marshal(tm)
	if err != nil {
		return ckpt.Meta{}, fmt.Errorf("pipeline: encoding training metadata: %v", err)
	}
	return ckpt.Meta{Dataset: ds.Name, DatasetChecksum: ds.Checksum, Train: js}, nil
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}
