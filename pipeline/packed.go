package pipeline

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/internal/version"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
)

// Exported describes a packed model written by Export.
type Exported struct {
	Out         string  `json:"out"`
	Model       string  `json:"model"`
	Bits        int     `json:"bits"`
	BitsPerLay  []int   `json:"bits_per_layer,omitempty"` // per-layer widths when they differ
	Base3       bool    `json:"base3"`
	Sparse      bool    `json:"sparse"`        // the sparse encoding was considered
	SparseLays  int     `json:"sparse_layers"` // layers stored as relative indices
	FileBytes   int64   `json:"file_bytes"`    // size of the packed file
	StoredBytes int64   `json:"stored_bytes"`  // tensor bytes: codes (indices included), steps, biases
	FloatBytes  int64   `json:"float_bytes"`   // 4 bytes per parameter: the float32 model's tensors
	Weights     int64   `json:"weights"`
	Ratio       float64 `json:"ratio"`        // FloatBytes / FileBytes
	TensorRatio float64 `json:"tensor_ratio"` // FloatBytes / StoredBytes
	// EntropyBits is the Shannon entropy of the codes (zeros included),
	// bits per weight, and EntropyBytes the codes at that entropy plus
	// steps and biases: the bound an ideal entropy coder would reach.
	EntropyBits  float64 `json:"entropy_bits_per_weight"`
	EntropyBytes int64   `json:"entropy_bytes"`
}

// Export writes the quantized checkpoint as a packed model at out; a
// pruned checkpoint stores its layers sparse where that is smaller.
func (c *Checkpoint) Export(out string, base3 bool) (*Exported, error) {
	return c.ExportOptions(out, packed.Options{Base3: base3, Sparse: c.Pruned()})
}

// ExportOptions is Export with the storage options given.
func (c *Checkpoint) ExportOptions(out string, opt packed.Options) (*Exported, error) {
	if c.Quant == nil {
		return nil, fmt.Errorf("pipeline: %q is a float checkpoint; quantize or retrain it first (resq quantize / resq retrain)", c.Path)
	}
	meta := packed.Meta{
		Options: opt, Dataset: c.Meta.Dataset, DatasetSHA256: c.Meta.DatasetChecksum,
		SourceCheckpoint: c.Path,
	}
	size, err := packed.Export(out, c.M, c.Quant, meta)
	if err != nil {
		return nil, err
	}
	w, p := c.M.Count()
	e := &Exported{Out: out, Model: c.M.Spec, Bits: c.Quant.Bits, BitsPerLay: c.Quant.BitsPerLayer, Base3: opt.Base3, Sparse: opt.Sparse,
		FileBytes: size, StoredBytes: packed.StoredBytes(c.M, c.Quant, opt), FloatBytes: 4 * p, Weights: w}
	e.Ratio = float64(e.FloatBytes) / float64(e.FileBytes)
	e.TensorRatio = float64(e.FloatBytes) / float64(e.StoredBytes)
	if d, err := packed.Describe(c.M, c.Quant, opt); err == nil {
		e.SparseLays = d.SparseLayers
	}
	if f, err := cost.Of(c.M, c.Quant, opt, 1, nil); err == nil {
		e.EntropyBits, e.EntropyBytes = f.EntropyBits, f.EntropyBytes
	}
	return e, nil
}

// UseBits makes the checkpoint's quantizer have the given per-layer bit
// widths: a float checkpoint is quantized directly with them (L2-optimal
// steps over the surviving weights of a pruned model), a quantized one
// must already have them.
func (c *Checkpoint) UseBits(bits []int) error {
	if c.Quant != nil {
		have := make([]int, len(c.Quant.Layers))
		for i, l := range c.Quant.Layers {
			have[i] = l.Bits
		}
		if !slices.Equal(have, bits) {
			return fmt.Errorf("pipeline: %q is quantized with bits %s, not %s; give the float checkpoint", c.Path, quant.FormatBits(have), quant.FormatBits(bits))
		}
		return nil
	}
	cfg := quant.Config{BitsPerLayer: bits, Bits: slices.Max(bits)}
	s, err := quant.Attach(c.M, cfg)
	if err != nil {
		return err
	}
	if c.Pruned() {
		if err := s.SetMasks(zeroMasks(c.M)); err != nil {
			return err
		}
	}
	c.Quant = s
	return nil
}

// zeroMasks returns the masks of the exactly-zero weights of every
// quantizable param (false = pruned).
func zeroMasks(m *nn.Model) [][]bool {
	var keep [][]bool
	for _, p := range m.Params() {
		if !p.Quantizable {
			continue
		}
		k := make([]bool, len(p.W.Data))
		for i, v := range p.W.Data {
			k[i] = v != 0
		}
		keep = append(keep, k)
	}
	return keep
}

// Inferred is what Infer measured.
type Inferred struct {
	Model           string  `json:"model"`
	Dataset         string  `json:"dataset"`
	DatasetChecksum string  `json:"dataset_checksum"`
	Version         string  `json:"resq_version"`
	TestErrPct      float64 `json:"test_error_pct"`
	TestN           int     `json:"test_n"`
	Batch           int     `json:"batch"`
	Seconds         float64 `json:"seconds"`
	SamplesPerSec   float64 `json:"samples_per_second"`
	// Passes is the number of times the test split ran (InferFor repeats
	// it until its time has passed).
	Passes int `json:"passes"`
	// Rechecked counts the samples of one pass that Predict recomputed
	// because their 8-bit logits were too close to call (packed.Model.PredictStats).
	Rechecked packed.PredictCounts `json:"rechecked"`
}

// Infer runs the packed model at path over ds's test split in batches and
// measures its error and throughput. It stops between batches when ctx is
// done and returns ctx's error.
func Infer(ctx context.Context, path string, ds *data.Dataset, batch int) (*Inferred, error) {
	return InferFor(ctx, path, ds, batch, 0)
}

// InferFor is Infer that repeats the test split until at least seconds
// have passed (one pass when seconds <= 0), so that the throughput of a
// small test set is measured over a stable stretch of time. The error and
// the recheck counts are those of one pass (every pass predicts the same).
func InferFor(ctx context.Context, path string, ds *data.Dataset, batch int, seconds float64) (*Inferred, error) {
	if batch < 1 {
		return nil, fmt.Errorf("pipeline: batch %d, need at least 1", batch)
	}
	m, err := packed.Load(path)
	if err != nil {
		return nil, err
	}
	d := tensor.Numel(m.In)
	if d != ds.Test.D {
		return nil, fmt.Errorf("pipeline: %q takes %d inputs per sample, dataset %s has %d", path, d, ds.Name, ds.Test.D)
	}
	if ds.Classes > m.Classes {
		return nil, fmt.Errorf("pipeline: %q has %d classes, dataset %s has %d", path, m.Classes, ds.Name, ds.Classes)
	}
	if !(seconds <= math.MaxInt32) {
		return nil, fmt.Errorf("pipeline: %v seconds of inference: want a finite number", seconds)
	}
	pred := make([]int32, batch)
	logits := make([]float32, batch*m.Classes)
	wrong := 0
	var counts packed.PredictCounts
	t0 := time.Now()
	passes := 0
	for passes == 0 || time.Since(t0).Seconds() < seconds {
		for i := 0; i < ds.Test.N; i += batch {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("pipeline: %q: inference stopped after %d of %d samples: %w", path, i, ds.Test.N, err)
			}
			n := min(batch, ds.Test.N-i)
			c := m.PredictStats(pred[:n], logits[:n*m.Classes], ds.Test.X[i*d:(i+n)*d], n)
			if passes > 0 {
				continue
			}
			counts.Wide += c.Wide
			counts.Float += c.Float
			for j, p := range pred[:n] {
				if p != ds.Test.Y[i+j] {
					wrong++
				}
			}
		}
		passes++
		if ds.Test.N == 0 {
			break
		}
	}
	secs := time.Since(t0).Seconds()
	r := &Inferred{Model: m.Spec, Dataset: ds.Name, DatasetChecksum: ds.Checksum, Version: version.String(),
		TestN: ds.Test.N, Batch: batch, Seconds: secs, Passes: passes, Rechecked: counts}
	if ds.Test.N > 0 {
		r.TestErrPct = 100 * float64(wrong) / float64(ds.Test.N)
		r.SamplesPerSec = float64(ds.Test.N) * float64(passes) / secs
	}
	return r, nil
}

// Agreement compares a packed model with the simulated-quantized float
// forward of the checkpoint it was exported from (nn's forward through the
// quantized weights Q, float activations) over a test split.
type Agreement struct {
	Checkpoint string `json:"checkpoint"`
	N          int    `json:"n"`
	// Disagree counts samples whose predicted class (packed.Model.Predict)
	// differs.
	Disagree int `json:"disagree"`
	// MaxLogitErr is the largest |packed - float| logit difference
	// (packed.Model.Infer, 8-bit activations) over
	// all samples and classes, relative to the sample's largest |logit|
	// (at least 1).
	MaxLogitErr float64 `json:"max_logit_err"`
	// MeanLogitErr is the mean of each sample's largest relative difference.
	MeanLogitErr float64 `json:"mean_logit_err"`
}

// Compare runs the packed model at path and the quantized checkpoint c on
// ds's test split (batch samples at a time) and measures how they agree.
// It stops between batches when ctx is done and returns ctx's error.
func Compare(ctx context.Context, path string, c *Checkpoint, ds *data.Dataset, batch int) (*Agreement, error) {
	if c.Quant == nil {
		return nil, fmt.Errorf("pipeline: %q is a float checkpoint; compare the packed model with the quantized checkpoint it was exported from", c.Path)
	}
	if batch < 1 {
		return nil, fmt.Errorf("pipeline: batch %d, need at least 1", batch)
	}
	m, err := packed.Load(path)
	if err != nil {
		return nil, err
	}
	if err := c.compatible(ds); err != nil {
		return nil, err
	}
	if m.Spec != c.M.Spec || m.Classes != c.M.Classes {
		return nil, fmt.Errorf("pipeline: %q holds %q, checkpoint %q holds %q", path, m.Spec, c.Path, c.M.Spec)
	}
	d, k := ds.Test.D, m.Classes
	a := &Agreement{Checkpoint: c.Path, N: ds.Test.N}
	got := make([]float32, batch*k)
	pred := make([]int32, batch)
	x := tensor.New(batch, d)
	for i := 0; i < ds.Test.N; i += batch {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pipeline: %q: comparison stopped after %d of %d samples: %w", path, i, ds.Test.N, err)
		}
		n := min(batch, ds.Test.N-i)
		if n < batch {
			x = tensor.New(n, d)
		}
		copy(x.Data, ds.Test.X[i*d:(i+n)*d])
		m.PredictLogits(pred[:n], got[:n*k], x.Data, n)
		want := c.M.Forward(x, false) // [n, classes]
		for j := 0; j < n; j++ {
			g, w := got[j*k:(j+1)*k], want.Data[j*k:(j+1)*k]
			scale, worst := 1.0, 0.0
			for _, v := range w {
				scale = max(scale, math.Abs(float64(v)))
			}
			for t := range w {
				worst = max(worst, math.Abs(float64(g[t]-w[t]))/scale)
			}
			a.MaxLogitErr = max(a.MaxLogitErr, worst)
			a.MeanLogitErr += worst
			if int(pred[j]) != tensor.Argmax(w) {
				a.Disagree++
			}
		}
	}
	if a.N > 0 {
		a.MeanLogitErr /= float64(a.N)
	}
	return a, nil
}
