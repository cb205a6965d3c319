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
	r, err := newRun(spec, dir, opt)
	if err != nil {
		return nil, err
	}
	unlock, err := r.open()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := r.plan(); err != nil {
		return nil, err
	}
	r.announce()
	prevThreads := tensor.Threads()
	defer setThreads(prevThreads)
	defer r.bar.Finish()
	fatal := r.schedule(ctx)
	return r.finish(ctx, fatal)
}

// run is one Run: its options, its plan and what it did so far.
type run struct {
	start   time.Time
	spec    *Spec
	dir     string
	opt     RunOptions
	logw    io.Writer
	cells   []Cell
	ncpu    int
	workers int
	resPath string
	env     *Env
	checker Checker

	// The plan (see plan).
	prior         []results.Record
	okIDs         map[string]bool
	torn          int
	deps          map[string][]Cell // float ID -> dependents still to run
	floats, ready []Cell
	toRun         int

	// Progress.
	sum                 *Summary
	finished            int
	totalCost, doneCost float64 // for the ETA
	bar                 *progress.Bar
	logMu               sync.Mutex
}

// newRun checks the options and resolves the worker count.
func newRun(spec *Spec, dir string, opt RunOptions) (*run, error) {
	r := &run{start: time.Now(), spec: spec, dir: dir, opt: opt, ncpu: runtime.GOMAXPROCS(0)}
	if opt.Runner == nil {
		return nil, errors.New("sweep: RunOptions.Runner is nil")
	}
	if r.opt.Shards <= 0 {
		r.opt.Shards = 1
	}
	if r.opt.Shard < 0 || r.opt.Shard >= r.opt.Shards {
		return nil, fmt.Errorf("sweep: shard %d of %d: want 0 <= shard < %d (shards are numbered from 0)", r.opt.Shard, r.opt.Shards, r.opt.Shards)
	}
	r.logw = opt.Log
	if r.logw == nil {
		r.logw = io.Discard
	}
	cells, err := spec.Cells()
	if err != nil {
		return nil, err
	}
	r.cells = cells
	r.workers = opt.Workers
	if r.workers <= 0 {
		r.workers = spec.Workers
	}
	if r.workers <= 0 {
		r.workers = r.ncpu
	}
	r.resPath = ResultsFile(dir, r.opt.Shard, r.opt.Shards)
	r.env = &Env{Dir: dir, Spec: spec}
	r.checker, _ = opt.Runner.(Checker)
	r.sum = &Summary{Cells: len(cells), Results: r.resPath, Cores: r.ncpu}
	return r, nil
}

// open makes the output folder, takes the run's locks, writes the resolved
// spec and reads the records already there. unlock releases the locks.
func (r *run) open() (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Join(r.dir, "models"), 0o755); err != nil {
		return nil, fmt.Errorf("sweep: output folder: %v", err)
	}
	unlockRun, err := lockRun(r.dir, r.opt.Shards)
	if err != nil {
		return nil, err
	}
	unlockFile, err := lockFile(strings.TrimSuffix(r.resPath, ".jsonl") + ".lock")
	if err != nil {
		unlockRun()
		return nil, err
	}
	unlock = func() { unlockFile(); unlockRun() }
	if err := atomicfile.WriteFile(filepath.Join(r.dir, "sweep.yaml"), func(w io.Writer) error {
		_, err := io.WriteString(w, r.spec.String())
		return err
	}); err != nil {
		unlock()
		return nil, fmt.Errorf("sweep: %v", err)
	}
	prior, st, err := results.ReadDirStats(r.dir)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("sweep: cannot resume: %v", err)
	}
	r.prior, r.torn = prior, st.Torn
	r.okIDs = map[string]bool{}
	for _, rec := range prior {
		if rec.Status == results.StatusOK {
			r.okIDs[rec.ID] = true
		}
	}
	removeOrphans(r.dir, r.cells, r.opt.Shard, r.opt.Shards, r.logw)
	return unlock, nil
}

// mine reports whether cell c belongs to this shard.
func (r *run) mine(c Cell) bool { return r.opt.Shards <= 1 || c.Group%r.opt.Shards == r.opt.Shard }

// plan decides, for this shard's groups, what is done and what is to run:
// float cells without an ok record (or whose saved model its dependents
// cannot use), and the dependents ready now or once their float cell is
// done; then the Checker's preflight.
func (r *run) plan() error {
	r.deps = map[string][]Cell{}
	for _, c := range r.cells {
		if !r.mine(c) {
			continue
		}
		r.sum.Total++
		if c.Parent != "" && !r.okIDs[c.ID] {
			r.deps[c.Parent] = append(r.deps[c.Parent], c)
		}
	}
	for _, c := range r.cells {
		if c.Parent != "" || !r.mine(c) {
			continue
		}
		needModel := len(r.deps[c.ID]) > 0 && r.okIDs[c.ID] && !modelUsable(r.checker, c, r.env, r.logw)
		if !r.okIDs[c.ID] || needModel {
			r.floats = append(r.floats, c)
		} else {
			r.ready = append(r.ready, r.deps[c.ID]...)
			delete(r.deps, c.ID)
		}
	}
	if r.checker != nil {
		if err := preflight(r.checker, r.cells, r.prior, r.floats, r.dir); err != nil {
			return err
		}
	}
	r.toRun = len(r.floats) + len(r.ready)
	for _, c := range r.floats {
		r.totalCost += c.cost()
	}
	for _, c := range r.ready {
		r.totalCost += c.cost()
	}
	for _, ds := range r.deps {
		r.toRun += len(ds)
		for _, c := range ds {
			r.totalCost += c.cost()
		}
	}
	r.sum.Skipped = r.sum.Total - r.toRun
	return nil
}

// announce prints the plan and starts the progress bar.
func (r *run) announce() {
	shardNote := ""
	if r.opt.Shards > 1 {
		shardNote = fmt.Sprintf(" (shard %d/%d: %d)", r.opt.Shard, r.opt.Shards, r.sum.Total)
	}
	fmt.Fprintf(r.logw, "sweep %s: %d cells%s, %d done, %d to run, up to %d workers on %d cores -> %s\n",
		r.spec.Name, len(r.cells), shardNote, r.sum.Skipped, r.toRun, r.workers, r.ncpu, r.resPath)
	if r.torn > 0 {
		fmt.Fprintf(r.logw, "sweep: ignored %d torn line(s) left by an interrupted run\n", r.torn)
	}
	if r.opt.Progress {
		r.bar = progress.New(r.logw, int64(r.toRun), "sweep "+r.spec.Name)
	}
}

// cellLog is where cell c's own progress lines go.
func (r *run) cellLog(c Cell) io.Writer {
	if !r.opt.Verbose || r.bar.Active() {
		return io.Discard
	}
	return &prefixWriter{mu: &r.logMu, w: r.logw, prefix: "  [" + c.Label() + "] "}
}

// say prints a progress line, unless a progress bar draws instead.
func (r *run) say(format string, args ...any) {
	if r.bar.Active() {
		return
	}
	r.logMu.Lock()
	fmt.Fprintf(r.logw, format, args...)
	r.logMu.Unlock()
}

// schedule runs the planned cells, at most workers at once, dependents
// before new float cells, setting the GEMM threads to the cores per running
// cell, and records each as it finishes. It returns the error that stopped
// it (a full disk, a results file it cannot write), else nil.
func (r *run) schedule(ctx context.Context) error {
	ledger := &coreLedger{cores: float64(r.ncpu), last: time.Now(), share: map[int]float64{}}
	doneCh := make(chan done)
	running := 0
	var fatal error
	for {
		for fatal == nil && ctx.Err() == nil && running < r.workers && (len(r.ready) > 0 || len(r.floats) > 0) {
			var c Cell
			if len(r.ready) > 0 { // dependents first: they finish groups
				c, r.ready = r.ready[0], r.ready[1:]
			} else {
				c, r.floats = r.floats[0], r.floats[1:]
			}
			running++
			setThreads(max(1, r.ncpu/running))
			cenv := *r.env
			cenv.Log = r.cellLog(c)
			t0 := time.Now()
			id := ledger.start(t0)
			go func() {
				rec, err := runCell(ctx, r.opt.Runner, c, &cenv)
				doneCh <- done{c, rec, err, time.Since(t0).Seconds(), id}
			}()
		}
		if running == 0 {
			return fatal
		}
		d := <-doneCh
		if core := ledger.stop(time.Now(), d.id); d.err == nil && d.secs > 0 {
			r.sum.TrainCoreSeconds += core * min(1, d.rec.TrainSeconds/d.secs)
		}
		running--
		if running > 0 {
			setThreads(max(1, r.ncpu/running))
		}
		if fatal != nil {
			continue
		}
		if d.err != nil && ctx.Err() != nil {
			continue // interrupted, not failed: the next run redoes it
		}
		fatal = r.done(d)
	}
}

// done records a finished cell and, for a float cell, releases its
// dependents (or records them failed when it failed).
func (r *run) done(d done) error {
	if err := r.record(d.cell, d.rec, d.err, d.secs); err != nil {
		return err
	}
	if d.cell.Parent != "" {
		return nil
	}
	ds := r.deps[d.cell.ID]
	delete(r.deps, d.cell.ID)
	if d.err == nil {
		r.ready = append(r.ready, ds...)
		return nil
	}
	for _, c := range ds {
		if err := r.record(c, results.Record{}, fmt.Errorf("%s: %s", FloatFailed, firstLine(d.err.Error())), 0); err != nil {
			return err
		}
	}
	return nil
}

// record appends the record of cell c (failed when runErr is not nil) and
// prints its progress line.
func (r *run) record(c Cell, rec results.Record, runErr error, secs float64) error {
	if outOfSpace(runErr) {
		// Every later cell would fail the same way: stop, keep what is done.
		return fmt.Errorf("sweep: %s: %v (free space in %s, then rerun the same command to resume)", c.Label(), runErr, r.dir)
	}
	rec = fill(c, rec, runErr)
	if err := results.Append(r.resPath, rec); err != nil {
		return fmt.Errorf("sweep: %v", err)
	}
	r.finished++
	r.sum.Ran++
	if rec.Status == results.StatusOK {
		r.sum.OK++
	} else {
		r.sum.Failed++
	}
	r.bar.Add(1)
	r.doneCost += c.cost()
	eta := ""
	if left := r.totalCost - r.doneCost; r.finished < r.toRun && r.doneCost > 0 {
		el := time.Since(r.start).Seconds()
		eta = fmt.Sprintf("  eta %s", (time.Duration(el*left/r.doneCost) * time.Second).Round(time.Second))
	}
	if rec.Status == results.StatusOK {
		r.say("sweep: [%d/%d] ok     %-32s err %6.2f%%  %5.1fs%s\n", r.finished, r.toRun, c.Label(), rec.TestErrPct, secs, eta)
	} else {
		// Failures are printed even under a progress bar (it redraws).
		r.logMu.Lock()
		fmt.Fprintf(r.logw, "sweep: [%d/%d] FAILED %-32s %s%s\n", r.finished, r.toRun, c.Label(), firstLine(rec.Reason), eta)
		r.logMu.Unlock()
	}
	return nil
}

// finish times the run and, when it was neither stopped nor interrupted,
// lets a Finisher runner do its work alone on the machine and prints the
// summary lines.
func (r *run) finish(ctx context.Context, fatal error) (*Summary, error) {
	sum := r.sum
	sum.Seconds = time.Since(r.start).Seconds()
	sum.CoreSeconds = float64(r.ncpu) * sum.Seconds
	if fatal != nil {
		return sum, fatal
	}
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("sweep: interrupted (%v) after %d of %d cells; run again to resume", err, r.finished, r.toRun)
	}
	r.bar.Finish()
	if f, ok := r.opt.Runner.(Finisher); ok {
		setThreads(r.ncpu) // alone on the machine: every core
		if err := f.Finish(ctx, r.env, r.resPath, r.logw); err != nil {
			return sum, err
		}
	}
	fmt.Fprintf(r.logw, "sweep %s: %d ran (%d ok, %d failed), %d were done already, %.1fs -> %s\n",
		r.spec.Name, sum.Ran, sum.OK, sum.Failed, sum.Skipped, sum.Seconds, r.resPath)
	if over, ok := sum.Overhead(); ok {
		fmt.Fprintf(r.logw, "sweep %s: training used %.0f of %.0f core-seconds (%d cores x %.1fs); overhead %.1f%% of training\n",
			r.spec.Name, sum.TrainCoreSeconds, sum.CoreSeconds, r.ncpu, sum.Seconds, 100*over)
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
	rec.Sparsity, rec.BitsPerLayer = k.Sparsity, k.BitsPerLayer
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
