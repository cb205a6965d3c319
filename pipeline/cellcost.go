package pipeline

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/sweep"
)

// latencyQueue holds the models of the cells run so far whose latency is
// still to be measured: packed bytes for quantized cells (retrained models
// are not kept on disk), the checkpoint path for float cells.
type latencyQueue struct {
	mu     sync.Mutex
	packed map[string][]byte
	float  map[string]string
}

func (q *latencyQueue) addPacked(id string, b []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.packed == nil {
		q.packed = map[string][]byte{}
	}
	q.packed[id] = b
}

func (q *latencyQueue) addFloat(id, path string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.float == nil {
		q.float = map[string]string{}
	}
	q.float[id] = path
}

// take empties the queue and returns its contents.
func (q *latencyQueue) take() (map[string][]byte, map[string]string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	p, f := q.packed, q.float
	q.packed, q.float = nil, nil
	return p, f
}

// costFloat sets the cost figures of a float cell's record and queues its
// checkpoint for latency.
func (r *CellRunner) costFloat(c sweep.Cell, env *sweep.Env, m *nn.Model, rec *results.Record) error {
	f, err := cost.Of(m, nil, r.opt.Packed, cost.DefaultBatch, r.opt.CostTable)
	if err != nil {
		// A model the packed engine cannot describe has no cost figures;
		// its error and size are still measured.
		fmt.Fprintf(env.Log, "cost: %v\n", err)
		return nil
	}
	rec.Cost = f
	if r.opt.MeasureLatency {
		r.lat.addFloat(c.ID, env.ModelPath(c.ID))
	}
	return nil
}

// costQuant sets the cost figures of a quantized cell's record from the
// codes in memory and, for latency, keeps its packed bytes.
func (r *CellRunner) costQuant(c sweep.Cell, m *nn.Model, s *quant.State, rec *results.Record) error {
	f, err := cost.Of(m, s, r.packedOptions(c.Config), cost.DefaultBatch, r.opt.CostTable)
	if err != nil {
		return nil // see costFloat
	}
	rec.Cost = f
	if r.opt.MeasureLatency {
		b, err := packed.Marshal(m, s, packed.Meta{Options: r.packedOptions(c.Config)})
		if err == nil {
			r.lat.addPacked(c.ID, b)
		}
	}
	return nil
}

// Finish measures the latency of the models queued by the cells of this
// run, one at a time, and appends it to the costs file of resultsPath
// (results.CostsFile), where results.ReadDir attaches it to the records.
func (r *CellRunner) Finish(ctx context.Context, env *sweep.Env, resultsPath string, log io.Writer) error {
	pk, fl := r.lat.take()
	if len(pk)+len(fl) == 0 {
		return nil
	}
	fmt.Fprintf(log, "sweep: measuring latency of %d models at batch 1 and 100 (no cell running)\n", len(pk)+len(fl))
	out := results.CostsFile(resultsPath)
	for _, id := range sortedKeys(pk) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sweep: latency: interrupted (%v)", err)
		}
		m, err := packed.LoadBytes(pk[id])
		if err != nil {
			fmt.Fprintf(log, "sweep: latency of %s: %v\n", id, err)
			continue
		}
		if err := results.AppendAmendment(out, results.Amendment{ID: id, Latency: cost.MeasurePacked(m)}); err != nil {
			return fmt.Errorf("sweep: %v", err)
		}
	}
	for _, id := range sortedKeys(fl) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sweep: latency: interrupted (%v)", err)
		}
		m, err := loadFloat(fl[id])
		if err != nil {
			fmt.Fprintf(log, "sweep: latency of %s: %v\n", id, err)
			continue
		}
		if err := results.AppendAmendment(out, results.Amendment{ID: id, Latency: cost.MeasureFloat(m)}); err != nil {
			return fmt.Errorf("sweep: %v", err)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
