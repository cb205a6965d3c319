package sweep

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/tensor"
)

// smallSpec has 2 widths x 1 depth x 2 seeds = 4 groups of 5 cells.
const smallSpec = `dataset: mnist
mlp: {widths: [32, 64], depths: [2]}
bits: [2, 3]
seeds: [1, 2]
`

func mustSpec(t testing.TB, src string) *Spec {
	t.Helper()
	s, err := ParseSpec("spec.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stripTimings zeroes what legitimately differs between runs.
func stripTimings(recs []results.Record) []results.Record {
	out := append([]results.Record(nil), recs...)
	for i := range out {
		out[i].TrainSeconds, out[i].EvalSeconds = 0, 0
	}
	return out
}

func readAll(t testing.TB, dir string) []results.Record {
	t.Helper()
	recs, err := results.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestRunAndResume(t *testing.T) {
	spec := mustSpec(t, smallSpec)
	dir := t.TempDir()
	f := newFake()
	var log bytes.Buffer
	sum, err := Run(context.Background(), spec, dir, RunOptions{Runner: f, Log: &log, Workers: 2, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != 20 || sum.Ran != 20 || sum.OK != 20 || sum.Skipped != 0 || sum.Failed != 0 {
		t.Fatalf("first run: %+v\n%s", sum, log.String())
	}
	recs := readAll(t, dir)
	if len(recs) != 20 {
		t.Fatalf("%d records, want 20", len(recs))
	}
	cells, _ := spec.Cells()
	for _, c := range cells {
		if n := f.count(c.ID); n != 1 {
			t.Fatalf("cell %s ran %d times", c.Label(), n)
		}
	}
	for _, r := range recs {
		if r.Status != "ok" || r.Version == "" || r.Config["mode"] != r.Mode || (r.Mode != "float") != (r.ParentID != "") {
			t.Fatalf("record %+v", r)
		}
	}
	if !strings.Contains(log.String(), "[20/20] ok") || !strings.Contains(log.String(), "epoch 1/1") {
		t.Fatalf("log:\n%s", log.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "sweep.yaml")); err != nil {
		t.Fatal(err)
	}

	// Again: nothing runs.
	f2 := newFake()
	sum, err = Run(context.Background(), spec, dir, RunOptions{Runner: f2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ran != 0 || sum.Skipped != 20 || f2.total() != 0 {
		t.Fatalf("second run: %+v, %d runner calls", sum, f2.total())
	}

	// A lost float model: its float cell re-runs, then its new dependents.
	os.Remove(filepath.Join(dir, "models", cells[0].ID+".safetensors"))
	lines, _ := results.ReadFile(filepath.Join(dir, "results.jsonl"))
	for i, r := range lines { // drop the record of one dependent of group 0
		if r.ID == cells[1].ID {
			continue
		}
		results.Append(filepath.Join(dir, "kept.tmp"), lines[i])
	}
	os.Rename(filepath.Join(dir, "kept.tmp"), filepath.Join(dir, "results.jsonl"))
	f3 := newFake()
	sum, err = Run(context.Background(), spec, dir, RunOptions{Runner: f3})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ran != 2 || sum.Skipped != 18 || f3.count(cells[0].ID) != 1 || f3.count(cells[1].ID) != 1 || f3.total() != 2 {
		t.Fatalf("after losing a model: %+v, calls %v", sum, f3.calls)
	}
	if got := readAll(t, dir); !reflect.DeepEqual(stripTimings(got), stripTimings(recs)) {
		t.Fatal("records changed after re-running a lost model")
	}
}

func TestRunFailures(t *testing.T) {
	spec := mustSpec(t, smallSpec)
	cells, _ := spec.Cells()
	badFloat := cells[5].ID // float cell of group 1
	badDirect := cells[1].ID
	f := newFake()
	f.fail = func(c Cell) error {
		if c.ID == badFloat {
			return errDiverged
		}
		return nil
	}
	f.panicOn = func(c Cell) bool { return c.ID == badDirect }
	dir := t.TempDir()
	sum, err := Run(context.Background(), spec, dir, RunOptions{Runner: f, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ran != 20 || sum.Failed != 6 || sum.OK != 14 {
		t.Fatalf("summary %+v", sum)
	}
	byID := map[string]results.Record{}
	for _, r := range readAll(t, dir) {
		byID[r.ID] = r
	}
	if r := byID[badFloat]; r.Status != "failed" || r.Reason != errDiverged.Error() {
		t.Fatalf("failed float record %+v", r)
	}
	for _, c := range cells[6:10] {
		r := byID[c.ID]
		if r.Status != "failed" || !strings.HasPrefix(r.Reason, FloatFailed+": train: epoch 2") || r.Mode != c.Config.Mode {
			t.Fatalf("dependent of failed float: %+v", r)
		}
		if f.count(c.ID) != 0 {
			t.Fatalf("dependent of failed float ran")
		}
	}
	if r := byID[badDirect]; r.Status != "failed" || !strings.HasPrefix(r.Reason, "panic: fake: shape mismatch") {
		t.Fatalf("panicking cell %+v", r)
	}
	// A rerun retries the failures; now they succeed.
	f2 := newFake()
	sum, err = Run(context.Background(), spec, dir, RunOptions{Runner: f2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ran != 6 || sum.OK != 6 || f2.total() != 6 {
		t.Fatalf("retry: %+v", sum)
	}
	for _, r := range readAll(t, dir) {
		if r.Status != "ok" {
			t.Fatalf("after retry: %+v", r)
		}
	}
}

func TestShardsMergeEqualsOneRun(t *testing.T) {
	spec := mustSpec(t, strings.Replace(smallSpec, "[32, 64]", "[32, 64, 128]", 1)) // 6 groups, 30 cells
	one := t.TempDir()
	if _, err := Run(context.Background(), spec, one, RunOptions{Runner: newFake(), Workers: 1}); err != nil {
		t.Fatal(err)
	}
	sharded := t.TempDir()
	f := newFake()
	total := 0
	for i := range 3 {
		sum, err := Run(context.Background(), spec, sharded, RunOptions{Runner: f, Shard: i, Shards: 3, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		total += sum.Ran
		if _, err := os.Stat(ResultsFile(sharded, i, 3)); err != nil {
			t.Fatal(err)
		}
	}
	if total != 30 || f.total() != 30 {
		t.Fatalf("shards ran %d cells (%d calls), want 30", total, f.total())
	}
	a, b := stripTimings(readAll(t, one)), stripTimings(readAll(t, sharded))
	if len(a) != 30 || !reflect.DeepEqual(a, b) {
		t.Fatalf("merged shards differ from one run: %d vs %d records", len(a), len(b))
	}
	if _, err := Run(context.Background(), spec, sharded, RunOptions{Runner: f, Shard: 3, Shards: 3}); err == nil {
		t.Fatal("shard 3/3: no error")
	}
}

func TestWorkersDoNotChangeResults(t *testing.T) {
	spec := mustSpec(t, smallSpec)
	var got [][]results.Record
	for _, w := range []int{1, 2, 3} {
		dir := t.TempDir()
		f := newFake()
		f.cores = runtime.GOMAXPROCS(0)
		f.sleep = func(c Cell) time.Duration { return time.Millisecond }
		if _, err := Run(context.Background(), spec, dir, RunOptions{Runner: f, Workers: w}); err != nil {
			t.Fatal(err)
		}
		if f.maxRun > w {
			t.Fatalf("workers %d: %d cells ran at once", w, f.maxRun)
		}
		if w <= f.cores && len(f.overSubs) > 0 {
			t.Fatalf("workers %d on %d cores: oversubscribed: %v", w, f.cores, f.overSubs)
		}
		got = append(got, stripTimings(readAll(t, dir)))
	}
	if !reflect.DeepEqual(got[0], got[1]) || !reflect.DeepEqual(got[0], got[2]) {
		t.Fatal("results depend on the number of workers")
	}
}

func TestRunCancel(t *testing.T) {
	spec := mustSpec(t, smallSpec)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	f := newFake()
	n := 0
	f.sleep = func(c Cell) time.Duration {
		f.mu.Lock() // sleep is called with f.mu released; count calls
		n++
		k := n
		f.mu.Unlock()
		if k == 3 {
			cancel()
		}
		return 5 * time.Millisecond
	}
	sum, err := Run(ctx, spec, dir, RunOptions{Runner: f, Workers: 1})
	if err == nil || !errors.Is(ctx.Err(), context.Canceled) || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err %v", err)
	}
	recs := readAll(t, dir)
	for _, r := range recs {
		if r.Status != "ok" {
			t.Fatalf("an interrupted cell was recorded: %+v", r)
		}
	}
	if sum.Ran != len(recs) || len(recs) != 2 {
		t.Fatalf("summary %+v, %d records", sum, len(recs))
	}
	sum, err = Run(context.Background(), spec, dir, RunOptions{Runner: newFake()})
	if err != nil || sum.Ran != 18 {
		t.Fatalf("resume: %+v %v", sum, err)
	}
}

func TestRunLocked(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no flock")
	}
	spec := mustSpec(t, smallSpec)
	dir := t.TempDir()
	unlock, err := lockFile(filepath.Join(dir, "results.lock"))
	if err != nil {
		t.Fatal(err)
	}
	// flock locks are per open file description, so a second lock from the
	// same process conflicts too.
	_, err = Run(context.Background(), spec, dir, RunOptions{Runner: newFake()})
	unlock()
	if err == nil || !strings.Contains(err.Error(), "another resq sweep") {
		t.Fatalf("err %v", err)
	}
	if _, err := Run(context.Background(), spec, dir, RunOptions{Runner: newFake()}); err != nil {
		t.Fatal(err)
	}
}

func TestRunBadFolder(t *testing.T) {
	spec := mustSpec(t, smallSpec)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	_, err := Run(context.Background(), spec, filepath.Join(file, "sub"), RunOptions{Runner: newFake()})
	if err == nil || !strings.HasPrefix(err.Error(), "sweep: ") {
		t.Fatalf("err %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "results.jsonl"), []byte("{\"id\":\"a\"}\ngarbage\n{\"id\":\"b\"}\n"), 0o644)
	_, err = Run(context.Background(), spec, dir, RunOptions{Runner: newFake()})
	if err == nil || !strings.Contains(err.Error(), "results.jsonl:2") {
		t.Fatalf("corrupt results: err %v", err)
	}
}

// A lone ready cell gets every GEMM thread; side by side, cells share them.
func TestThreadsFollowReadyCells(t *testing.T) {
	cores := runtime.GOMAXPROCS(0)
	if cores < 2 {
		t.Skip("needs GOMAXPROCS >= 2")
	}
	spec := mustSpec(t, "dataset: mnist\nmlp: {widths: [32], depths: [2]}\nbits: [2, 3]\n") // 1 group
	f := newFake()
	f.cores = cores
	threads := map[string]int{}
	f.sleep = func(c Cell) time.Duration {
		f.mu.Lock()
		threads[c.Config.Mode] = max(threads[c.Config.Mode], tensor.Threads())
		f.mu.Unlock()
		return 3 * time.Millisecond
	}
	if _, err := Run(context.Background(), spec, t.TempDir(), RunOptions{Runner: f, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	if threads[ModeFloat] != cores {
		t.Fatalf("the lone float cell ran with %d GEMM threads, want %d", threads[ModeFloat], cores)
	}
	if f.maxRun != 2 || len(f.overSubs) > 0 {
		t.Fatalf("dependents: at most %d at once, oversubscribed: %v", f.maxRun, f.overSubs)
	}
}

// TestRunShardLocks checks who may sweep a folder at once: the shards of
// one run may, an unsharded run and a sharded one may not, and a shard
// whose process died (its locks released) runs again.
func TestRunShardLocks(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no flock")
	}
	spec := mustSpec(t, smallSpec)
	dir := t.TempDir()
	shard := func(i, n int) error {
		_, err := Run(context.Background(), spec, dir, RunOptions{Runner: newFake(), Shard: i, Shards: n})
		return err
	}

	// An unsharded run is in progress: no shard may start.
	unlock, err := lockRun(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := shard(0, 3); err == nil || !strings.Contains(err.Error(), "an unsharded sweep") {
		t.Errorf("shard 0/3 beside an unsharded run: %v", err)
	}
	unlock()

	// Shard 0 of 3 is in progress: shard 1 runs beside it, an unsharded run
	// and a run with another shard count do not.
	unlockRun, err := lockRun(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	unlockShard, err := lockFile(filepath.Join(dir, "results-shard-0-of-3.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := shard(1, 3); err != nil {
		t.Errorf("shard 1/3 beside shard 0/3: %v", err)
	}
	if err := shard(0, 1); err == nil || !strings.Contains(err.Error(), "a sweep with 3 shards") {
		t.Errorf("unsharded run beside shard 0/3: %v", err)
	}
	if err := shard(0, 2); err == nil || !strings.Contains(err.Error(), "a sweep with 3 shards") {
		t.Errorf("shard 0/2 beside shard 0/3: %v", err)
	}
	if err := shard(0, 3); err == nil || !strings.Contains(err.Error(), "another resq sweep") {
		t.Errorf("a second shard 0/3: %v", err)
	}
	// Shard 0's process dies: its locks go, and it is requeued.
	unlockShard()
	unlockRun()
	if err := shard(0, 3); err != nil {
		t.Errorf("requeued shard 0/3: %v", err)
	}
	if err := shard(0, 1); err != nil {
		t.Errorf("unsharded run after the shards: %v", err)
	}
}
