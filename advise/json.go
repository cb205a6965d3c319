package advise

import "math"

// JSONConfig is a configuration in advise's --json output.
type JSONConfig struct {
	Label       string   `json:"label"`
	Model       string   `json:"model"` // model spec
	Mode        string   `json:"mode"`
	Bits        int      `json:"bits"`
	ID          string   `json:"id"` // the first seed's record ID
	IDs         []string `json:"ids"`
	Seeds       []uint64 `json:"seeds"`
	TestErrPct  float64  `json:"test_error_pct"` // seed mean
	TestErrStd  float64  `json:"test_error_std_pct"`
	TestErr     string   `json:"test_error"` // "1.23 ± 0.05% (3 seeds)"
	StoredBytes float64  `json:"stored_bytes"`
	ActRAMBytes float64  `json:"act_ram_bytes"`
	EnergyNJ    float64  `json:"energy_nj"`
	LatencyUS   *float64 `json:"latency_us"` // batch 1; null when not measured
	Mults       float64  `json:"mults"`
	MultFreeOps float64  `json:"mult_free_ops"`
}

// JSONAnswer is advise's --json object.
type JSONAnswer struct {
	Fits          bool        `json:"fits"`
	Objective     string      `json:"objective"` // error-pct, or the cost minimised
	Choice        *JSONConfig `json:"choice"`
	TestErrPct    float64     `json:"test_error_pct,omitempty"`
	StoredBytes   float64     `json:"stored_bytes,omitempty"`
	EnergyNJ      float64     `json:"energy_nj,omitempty"`
	RunnerUp      *JSONConfig `json:"runner_up"`
	Binding       string      `json:"binding"`
	BindingWhy    string      `json:"binding_why"`
	Margin        float64     `json:"margin"`
	NoiseDiff     float64     `json:"noise_diff_pp"`
	NoiseBound    float64     `json:"noise_bound_pp"`
	WithinNoise   bool        `json:"within_noise"`
	ThinNoise     bool        `json:"thin_noise"`
	Considered    int         `json:"considered"`
	Feasible      int         `json:"feasible"`
	Excluders     []string    `json:"excluded_by,omitempty"`
	Closest       *JSONConfig `json:"closest,omitempty"`
	ClosestMisses string      `json:"closest_misses,omitempty"`
	Limits        []Limit     `json:"limits"`
}

// JSON returns the answer as advise --json prints it.
func (a *Answer) JSON() *JSONAnswer {
	j := &JSONAnswer{Fits: a.Fits(), Objective: a.Objective, Choice: jsonConfig(a.Choice), RunnerUp: jsonConfig(a.RunnerUp),
		Binding: a.Binding, BindingWhy: a.BindingWhy, Margin: a.Margin, NoiseDiff: a.Noise.Diff, NoiseBound: a.Noise.Bound,
		WithinNoise: a.Noise.Within, ThinNoise: a.Noise.Thin, Considered: a.Considered, Feasible: a.Feasible,
		Excluders: a.Excluders, Closest: jsonConfig(a.Closest), ClosestMisses: a.ClosestBy, Limits: a.Query.Limits}
	if c := a.Choice; c != nil {
		j.TestErrPct, j.StoredBytes, j.EnergyNJ = c.Err.Mean, c.WeightBytes, c.EnergyNJ
	}
	if j.Limits == nil {
		j.Limits = []Limit{}
	}
	return j
}

func jsonConfig(c *Config) *JSONConfig {
	if c == nil {
		return nil
	}
	j := &JSONConfig{Label: c.Label(), Model: c.Model, Mode: c.Mode, Bits: c.Bits, IDs: c.IDs, Seeds: c.Seeds,
		TestErrPct: c.Err.Mean, TestErrStd: c.Err.Std, TestErr: c.Err.String(), StoredBytes: c.WeightBytes,
		ActRAMBytes: c.RAMBytes, EnergyNJ: c.EnergyNJ, Mults: c.Mults, MultFreeOps: c.MultFree}
	if len(c.IDs) > 0 {
		j.ID = c.IDs[0]
	}
	if v := c.value(Latency); !math.IsNaN(v) {
		j.LatencyUS = &v
	}
	return j
}
