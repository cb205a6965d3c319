package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/sweep"
)

// RecostOptions control Recost.
type RecostOptions struct {
	Packed  packed.Options // how stored bytes are counted (as the sweep did)
	Table   *cost.Table    // energy table (nil: cost.DefaultTable)
	Latency bool           // also measure the latency of records without one
	All     bool           // recompute every record's figures, not only missing or outdated ones
	Log     io.Writer      // progress (nil: discard)
}

// RecostSummary tells what Recost did.
type RecostSummary struct {
	Computed int      // records given cost figures
	Timed    int      // records given a latency
	Missing  []string // "ID (label): why": records whose model is not on disk
}

// Recost computes the cost figures of the ok records of the sweep folder
// dir that have none (written by an older resq) or whose cost model is
// older than cost.Version, from the models on disk: a float cell's
// checkpoint, a saved retrained model, or, for a direct cell, its float
// parent quantized again (direct quantization is deterministic). With
// opt.Latency it also times those models. Results go to DIR/costs.jsonl,
// which results.ReadDir applies. Retrained models are kept only when the
// sweep saved them; such records are listed in Missing.
func Recost(ctx context.Context, dir string, opt RecostOptions) (*RecostSummary, error) {
	logw := opt.Log
	if logw == nil {
		logw = io.Discard
	}
	recs, err := results.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	resPath := sweep.ResultsFile(dir, 0, 1)
	unlock, err := sweep.LockResults(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	env := &sweep.Env{Dir: dir}
	out := results.CostsFile(resPath)
	sum := &RecostSummary{}
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return sum, fmt.Errorf("sweep: recost interrupted (%v)", err)
		}
		needCost := r.Status == results.StatusOK && (opt.All || r.Cost == nil || r.Cost.Version != cost.Version)
		needLat := r.Status == results.StatusOK && opt.Latency && (needCost || r.Cost == nil || r.Cost.Latency == nil)
		if !needCost && !needLat {
			continue
		}
		m, s, why := modelOf(env, r)
		if why != "" {
			sum.Missing = append(sum.Missing, fmt.Sprintf("%s (%s %db w=%d): %s", shortID(r.ID), r.Mode, r.Bits, r.Width, why))
			continue
		}
		a := results.Amendment{ID: r.ID}
		if needCost {
			f, err := cost.Of(m, s, opt.Packed, cost.DefaultBatch, opt.Table)
			if err != nil {
				sum.Missing = append(sum.Missing, fmt.Sprintf("%s: %v", shortID(r.ID), err))
				continue
			}
			a.Cost = f
			sum.Computed++
		}
		if needLat {
			if s == nil {
				a.Latency = cost.MeasureFloat(m)
			} else if b, err := packed.Marshal(m, s, packed.Meta{Options: opt.Packed}); err == nil {
				if pm, err := packed.LoadBytes(b); err == nil {
					a.Latency = cost.MeasurePacked(pm)
				}
			}
			if a.Latency != nil {
				sum.Timed++
			}
		}
		if err := results.AppendAmendment(out, a); err != nil {
			return sum, fmt.Errorf("sweep: %v", err)
		}
		fmt.Fprintf(logw, "cost: %s %s %db: figures %v, latency %v\n", shortID(r.ID), r.Mode, r.Bits, a.Cost != nil, a.Latency != nil)
	}
	return sum, nil
}

// modelOf returns the model of record r (quantized as s, or float with s
// nil), or why it cannot be had.
func modelOf(env *sweep.Env, r results.Record) (*nn.Model, *quant.State, string) {
	if fileExists(env.ModelPath(r.ID)) {
		c, err := Load(env.ModelPath(r.ID))
		if err != nil {
			return nil, nil, err.Error()
		}
		return c.M, c.Quant, ""
	}
	switch r.Mode {
	case sweep.ModeFloat:
		return nil, nil, "its float checkpoint is not in models/"
	case sweep.ModeRetrain:
		return nil, nil, "retrained models are not kept on disk; rerun the cell (delete its record) to get cost figures"
	}
	if r.ParentID == "" || !fileExists(env.ModelPath(r.ParentID)) {
		return nil, nil, "the float checkpoint it quantizes is not in models/"
	}
	var k sweep.CellConfig
	b, err := json.Marshal(r.Config)
	if err == nil {
		err = json.Unmarshal(b, &k)
	}
	if err != nil || k.Quant == nil {
		return nil, nil, "its record has no quantizer config"
	}
	m, err := loadFloat(env.ModelPath(r.ParentID))
	if err != nil {
		return nil, nil, err.Error()
	}
	s, err := quant.Direct(m, k.Quant.QuantConfig(r.Bits))
	if err != nil {
		return nil, nil, err.Error()
	}
	return m, s, ""
}

// loadFloat reads a float checkpoint.
func loadFloat(path string) (*nn.Model, error) {
	c, err := Load(path)
	if err != nil {
		return nil, err
	}
	if c.Quant != nil {
		return nil, fmt.Errorf("sweep: %s is quantized, want the float model", path)
	}
	return c.M, nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
