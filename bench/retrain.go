package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
	"github.com/resq-dev/resq/train"
)

// RetrainOptions configure RunRetrain. Zero values pick defaults.
type RetrainOptions struct {
	Model   string        // model spec; "" = mlp:784-1024x3-10,drop=0.2 (with the data's input size)
	Data    *data.Dataset // training split timed (required); validation is not used
	Bits    int           // weight bits of the retraining epoch; 0 = 2 (ternary)
	Rule    string        // quantizer step rule; "" = l2
	Batch   int           // 0 = 100
	Rounds  int           // float/retrain epoch pairs, interleaved; 0 = 3
	Threads int           // GEMM threads; 0 = tensor.Threads()
	JSON    bool          // one JSON object instead of a table
}

// RetrainResult is one RunRetrain measurement. Ratio is the fastest
// retraining epoch over the fastest float epoch (noise on a shared machine
// only ever adds time); the medians are reported too.
type RetrainResult struct {
	Model          string    `json:"model"`
	Dataset        string    `json:"dataset"`
	Samples        int       `json:"samples"` // training samples per epoch
	Bits           int       `json:"bits"`
	Batch          int       `json:"batch"`
	Threads        int       `json:"threads"`
	Kernel         string    `json:"kernel"`
	FloatSeconds   []float64 `json:"float_epoch_seconds"`
	RetrainSeconds []float64 `json:"retrain_epoch_seconds"`
	FloatBest      float64   `json:"float_best_seconds"`
	RetrainBest    float64   `json:"retrain_best_seconds"`
	FloatMedian    float64   `json:"float_median_seconds"`
	RetrainMedian  float64   `json:"retrain_median_seconds"`
	Ratio          float64   `json:"ratio"`        // RetrainBest / FloatBest
	MedianRatio    float64   `json:"median_ratio"` // RetrainMedian / FloatMedian
}

// RunRetrain times one-epoch runs of train.Run on the same network, in
// float and retrained with quantized weights (quant.Attach, then
// State.Sync after every optimizer step: forward and backward through Q,
// the update applied to the float shadow weights W, W re-quantized), in
// interleaved pairs so that both see the same machine state. It reports
// each epoch's time as train.Run measured it and the ratio of the fastest
// epochs (and of the medians).
// The one-time step search of Attach is outside the timed epoch.
func RunRetrain(ctx context.Context, w io.Writer, opt RetrainOptions) (*RetrainResult, error) {
	if opt.Data == nil || opt.Data.Train.N == 0 {
		return nil, errors.New("bench: retrain needs a dataset with training samples")
	}
	ds := *opt.Data
	ds.Val = data.Split{D: ds.Train.D} // time training only
	if opt.Model == "" {
		opt.Model = nn.MLPSpec(ds.Train.D, 1024, 3, ds.Classes, "drop=0.2")
	}
	if opt.Bits == 0 {
		opt.Bits = 2
	}
	if opt.Batch == 0 {
		opt.Batch = 100
	}
	if opt.Rounds <= 0 {
		opt.Rounds = 3
	}
	if opt.Threads > 0 {
		defer tensor.SetThreads(tensor.SetThreads(opt.Threads))
	}
	qc := quant.Config{Bits: opt.Bits, Rule: opt.Rule}
	if err := qc.Validate(); err != nil {
		return nil, err
	}
	tc := train.DefaultConfig()
	tc.Epochs, tc.Batch, tc.LR = 1, opt.Batch, 0.01
	res := &RetrainResult{
		Model: opt.Model, Dataset: ds.Name, Samples: ds.Train.N, Bits: opt.Bits, Batch: opt.Batch,
		Threads: tensor.Threads(), Kernel: tensor.Kernel(),
	}
	epoch := func(quantized bool) (float64, error) {
		m, err := nn.Build(opt.Model, ds.Shape, 1)
		if err != nil {
			return 0, err
		}
		var h train.Hooks
		if quantized {
			s, err := quant.Attach(m, qc)
			if err != nil {
				return 0, err
			}
			h.AfterStep = s.Sync
		}
		r, err := train.Run(ctx, m, &ds, tc, h, nil)
		if err != nil {
			return 0, err
		}
		return r.EpochSeconds[0], nil
	}
	for range opt.Rounds {
		f, err := epoch(false)
		if err != nil {
			return nil, fmt.Errorf("bench: float epoch: %w", err)
		}
		q, err := epoch(true)
		if err != nil {
			return nil, fmt.Errorf("bench: retrain epoch: %w", err)
		}
		res.FloatSeconds = append(res.FloatSeconds, f)
		res.RetrainSeconds = append(res.RetrainSeconds, q)
	}
	res.FloatMedian, res.RetrainMedian = median(res.FloatSeconds), median(res.RetrainSeconds)
	res.FloatBest, res.RetrainBest = slices.Min(res.FloatSeconds), slices.Min(res.RetrainSeconds)
	res.Ratio = res.RetrainBest / res.FloatBest
	res.MedianRatio = res.RetrainMedian / res.FloatMedian
	if opt.JSON {
		b, err := json.Marshal(res)
		if err != nil {
			return nil, err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return res, err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "model\t%s\n", res.Model)
	fmt.Fprintf(tw, "data\t%s, %d training samples, batch %d, %d threads, kernel %s\n", res.Dataset, res.Samples, res.Batch, res.Threads, res.Kernel)
	fmt.Fprintf(tw, "float epoch s\t%s\t(best %.3f, median %.3f)\n", secs(res.FloatSeconds), res.FloatBest, res.FloatMedian)
	fmt.Fprintf(tw, "retrain %db epoch s\t%s\t(best %.3f, median %.3f)\n", res.Bits, secs(res.RetrainSeconds), res.RetrainBest, res.RetrainMedian)
	fmt.Fprintf(tw, "retrain / float\t%.3f\t(medians: %.3f)\n", res.Ratio, res.MedianRatio)
	return res, tw.Flush()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func secs(v []float64) string {
	var b []byte
	for i, x := range v {
		if i > 0 {
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, "%.3f", x)
	}
	return string(b)
}
