package sweep

import (
	"context"
	"strings"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/faults"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/results"
)

// FaultSpec is a spec's faults key: every cell also measures its test
// error when bits of its stored weights flip (package faults, part "all":
// codes, steps and biases of the packed model; float cells the float32
// parameters), Trials trials per rate, under each protection.
type FaultSpec struct {
	BER         []float64 `yaml:"ber" json:"ber"`                 // bit error rates, each in [0, 1]
	Trials      int       `yaml:"trials" json:"trials"`           // trials per rate (default 20)
	Seed        uint64    `yaml:"seed" json:"seed"`               // seed of the trials (default 1)
	Protections []string  `yaml:"protections" json:"protections"` // default [none]
}

// on reports whether the spec asks for fault experiments.
func (f *FaultSpec) on() bool { return len(f.BER) > 0 }

// resolveFaults fills the faults key's defaults and validates it; a spec
// without the key is left as it is.
func (s *Spec) resolveFaults() error {
	f := &s.Faults
	if !f.on() {
		if s.has("faults") {
			return s.errAt("faults.ber", "faults needs ber (bit error rates, e.g. [1e-6, 1e-5, 1e-4])")
		}
		*f = FaultSpec{}
		return nil
	}
	if f.Trials == 0 && !s.has("faults.trials") {
		f.Trials = 20
	}
	if f.Seed == 0 {
		f.Seed = 1
	}
	if len(f.Protections) == 0 {
		f.Protections = []string{faults.ProtNone}
	}
	c := f.config()
	if err := c.Check(); err != nil {
		key := "faults.ber"
		switch {
		case strings.Contains(err.Error(), "--trials"):
			key = "faults.trials"
		case strings.Contains(err.Error(), "--protect"):
			key = "faults.protections"
		}
		msg := strings.TrimPrefix(err.Error(), "faults: ")
		msg = strings.NewReplacer("--ber", "ber", "--trials", "trials", "--protect", "protections").Replace(msg)
		return s.errAt(key, "faults: %s", msg)
	}
	return nil
}

// cellFaults returns the faults key as a cell hashes it: nil without the
// key, so that cells of specs without it keep their IDs.
func (s *Spec) cellFaults() *FaultSpec {
	if !s.Faults.on() {
		return nil
	}
	f := s.Faults
	return &f
}

func (f *FaultSpec) config() faults.Config {
	return faults.Config{BERs: f.BER, Trials: f.Trials, Seed: f.Seed, Parts: []string{faults.PartAll}, Protections: f.Protections}
}

// faultsFloat runs a float cell's fault experiment on its model.
func faultsFloat(ctx context.Context, k CellConfig, ds *data.Dataset, m *nn.Model, rec *results.Record) error {
	if k.Faults == nil {
		return nil
	}
	r, err := faults.RunFloat(ctx, m, ds.Test, k.Faults.config(), rec.Model)
	if err != nil {
		return err
	}
	rec.Faults = faultRecord(r)
	return nil
}

// faultsQuant runs a quantized cell's fault experiment on its packed
// model, built in memory.
func faultsQuant(ctx context.Context, k CellConfig, ds *data.Dataset, m *nn.Model, s *quant.State, opt packed.Options, rec *results.Record) error {
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
	r, err := faults.RunPacked(ctx, pm, img, ds.Test, k.Faults.config(), rec.Model)
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
