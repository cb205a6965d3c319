package sweep

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/resq-dev/resq/results"
)

// killSpec: 4 widths x 2 seeds = 8 groups, 40 cells.
const killSpec = `dataset: mnist
mlp: {widths: [32, 64, 128, 256], depths: [2]}
bits: [2, 3]
seeds: [1, 2]
`

const helperEnv = "RESQ_SWEEP_KILL_HELPER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(killHelper(dir))
	}
	os.Exit(m.Run())
}

// killHelper is the child process of TestSIGKILLResume: a sweep whose
// cells take a few milliseconds each.
func killHelper(dir string) int {
	spec, err := ParseSpec("spec.yaml", []byte(killSpec))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	f := newFake()
	f.sleep = func(c Cell) time.Duration {
		h := fnv.New32a()
		h.Write([]byte(c.ID))
		return time.Duration(10+h.Sum32()%30) * time.Millisecond
	}
	if _, err := Run(context.Background(), spec, dir, RunOptions{Runner: f, Workers: 2}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestSIGKILLResume kills a sweep process with SIGKILL at random moments,
// restarts it each time, and checks that in the end every cell finished
// exactly once, no record is torn or duplicated, and the merged results
// equal an uninterrupted run's.
func TestSIGKILLResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ~25 processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 11))
	kills, midway, finished := 0, 0, false
	for round := 0; round < 60 && !finished; round++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Kill once the sweep has recorded 0 or 1 more cells, plus a
		// random delay: kills land during start-up, inside cells and
		// around record writes, and every round makes some progress.
		target := lines(dir) + rng.IntN(2)
		delay := time.Duration(rng.IntN(15000)) * time.Microsecond
		var killAt chan struct{} // nil after enough kills: let it finish
		if kills < 25 {
			killAt = make(chan struct{})
			go func() {
				defer close(killAt)
				for t0 := time.Now(); lines(dir) < target && time.Since(t0) < 10*time.Second; {
					time.Sleep(time.Millisecond)
				}
				time.Sleep(delay)
			}()
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("round %d: helper failed: %v\n%s", round, err, stderr.String())
			}
			finished = true
		case <-killAt:
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			kills++
			if recs, _, err := results.ReadFileTorn(filepath.Join(dir, "results.jsonl")); err == nil && len(recs) > 0 && len(recs) < 40 {
				midway++
			}
		}
	}
	if !finished {
		t.Fatal("the sweep never finished")
	}
	t.Logf("%d SIGKILLs before the sweep finished, %d of them midway", kills, midway)
	if kills < 20 || midway < 10 {
		t.Fatalf("only %d kills, %d midway: the test does not test much", kills, midway)
	}

	// Raw lines: every cell exactly once, all ok, nothing torn.
	raw, torn, err := results.ReadFileTorn(filepath.Join(dir, "results.jsonl"))
	if err != nil || torn != 0 {
		t.Fatalf("results file: torn %d, err %v", torn, err)
	}
	spec := mustSpec(t, killSpec)
	cells, _ := spec.Cells()
	seen := map[string]int{}
	for _, r := range raw {
		if r.Status != "ok" {
			t.Fatalf("record %+v", r)
		}
		seen[r.ID]++
	}
	for _, c := range cells {
		if seen[c.ID] != 1 {
			t.Fatalf("cell %s recorded %d times", c.Label(), seen[c.ID])
		}
	}
	if len(raw) != len(cells) {
		t.Fatalf("%d records for %d cells", len(raw), len(cells))
	}
	ref := t.TempDir()
	if _, err := Run(context.Background(), spec, ref, RunOptions{Runner: newFake()}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stripTimings(readAll(t, dir)), stripTimings(readAll(t, ref))) {
		t.Fatal("results after kills differ from an uninterrupted run")
	}
	// No temporary model files left behind matter, but models must all be whole.
	for _, c := range cells {
		if c.Parent == "" {
			b, err := os.ReadFile(filepath.Join(dir, "models", c.ID+".safetensors"))
			if err != nil || string(b) != c.ID {
				t.Fatalf("model of %s: %q %v", c.Label(), b, err)
			}
		}
	}
}

// lines counts the complete lines of the results file in dir.
func lines(dir string) int {
	b, _ := os.ReadFile(filepath.Join(dir, "results.jsonl"))
	return bytes.Count(b, []byte{'\n'})
}
