package sweep

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"sync"
	"time"

	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/tensor"
)

// fakeRunner computes cells instantly (or after a short sleep) with
// results derived from the cell config, writes a small "model" file for
// float cells and checks that dependents find their parent's.
type fakeRunner struct {
	sleep   func(c Cell) time.Duration
	fail    func(c Cell) error // non-nil error fails the cell
	panicOn func(c Cell) bool

	mu       sync.Mutex
	calls    map[string]int
	running  int
	maxRun   int
	overSubs []string // observations of running*threads > cores
	cores    int
}

func newFake() *fakeRunner { return &fakeRunner{calls: map[string]int{}} }

func (f *fakeRunner) Run(ctx context.Context, c Cell, env *Env) (results.Record, error) {
	f.mu.Lock()
	f.calls[c.ID]++
	f.running++
	f.maxRun = max(f.maxRun, f.running)
	if f.cores > 0 && f.running*tensor.Threads() > f.cores {
		f.overSubs = append(f.overSubs, fmt.Sprintf("%d running x %d threads", f.running, tensor.Threads()))
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running--
		f.mu.Unlock()
	}()
	if f.panicOn != nil && f.panicOn(c) {
		panic("fake: shape mismatch")
	}
	if f.sleep != nil {
		select {
		case <-time.After(f.sleep(c)):
		case <-ctx.Done():
			return results.Record{}, ctx.Err()
		}
	}
	if f.fail != nil {
		if err := f.fail(c); err != nil {
			return results.Record{}, err
		}
	}
	if c.Parent != "" {
		b, err := os.ReadFile(env.ModelPath(c.Parent))
		if err != nil {
			return results.Record{}, err
		}
		if string(b) != c.Parent {
			return results.Record{}, fmt.Errorf("fake: model file holds %q, want %q", b, c.Parent)
		}
	} else {
		err := atomicfile.WriteFile(env.ModelPath(c.ID), func(w io.Writer) error {
			_, err := io.WriteString(w, c.ID)
			return err
		})
		if err != nil {
			return results.Record{}, err
		}
	}
	h := fnv.New64a()
	h.Write([]byte(c.ID))
	w := int64(784*c.Config.Width + c.Config.Width*10)
	fmt.Fprintf(env.Log, "epoch 1/1 loss 0.5\n")
	return results.Record{
		Model: fmt.Sprintf("mlp:784-%dx%d-10", c.Config.Width, c.Config.Depth), DatasetChecksum: "sha256:fake",
		Weights: w, Params: w + 10, StoredBytes: w * int64(c.Config.Bits) / 8,
		TestErrPct: float64(h.Sum64()%10000) / 100, TrainSeconds: 0.001 * float64(time.Now().Nanosecond()%7),
	}, nil
}

func (f *fakeRunner) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

func (f *fakeRunner) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.calls {
		n += v
	}
	return n
}

var errDiverged = errors.New("train: epoch 2 batch 17: loss is NaN (learning rate 10 too high?)")
