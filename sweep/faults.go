package sweep

import (
	"strings"

	"github.com/resq-dev/resq/faults"
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
	c := f.Config()
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

// Config is the faults package configuration of the spec's faults key.
func (f *FaultSpec) Config() faults.Config {
	return faults.Config{BERs: f.BER, Trials: f.Trials, Seed: f.Seed, Parts: []string{faults.PartAll}, Protections: f.Protections}
}
