package pipeline

import (
	"context"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/faults"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/sweep"
)

// faultsFloat runs a float cell's fault experiment on its model.
func faultsFloat(ctx context.Context, k sweep.CellConfig, ds *data.Dataset, m *nn.Model, rec *results.Record) error {
	if k.Faults == nil {
		return nil
	}
	r, err := faults.RunFloat(ctx, m, ds.Test, k.Faults.Config(), rec.Model)
	if err != nil {
		return err
	}
	rec.Faults = faultRecord(r)
	return nil
}

// faultsQuant runs a quantized cell's fault experiment on its packed
// model, built in memory.
func faultsQuant(ctx context.Context, k sweep.CellConfig, ds *data.Dataset, m *nn.Model, s *quant.State, opt packed.Options, rec *results.Record) error {
	if k.Faults == nil {
		return nil
	}
	b, err := packed.Marshal(m, s, packed.Meta{Options: opt})
	if err != nil {
		return err
	}
	pm, img, err := packed.ReadImage(b)
	if err != nil {
		return err
	}
	r, err := faults.RunPacked(ctx, pm, img, ds.Test, k.Faults.Config(), rec.Model)
	if err != nil {
		return err
	}
	rec.Faults = faultRecord(r)
	return nil
}

func faultRecord(r *faults.Result) *results.Faults {
	f := &results.Faults{Trials: r.Trials, Seed: r.Seed, FaultFreeErrPct: r.FaultFree, StoredBits: r.StoredBits}
	for _, c := range r.Curves {
		fc := results.FaultCurve{Protection: c.Protection, ExtraBits: c.ExtraBits, ToleratedBER: c.Tolerated}
		for _, p := range c.Points {
			fc.Points = append(fc.Points, results.FaultPoint{BER: p.BER, MeanErrPct: p.Mean, StdErrPct: p.Std, WorstErrPct: p.Worst, BrokenFrac: p.Broken})
		}
		f.Curves = append(f.Curves, fc)
	}
	return f
}
