package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/internal/progress"
	"github.com/resq-dev/resq/internal/version"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/tensor"
)

// Runner computes one cell. Run returns the measured record (Weights,
// Params, StoredBytes, TestErrPct, ValErrPct, timings, Model,
// DatasetChecksum, Version); the engine fills in the identity fields (ID,
// ParentID, Status, Reason, Dataset, Family, Width, Depth, Scale, Mode,
// Bits, Seed, Config) itself. A returned error marks the cell failed with
// the error as its reason. A float cell must write its model to
// env.ModelPath(c.ID) (atomically) before returning; a direct or retrain
// cell reads env.ModelPath(c.Parent). Run is called from several
// goroutines at once when the pool has more than one worker.
type Runner interface {
	Run(ctx context.Context, c Cell, env *Env) (results.Record, error)
}

// A Checker is a Runner that can also check cells before any runs. When
// the Runner passed to Run implements it, Run refuses a sweep whose cells
// cannot run (a dataset that does not load, a model that does not fit the
// data) before the first cell, refuses to resume on data that changed
// since the records in the folder were made, and trains a float model
// again when its saved checkpoint cannot be used.
type Checker interface {
	// Checksum returns the checksum of the dataset that the cell with
	// config k loads, as its record would carry it.
	Checksum(k CellConfig) (string, error)
	// Check returns why float cell c cannot run, or nil.
	Check(c Cell) error
	// CheckModel returns why the saved model of float cell c (at
	// env.ModelPath(c.ID)) cannot be used by its dependents, or nil.
	CheckModel(c Cell, env *Env) error
}

// Env is what a Runner gets besides its cell.
type Env struct {
	Dir  string    // the sweep folder
	Spec *Spec     // the resolved spec
	Log  io.Writer // progress lines of this cell (prefixed with its label; io.Discard unless verbose)
}

// ModelPath returns where the checkpoint of cell id lives:
// DIR/models/<id>.safetensors.
func (e *Env) ModelPath(id string) string {
	return filepath.Join(e.Dir, "models", id+".safetensors")
}

// RunOptions control how Run executes a sweep; none changes its results.
type RunOptions struct {
	Workers  int       // cells run at once; 0 = the spec's workers, else runtime.GOMAXPROCS(0)
	Shard    int       // this shard, 0-based: 0..Shards-1
	Shards   int       // number of shards; 0 or 1 = no sharding
	Runner   Runner    // computes cells (required)
	Log      io.Writer // plain progress lines (nil = discard)
	Progress bool      // draw a progress bar when Log is a terminal (instead of one line per cell)
	Verbose  bool      // pass each cell's own progress lines (epochs) to Log, prefixed by the cell's label
}

// Summary tells what Run did.
type Summary struct {
	Cells   int     // cells of the sweep (all shards)
	Total   int     // cells of this shard
	Skipped int     // cells of this shard already done (ok record present)
	Ran     int     // cells run (and recorded) now
	OK      int     // of Ran, how many succeeded
	Failed  int     // of Ran, how many failed (including dependents of failed float cells)
	Results string  // the results file appended to
	Seconds float64 // wall time
	// CoreSeconds is Cores x Seconds: the processor time the sweep had.
	// TrainCoreSeconds is the part of it the cells run now spent training:
	// each running cell is charged its share of the cores (Cores divided
	// by the number of cells running, which is how the GEMM threads are
	// split) over its lifetime, scaled by the fraction of its wall time
	// its record reports as training (TrainSeconds / cell wall time). The
	// rest, CoreSeconds - TrainCoreSeconds, is the sweep's own overhead:
	// loading data and models, evaluation, quantizer search, writing
	// models and records, and cores left idle by the schedule.
	Cores            int
	CoreSeconds      float64
	TrainCoreSeconds float64
}

// Err returns an error saying how many cells failed when any cell run
// now failed, else nil. The cells are recorded either way; the error is
// for the exit status.
func (s *Summary) Err() error {
	if s.Failed == 0 {
		return nil
	}
	return fmt.Errorf("sweep: %d of %d cells run failed (their reasons are in %q and the report); rerun the same command to retry them", s.Failed, s.Ran, s.Results)
}

// MinTrainCoreSeconds is the least training time, in core-seconds, of
// which Overhead states a ratio: below it, start-up and timer resolution
// dominate and a tiny sweep would claim an overhead of hundreds of percent.
const MinTrainCoreSeconds = 1.0

// Overhead returns (CoreSeconds - TrainCoreSeconds) / TrainCoreSeconds,
// the sweep's own cost relative to its pure training time, and whether
// that ratio means anything: false when training took less than
// MinTrainCoreSeconds.
func (s *Summary) Overhead() (float64, bool) {
	if s.TrainCoreSeconds < MinTrainCoreSeconds {
		return 0, false
	}
	return (s.CoreSeconds - s.TrainCoreSeconds) / s.TrainCoreSeconds, true
}

// ResultsFile returns the results file a shard writes in dir:
// results.jsonl without sharding, else results-shard-I-of-N.jsonl (I 0-based).
func ResultsFile(dir string, shard, shards int) string {
	if shards <= 1 {
		return filepath.Join(dir, "results.jsonl")
	}
	return filepath.Join(dir, fmt.Sprintf("results-shard-%d-of-%d.jsonl", shard, shards))
}

// setThreads sets the GEMM threads per cell (a variable so tests can watch).
var setThreads = tensor.SetThreads

// FloatFailed is the reason prefix recorded for the dependents of a failed
// float cell.
const FloatFailed = "float model failed"

type done struct {
	cell Cell
	rec  results.Record
	err  error
	secs float64
	id   int // key in the core-time ledger
}

// coreLedger charges running cells their share of the cores over time.
type coreLedger struct {
	cores float64
	last  time.Time
	share map[int]float64 // running cell -> core-seconds so far
	next  int
}

// advance charges every running cell cores/len(running) per second since
// the last event.
func (l *coreLedger) advance(now time.Time) {
	if n := len(l.share); n > 0 {
		dt := now.Sub(l.last).Seconds() * l.cores / float64(n)
		for k := range l.share {
			l.share[k] += dt
		}
	}
	l.last = now
}

func (l *coreLedger) start(now time.Time) int {
	l.advance(now)
	l.next++
	l.share[l.next] = 0
	return l.next
}

func (l *coreLedger) stop(now time.Time, id int) float64 {
	l.advance(now)
	v := l.share[id]
	delete(l.share, id)
	return v
}

// Run executes the cells of spec (of one shard when opt.Shards > 1) that
// have no ok record in dir yet, appending one record per cell to the
// shard's results file in dir, and returns what it did. Failed cells are
// recorded and the sweep goes on; they are retried by the next Run. The
// error is non-nil only when the sweep could not run (bad options, a folder
// it cannot write, a corrupt results file) or was interrupted through ctx,
// in which case the Summary counts what was finished.
//
// Workers and GEMM threads: at most W cells run at once (W =
// opt.Workers, else spec.Workers, else GOMAXPROCS), and whenever the number
// r of running cells changes the GEMM thread count is set to
// max(1, GOMAXPROCS/r): with 2 cores, two ready cells run side by side on 1
// thread each, and a lone cell (start of the sweep with a single group, or
// its tail) gets both threads. So the cores are never oversubscribed and
// never idle while work is ready.
func Run(ctx context.Context, spec *Spec, dir string, opt RunOptions) (*Summary, error) {
	start := time.Now()
	if opt.Runner == nil {
		return nil, errors.New("sweep: RunOptions.Runner is nil")
	}
	if opt.Shards <= 0 {
		opt.Shards = 1
	}
	if opt.Shard < 0 || opt.Shard >= opt.Shards {
		return nil, fmt.Errorf("sweep: shard %d of %d: want 0 <= shard < %d (shards are numbered from 0)", opt.Shard, opt.Shards, opt.Shards)
	}
	logw := opt.Log
	if logw == nil {
		logw = io.Discard
	}
	cells, err := spec.Cells()
	if err != nil {
		return nil, err
	}
	ncpu := runtime.GOMAXPROCS(0)
	workers := opt.Workers
	if workers <= 0 {
		workers = spec.Workers
	}
	if workers <= 0 {
		workers = ncpu
	}

	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		return nil, fmt.Errorf("sweep: output folder: %v", err)
	}
	resPath := ResultsFile(dir, opt.Shard, opt.Shards)
	unlockRun, err := lockRun(dir, opt.Shards)
	if err != nil {
		return nil, err
	}
	defer unlockRun()
	unlock, err := lockFile(strings.TrimSuffix(resPath, ".jsonl") + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := atomicfile.WriteFile(filepath.Join(dir, "sweep.yaml"), func(w io.Writer) error {
		_, err := io.WriteString(w, spec.String())
		return err
	}); err != nil {
		return nil, fmt.Errorf("sweep: %v", err)
	}
	prior, st, err := results.ReadDirStats(dir)
	if err != nil {
		return nil, fmt.Errorf("sweep: cannot resume: %v", err)
	}
	okIDs := map[string]bool{}
	for _, r := range prior {
		if r.Status == results.StatusOK {
			okIDs[r.ID] = true
		}
	}
	env := &Env{Dir: dir, Spec: spec}
	checker, _ := opt.Runner.(Checker)
	removeOrphans(dir, cells, opt.Shard, opt.Shards, logw)

	// Plan: this shard's groups, what is done, what is ready.
	sum := &Summary{Cells: len(cells), Results: resPath}
	deps := map[string][]Cell{} // float ID -> dependents still to run
	var floats, ready []Cell
	for _, c := range cells {
		if opt.Shards > 1 && c.Group%opt.Shards != opt.Shard {
			continue
		}
		sum.Total++
		if c.Parent != "" && !okIDs[c.ID] {
			deps[c.Parent] = append(deps[c.Parent], c)
		}
	}
	for _, c := range cells {
		if c.Parent != "" || (opt.Shards > 1 && c.Group%opt.Shards != opt.Shard) {
			continue
		}
		needModel := len(deps[c.ID]) > 0 && okIDs[c.ID] && !modelUsable(checker, c, env, logw)
		if !okIDs[c.ID] || needModel {
			floats = append(floats, c)
		} else {
			ready = append(ready, deps[c.ID]...)
			delete(deps, c.ID)
		}
	}
	if checker != nil {
		if err := preflight(checker, cells, prior, floats, dir); err != nil {
			return nil, err
		}
	}
	toRun := len(floats) + len(ready)
	for _, d := range deps {
		toRun += len(d)
	}
	sum.Skipped = sum.Total - toRun
	var totalCost, doneCost float64 // for the ETA
	for _, c := range floats {
		totalCost += c.cost()
	}
	for _, c := range ready {
		totalCost += c.cost()
	}
	for _, ds := range deps {
		for _, c := range ds {
			totalCost += c.cost()
		}
	}
	shardNote := ""
	if opt.Shards > 1 {
		shardNote = fmt.Sprintf(" (shard %d/%d: %d)", opt.Shard, opt.Shards, sum.Total)
	}
	fmt.Fprintf(logw, "sweep %s: %d cells%s, %d done, %d to run, up to %d workers on %d cores -> %s\n",
		spec.Name, len(cells), shardNote, sum.Skipped, toRun, workers, ncpu, resPath)
	if st.Torn > 0 {
		fmt.Fprintf(logw, "sweep: ignored %d torn line(s) left by an interrupted run\n", st.Torn)
	}

	var bar *progress.Bar
	if opt.Progress {
		bar = progress.New(logw, int64(toRun), "sweep "+spec.Name)
		defer bar.Finish()
	}
	var logMu sync.Mutex
	cellLog := func(c Cell) io.Writer {
		if !opt.Verbose || bar.Active() {
			return io.Discard
		}
		return &prefixWriter{mu: &logMu, w: logw, prefix: "  [" + c.Label() + "] "}
	}
	say := func(format string, args ...any) {
		if bar.Active() {
			return
		}
		logMu.Lock()
		fmt.Fprintf(logw, format, args...)
		logMu.Unlock()
	}

	ledger := &coreLedger{cores: float64(ncpu), last: time.Now(), share: map[int]float64{}}
	sum.Cores = ncpu
	prevThreads := tensor.Threads()
	defer setThreads(prevThreads)
	doneCh := make(chan done)
	running, finished := 0, 0
	record := func(c Cell, rec results.Record, runErr error, secs float64) error {
		if outOfSpace(runErr) {
			// Every later cell would fail the same way: stop, keep what is done.
			return fmt.Errorf("sweep: %s: %v (free space in %s, then rerun the same command to resume)", c.Label(), runErr, dir)
		}
		rec = fill(c, rec, runErr)
		if err := results.Append(resPath, rec); err != nil {
			return fmt.Errorf("sweep: %v", err)
		}
		finished++
		sum.Ran++
		if rec.Status == results.StatusOK {
			sum.OK++
		} else {
			sum.Failed++
		}
		bar.Add(1)
		doneCost += c.cost()
		eta := ""
		if left := totalCost - doneCost; finished < toRun && doneCost > 0 {
			el := time.Since(start).Seconds()
			eta = fmt.Sprintf("  eta %s", (time.Duration(el*left/doneCost) * time.Second).Round(time.Second))
		}
		if rec.Status == results.StatusOK {
			say("sweep: [%d/%d] ok     %-32s err %6.2f%%  %5.1fs%s\n", finished, toRun, c.Label(), rec.TestErrPct, secs, eta)
		} else {
			// Failures are printed even under a progress bar (it redraws).
			logMu.Lock()
			fmt.Fprintf(logw, "sweep: [%d/%d] FAILED %-32s %s%s\n", finished, toRun, c.Label(), firstLine(rec.Reason), eta)
			logMu.Unlock()
		}
		return nil
	}
	var fatal error
	for {
		for fatal == nil && ctx.Err() == nil && running < workers && (len(ready) > 0 || len(floats) > 0) {
			var c Cell
			if len(ready) > 0 { // dependents first: they finish groups
				c, ready = ready[0], ready[1:]
			} else {
				c, floats = floats[0], floats[1:]
			}
			running++
			setThreads(max(1, ncpu/running))
			cenv := *env
			cenv.Log = cellLog(c)
			t0 := time.Now()
			id := ledger.start(t0)
			go func() {
				rec, err := runCell(ctx, opt.Runner, c, &cenv)
				doneCh <- done{c, rec, err, time.Since(t0).Seconds(), id}
			}()
		}
		if running == 0 {
			break
		}
		d := <-doneCh
		if core := ledger.stop(time.Now(), d.id); d.err == nil && d.secs > 0 {
			sum.TrainCoreSeconds += core * min(1, d.rec.TrainSeconds/d.secs)
		}
		running--
		if running > 0 {
			setThreads(max(1, ncpu/running))
		}
		if fatal != nil {
			continue
		}
		if d.err != nil && ctx.Err() != nil {
			continue // interrupted, not failed: the next run redoes it
		}
		if err := record(d.cell, d.rec, d.err, d.secs); err != nil {
			fatal = err
			continue
		}
		if d.cell.Parent == "" {
			ds := deps[d.cell.ID]
			delete(deps, d.cell.ID)
			if d.err == nil {
				ready = append(ready, ds...)
			} else {
				for _, c := range ds {
					if err := record(c, results.Record{}, fmt.Errorf("%s: %s", FloatFailed, firstLine(d.err.Error())), 0); err != nil {
						fatal = err
						break
					}
				}
			}
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	sum.CoreSeconds = float64(ncpu) * sum.Seconds
	if fatal != nil {
		return sum, fatal
	}
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("sweep: interrupted (%v) after %d of %d cells; run again to resume", err, finished, toRun)
	}
	bar.Finish()
	if f, ok := opt.Runner.(Finisher); ok {
		setThreads(ncpu) // alone on the machine: every core
		if err := f.Finish(ctx, env, resPath, logw); err != nil {
			return sum, err
		}
	}
	fmt.Fprintf(logw, "sweep %s: %d ran (%d ok, %d failed), %d were done already, %.1fs -> %s\n",
		spec.Name, sum.Ran, sum.OK, sum.Failed, sum.Skipped, sum.Seconds, resPath)
	if over, ok := sum.Overhead(); ok {
		fmt.Fprintf(logw, "sweep %s: training used %.0f of %.0f core-seconds (%d cores x %.1fs); overhead %.1f%% of training\n",
			spec.Name, sum.TrainCoreSeconds, sum.CoreSeconds, ncpu, sum.Seconds, 100*over)
	}
	return sum, nil
}

// modelUsable reports whether the saved model of float cell c can be
// used by its dependents: the file exists and, with a Checker, loads and
// fits the cell. It says on log why a model is trained again.
func modelUsable(checker Checker, c Cell, env *Env, log io.Writer) bool {
	path := env.ModelPath(c.ID)
	if !fileExists(path) {
		return false
	}
	if checker == nil {
		return true
	}
	if err := checker.CheckModel(c, env); err != nil {
		fmt.Fprintf(log, "sweep: %s: saved model cannot be used (%s); training it again\n", c.Label(), firstLine(err.Error()))
		return false
	}
	return true
}

// preflight checks, before any cell runs, that the float cells to run can
// run and that the ok records of this sweep in dir were computed on the
// data the cells load now.
func preflight(checker Checker, cells []Cell, prior []results.Record, floats []Cell, dir string) error {
	for _, c := range floats {
		if err := checker.Check(c); err != nil {
			return fmt.Errorf("sweep: %s: %s (no cell was run)", c.Label(), firstLine(err.Error()))
		}
	}
	byID := make(map[string]Cell, len(cells))
	for _, c := range cells {
		byID[c.ID] = c
	}
	sums := map[string]string{} // dataset key -> checksum now
	stale := 0
	var name, was, now string
	for _, r := range prior {
		c, ok := byID[r.ID]
		if !ok || r.Status != results.StatusOK || r.DatasetChecksum == "" {
			continue
		}
		k := c.Config
		key := fmt.Sprintf("%s\x00%d\x00%d\x00%d", k.Dataset, k.Limit, k.ValSize, k.DataSeed)
		sum, seen := sums[key]
		if !seen {
			var err error
			if sum, err = checker.Checksum(k); err != nil {
				return fmt.Errorf("sweep: %s: %s (no cell was run)", c.Label(), firstLine(err.Error()))
			}
			sums[key] = sum
		}
		if r.DatasetChecksum != sum {
			stale++
			name, was, now = k.Dataset, r.DatasetChecksum, sum
		}
	}
	if stale > 0 {
		return fmt.Errorf("sweep: %d records in %q were computed on dataset %s with checksum %s, but it now has checksum %s: the data changed; sweep into a new --out folder, or move the results*.jsonl files away to compute every cell again (no cell was run)", stale, dir, name, was, now)
	}
	return nil
}

// removeOrphans deletes the temporary model files (models/.ID.safetensors.tmp-*)
// that a killed run left for the cells of this shard (every cell when
// unsharded). Temporary files of other shards' cells are theirs: a shard
// running beside this one may be writing them.
func removeOrphans(dir string, cells []Cell, shard, shards int, log io.Writer) {
	tmps, _ := filepath.Glob(filepath.Join(dir, "models", ".*.safetensors.tmp-*"))
	if len(tmps) == 0 {
		return
	}
	mine := map[string]bool{}
	for _, c := range cells {
		if shards <= 1 || c.Group%shards == shard {
			mine[c.ID] = true
		}
	}
	n := 0
	for _, t := range tmps {
		id, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(t), "."), ".safetensors.tmp-")
		if mine[id] && os.Remove(t) == nil {
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(log, "sweep: removed %d temporary model file(s) left by an interrupted run\n", n)
	}
}

// runCell runs one cell, turning a panic into an error and checking that a
// float cell wrote its model.
func runCell(ctx context.Context, r Runner, c Cell, env *Env) (rec results.Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			stack := string(debug.Stack())
			if len(stack) > 2000 {
				stack = stack[:2000]
			}
			err = fmt.Errorf("panic: %v\n%s", p, stack)
		}
	}()
	rec, err = r.Run(ctx, c, env)
	if err == nil && c.Parent == "" && !fileExists(env.ModelPath(c.ID)) {
		err = fmt.Errorf("sweep: runner did not write the float model %s", env.ModelPath(c.ID))
	}
	return rec, err
}

// fill sets the identity fields of rec from the cell, and its status.
func fill(c Cell, rec results.Record, err error) results.Record {
	k := c.Config
	if err != nil {
		// Keep identity and provenance only: a failed cell has no numbers.
		rec = results.Record{Model: rec.Model, DatasetChecksum: rec.DatasetChecksum, Version: rec.Version, CPU: rec.CPU, Kernels: rec.Kernels}
		rec.Status, rec.Reason = results.StatusFailed, err.Error()
	} else {
		rec.Status, rec.Reason = results.StatusOK, ""
	}
	rec.ID, rec.ParentID = c.ID, c.Parent
	if rec.Version == "" {
		rec.Version = version.String()
	}
	rec.Dataset, rec.Family, rec.Mode, rec.Bits, rec.Seed = k.Dataset, k.Family, k.Mode, k.Bits, k.Seed
	rec.Width, rec.Depth, rec.Scale = k.Width, k.Depth, k.Scale
	rec.Config = k.Map()
	return rec
}

// outOfSpace reports whether err means the output device is full or
// read-only, a condition no later cell can escape.
func outOfSpace(err error) bool {
	return err != nil && (errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS))
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// prefixWriter writes whole lines to w with a prefix, under a shared mutex,
// so that the lines of cells running side by side do not interleave.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexAny(p.buf, "\n\r")
		if i < 0 {
			break
		}
		line := p.buf[:i]
		if len(bytes.TrimSpace(line)) > 0 {
			p.mu.Lock()
			fmt.Fprintf(p.w, "%s%s\n", p.prefix, line)
			p.mu.Unlock()
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

// cost is a rough relative estimate of a cell's compute, for the ETA:
// training epochs times a size proxy (for an MLP its weights for an
// MNIST-sized input plus a fixed per-sample cost, fitted to measured epoch
// times of widths 32..256; for a CNN a fixed part plus the squared map
// multiplier); a direct cell costs about a tenth of an epoch.
func (c Cell) cost() float64 {
	k := c.Config
	size := float64(k.Width)*(float64(k.Width)*float64(max(k.Depth-1, 0))+800) + 30000
	if k.Family == "cnn" {
		// In base-CNN epochs: the multiply-adds grow with scale^2, but
		// small networks keep a fixed cost (im2col, pooling, small GEMMs):
		// measured on Fashion-MNIST, an x0.25 epoch costs about 1/6 of an
		// x1 epoch, not 1/16.
		size = 0.2 + 0.8*k.Scale*k.Scale
	}
	switch k.Mode {
	case ModeFloat:
		return size * float64(k.Float.Epochs)
	case ModeRetrain:
		return size * float64(k.Retrain.Epochs)
	}
	return size * 0.1
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
