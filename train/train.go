package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/internal/progress"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// Hooks let callers act during training. Nil fields are skipped.
type Hooks struct {
	// AfterStep runs after every optimizer step, and once more after early
	// stopping restores the best weights: package quant re-quantizes W into
	// Q here. An error stops training and is returned by Run.
	AfterStep func() error
	// Epoch receives the statistics of each finished epoch.
	Epoch func(EpochStats)
}

// EpochStats summarises one epoch.
type EpochStats struct {
	Epoch         int     `json:"epoch"`  // 1-based
	Epochs        int     `json:"epochs"` // as configured
	LR            float64 `json:"lr"`
	TrainLoss     float64 `json:"train_loss"`  // mean over the epoch's samples
	ValErrPct     float64 `json:"val_err_pct"` // meaningful only when HasVal
	HasVal        bool    `json:"has_val"`
	Best          bool    `json:"best"`            // lowest validation error so far
	Seconds       float64 `json:"seconds"`         // the epoch's wall time, its validation included
	SamplesPerSec float64 `json:"samples_per_sec"` // training samples over Seconds
}

// Result is the history of a run. On error it holds the finished epochs.
type Result struct {
	Epochs        int       `json:"epochs"` // epochs run: fewer than configured after early stopping
	LR            []float64 `json:"lr"`
	EpochSeconds  []float64 `json:"epoch_seconds"`
	TrainLoss     []float64 `json:"train_loss"`
	ValErrPct     []float64 `json:"val_err_pct"` // empty without a validation split
	ValN          int       `json:"val_n"`
	BestEpoch     int       `json:"best_epoch"` // 1-based epoch of the lowest val error; 0 without validation (the model holds it only when Restored)
	BestValErrPct float64   `json:"best_val_err_pct"`
	EarlyStopped  bool      `json:"early_stopped"`
	Restored      bool      `json:"restored"`     // the model holds the weights of BestEpoch (Patience > 0)
	TestErrPct    float64   `json:"test_err_pct"` // of the returned model; meaningful only when TestN > 0
	TestN         int       `json:"test_n"`
	Steps         int       `json:"steps"`
	Seconds       float64   `json:"seconds"`         // wall time of the epochs: steps and each epoch's validation, not the final test evaluation
	SamplesPerSec float64   `json:"samples_per_sec"` // training samples over Seconds
}

// CheckCompatible returns an error if m cannot be trained or evaluated on
// ds: per-sample size or class count mismatch.
func CheckCompatible(m *nn.Model, ds *data.Dataset) error {
	d := tensor.Numel(m.In)
	for _, s := range []*data.Split{&ds.Train, &ds.Val, &ds.Test} {
		if s.N > 0 && s.D != d {
			return fmt.Errorf("train: model %s takes %d inputs %v per sample, dataset %s has %d %v", m.Spec, d, m.In, ds.Name, s.D, ds.Shape)
		}
	}
	if ds.Classes > m.Classes {
		return fmt.Errorf("train: model %s has %d classes, dataset %s has %d", m.Spec, m.Classes, ds.Name, ds.Classes)
	}
	return checkSteps(m, ds)
}

// loop holds the per-run buffers so that a training step allocates nothing.
type loop struct {
	m      *nn.Model
	params []*nn.Param
	opt    Optimizer
	after  func() error
	b      *data.Batcher
	d      int
	x      []float32     // [batch, D] the current batch
	y      []int32       // [batch] or [batch, Steps]
	xt     tensor.Tensor // view of x[:n*D] as [n, D]
	lp     int           // labels per sample (Split.LabelsPer)
	clip   float64       // Config.ClipNorm
}

func newLoop(m *nn.Model, s *data.Split, cfg Config, h Hooks) *loop {
	bs := min(cfg.Batch, max(s.N, 1)) // a batch never exceeds the split: buffers stay bounded by the data
	l := &loop{
		m: m, params: m.Params(), opt: cfg.NewOptimizer(), after: h.AfterStep,
		b:    data.NewBatcher(s, bs, cfg.Seed, true),
		d:    s.D,
		x:    make([]float32, bs*s.D),
		y:    make([]int32, bs*s.LabelsPer()),
		lp:   s.LabelsPer(),
		clip: cfg.ClipNorm,
	}
	l.xt.Shape = make([]int, 2)
	return l
}

// step trains on the next batch of the epoch. It returns the batch size
// (0 when the epoch is over) and the batch's mean loss. A non-finite loss
// is returned without updating the weights.
func (l *loop) step(lr float64) (n int, loss float64, err error) {
	n = l.b.Next(l.x, l.y)
	if n == 0 {
		return 0, 0, nil
	}
	l.xt.Data, l.xt.Shape[0], l.xt.Shape[1] = l.x[:n*l.d], n, l.d
	logits := l.m.Forward(&l.xt, true) // [n, Classes]
	loss = l.m.Loss.Forward(logits, l.y[:n*l.lp])
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return n, loss, nil
	}
	l.m.Backward(l.m.Loss.Backward())
	if l.clip > 0 {
		ClipGradNorm(l.params, l.clip)
	}
	l.opt.Step(l.params, lr)
	if l.after != nil {
		err = l.after()
	}
	return n, loss, err
}

// DivergedLoss is the factor over the cross-entropy of a uniform guess,
// ln(classes), above which an epoch's mean training loss counts as
// diverged: Run then stops with an error, as for a NaN loss, instead of
// returning a useless model. A network that learns anything stays far
// below it.
const DivergedLoss = 100

// Run trains m on ds.Train with cfg, evaluating on ds.Val after every epoch
// and on ds.Test at the end. It writes a progress bar to log when log is a
// terminal and one line per epoch otherwise (log may be nil).
//
// Run stops with an error, never a half-broken success, when the loss or a
// weight becomes NaN or infinite, when a hook fails, or when ctx is
// cancelled (checked between batches); m then holds the weights of the
// failed step and must not be used as a trained model.
//
// With cfg.Patience > 0 and a validation split, training stops after
// Patience epochs without a lower validation error, and m gets back the
// weights (and BatchNorm statistics) of the best epoch.
//
// The same model, data and cfg give bit-identical weights on every run.
func Run(ctx context.Context, m *nn.Model, ds *data.Dataset, cfg Config, h Hooks, log io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := CheckCompatible(m, ds); err != nil {
		return nil, err
	}
	if ds.Train.N == 0 {
		return nil, fmt.Errorf("train: dataset %s has no training samples", ds.Name)
	}
	if cfg.Patience > 0 && ds.Val.N == 0 {
		return nil, fmt.Errorf("train: early stopping (patience %d) needs a validation split; dataset %s has none", cfg.Patience, ds.Name)
	}
	if log == nil {
		log = io.Discard
	}
	term := progress.IsTerminal(log)
	l := newLoop(m, &ds.Train, cfg, h)
	sched := cfg.NewSchedule()
	res := &Result{ValN: ds.Val.N, TestN: ds.Test.N}
	batches := (ds.Train.N + cfg.Batch - 1) / cfg.Batch
	fmt.Fprintf(log, "train: %s on %s: %d train, %d val, %d test samples; %s lr %g %s, batch %d, %d epochs\n",
		m.Spec, ds.Name, ds.Train.N, ds.Val.N, ds.Test.N, cfg.Optimizer, cfg.LR, cfg.Schedule, cfg.Batch, cfg.Epochs)

	var best *snapshot
	if cfg.Patience > 0 {
		best = newSnapshot(m)
	}
	start := time.Now()
	samples := 0
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		t0 := time.Now()
		lr := sched.LR(epoch)
		l.b.Reset(epoch)
		var bar *progress.Bar
		if term {
			bar = progress.New(log, int64(batches), fmt.Sprintf("epoch %d/%d", epoch+1, cfg.Epochs))
		}
		var sum float64
		seen := 0
		for batch := 1; ; batch++ {
			if err := ctx.Err(); err != nil {
				bar.Finish()
				return res, fmt.Errorf("train: epoch %d batch %d: %w", epoch+1, batch, err)
			}
			n, loss, err := l.step(lr)
			if n == 0 {
				break
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				bar.Finish()
				return res, fmt.Errorf("train: epoch %d batch %d: loss is %v (learning rate %g too high?)", epoch+1, batch, loss, lr)
			}
			if err != nil {
				bar.Finish()
				return res, fmt.Errorf("train: epoch %d batch %d: %w", epoch+1, batch, err)
			}
			sum += loss * float64(n)
			seen += n
			res.Steps++
			if bar != nil {
				bar.Add(1)
				if batch%20 == 0 {
					rate := float64(seen) / time.Since(t0).Seconds()
					bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f %.0f samples/s", epoch+1, cfg.Epochs, sum/float64(seen), rate))
				}
			}
		}
		bar.Finish()
		if err := checkFinite(l.params, m.Buffers()); err != nil {
			return res, fmt.Errorf("train: epoch %d: %v (learning rate %g too high?)", epoch+1, err, lr)
		}
		samples += seen
		st := EpochStats{Epoch: epoch + 1, Epochs: cfg.Epochs, LR: lr, TrainLoss: sum / float64(max(seen, 1))}
		if limit := DivergedLoss * math.Log(float64(max(m.Classes, 2))); st.TrainLoss > limit {
			return res, fmt.Errorf("train: epoch %d: mean training loss %.3g diverged (a uniform guess scores %.3g; learning rate %g too high?)",
				epoch+1, st.TrainLoss, math.Log(float64(max(m.Classes, 2))), lr)
		}
		if ds.Val.N > 0 {
			st.HasVal = true
			st.ValErrPct = Evaluate(m, &ds.Val, evalBatch(cfg.Batch))
			res.ValErrPct = append(res.ValErrPct, st.ValErrPct)
			if res.BestEpoch == 0 || st.ValErrPct < res.BestValErrPct {
				st.Best = true
				res.BestEpoch, res.BestValErrPct = epoch+1, st.ValErrPct
				if best != nil {
					best.save(m)
				}
			}
		}
		st.Seconds = time.Since(t0).Seconds()
		st.SamplesPerSec = rate(seen, st.Seconds)
		res.Epochs = epoch + 1
		res.LR = append(res.LR, lr)
		res.TrainLoss = append(res.TrainLoss, st.TrainLoss)
		res.EpochSeconds = append(res.EpochSeconds, st.Seconds)
		logEpoch(log, st)
		if h.Epoch != nil {
			h.Epoch(st)
		}
		if best != nil && epoch+1-res.BestEpoch >= cfg.Patience && epoch+1 < cfg.Epochs {
			res.EarlyStopped = true
			fmt.Fprintf(log, "train: early stopping after epoch %d: no better val error than %.2f%% (epoch %d) for %d epochs\n",
				epoch+1, res.BestValErrPct, res.BestEpoch, cfg.Patience)
			break
		}
	}
	if best != nil && res.BestEpoch != res.Epochs {
		best.restore(m)
		res.Restored = true
		fmt.Fprintf(log, "train: restored the weights of epoch %d (val %.2f%%)\n", res.BestEpoch, res.BestValErrPct)
		if h.AfterStep != nil {
			if err := h.AfterStep(); err != nil {
				return res, fmt.Errorf("train: after restoring epoch %d: %w", res.BestEpoch, err)
			}
		}
	} else if best != nil {
		res.Restored = true // the final weights are the best ones
	}
	res.Seconds = time.Since(start).Seconds()
	res.SamplesPerSec = rate(samples, res.Seconds)
	if ds.Test.N > 0 {
		res.TestErrPct = Evaluate(m, &ds.Test, evalBatch(cfg.Batch))
		fmt.Fprintf(log, "train: test error %.2f%% (%d samples)\n", res.TestErrPct, ds.Test.N)
	}
	return res, nil
}

// rate returns n/seconds, or 0 for a zero duration (keeps JSON finite).
func rate(n int, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}

func evalBatch(train int) int { return max(train, 256) }

func logEpoch(w io.Writer, st EpochStats) {
	val := ""
	if st.HasVal {
		val = fmt.Sprintf(" val %.2f%%", st.ValErrPct)
		if st.Best {
			val += "*"
		}
	}
	fmt.Fprintf(w, "epoch %d/%d loss %.4f%s lr %.4g %.1fs %.0f samples/s\n",
		st.Epoch, st.Epochs, st.TrainLoss, val, st.LR, st.Seconds, st.SamplesPerSec)
}

// checkFinite returns an error naming the first param or buffer holding a
// NaN or infinity.
func checkFinite(params []*nn.Param, bufs []nn.Buffer) error {
	for _, p := range params {
		if i := nonFinite(p.W.Data); i >= 0 {
			return fmt.Errorf("param %q has %v at index %d", p.Name, p.W.Data[i], i)
		}
	}
	for _, b := range bufs {
		if i := nonFinite(b.T.Data); i >= 0 {
			return fmt.Errorf("buffer %q has %v at index %d", b.Name, b.T.Data[i], i)
		}
	}
	return nil
}

func nonFinite(v []float32) int {
	for i, x := range v {
		if x-x != 0 { // NaN or ±Inf
			return i
		}
	}
	return -1
}

// snapshot is a copy of a model's float weights and buffers.
type snapshot struct{ w, b [][]float32 }

func newSnapshot(m *nn.Model) *snapshot {
	s := &snapshot{}
	for _, p := range m.Params() {
		s.w = append(s.w, make([]float32, len(p.W.Data)))
	}
	for _, b := range m.Buffers() {
		s.b = append(s.b, make([]float32, len(b.T.Data)))
	}
	return s
}

func (s *snapshot) save(m *nn.Model) {
	for i, p := range m.Params() {
		copy(s.w[i], p.W.Data)
	}
	for i, b := range m.Buffers() {
		copy(s.b[i], b.T.Data)
	}
}

func (s *snapshot) restore(m *nn.Model) {
	for i, p := range m.Params() {
		copy(p.W.Data, s.w[i])
	}
	for i, b := range m.Buffers() {
		copy(b.T.Data, s.b[i])
	}
}

// Evaluate returns the classification error of m on s in percent (0 for
// an empty split), or for a split with per-step labels (Steps > 0) the
// mean cross-entropy in bits per label (bits per character), running batches of at most batch samples straight from
// s.X without copying. It allocates only its prediction buffer, once per
// call. The split's samples must have m's input size (see CheckCompatible).
func Evaluate(m *nn.Model, s *data.Split, batch int) (errPct float64) {
	if batch < 1 {
		panic(fmt.Sprintf("train: Evaluate batch %d", batch))
	}
	if s.N == 0 {
		return 0
	}
	batch = min(batch, s.N)
	if s.Steps > 0 {
		return evaluateBits(m, s, batch)
	}
	pred := make([]int32, batch)
	x := tensor.Tensor{Shape: make([]int, 2)}
	wrong := 0
	m.Freeze(batch)
	defer m.Thaw()
	for i := 0; i < s.N; i += batch {
		n := min(batch, s.N-i)
		x.Data, x.Shape[0], x.Shape[1] = s.X[i*s.D:(i+n)*s.D], n, s.D // [n, D]
		m.Predict(pred, &x)
		for j, p := range pred[:n] {
			if p != s.Y[i+j] {
				wrong++
			}
		}
	}
	return 100 * float64(wrong) / float64(s.N)
}
