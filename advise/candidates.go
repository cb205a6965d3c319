package advise

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/report"
	"github.com/resq-dev/resq/results"
)

// Config is one measured configuration: a model and weight precision,
// aggregated over its ok seeds. Costs are seed means (weight bytes and
// activation RAM are the same for every seed; energy and operation counts
// of ternary layers depend on how many codes are zero).
type Config struct {
	Key     string  `json:"-"` // identity: the resolved cell config without the seed
	Dataset string  `json:"dataset"`
	Model   string  `json:"model"` // model spec, e.g. "mlp:784-128x2-10"
	Family  string  `json:"family"`
	Width   int     `json:"width,omitempty"`
	Depth   int     `json:"depth,omitempty"`
	Scale   float64 `json:"scale,omitempty"`
	Mode    string  `json:"mode"` // float, direct, retrain
	Bits    int     `json:"bits"` // 32 for float
	// Sparsity and BitsPerLayer are a pruned or per-layer-allocated
	// configuration's (zero and nil otherwise).
	Sparsity     float64  `json:"sparsity,omitempty"`
	BitsPerLayer []int    `json:"bits_per_layer,omitempty"`
	IDs          []string `json:"ids"` // record IDs, one per seed
	Seeds        []uint64 `json:"seeds"`

	Err         report.Spread `json:"-"`
	WeightBytes float64       `json:"stored_bytes"`
	RAMBytes    float64       `json:"act_ram_bytes"`
	EnergyNJ    float64       `json:"energy_nj"`            // one inference at batch 1
	LatencyUS   float64       `json:"latency_us,omitempty"` // batch 1, mean over the seeds measured; 0 when none was
	Latency100  float64       `json:"latency_batch100_us,omitempty"`
	Mults       float64       `json:"mults"`         // multiplications per inference
	MultFree    float64       `json:"mult_free_ops"` // additions of ternary layers per inference
	Timed       int           `json:"-"`             // seeds with a measured latency
}

// HasLatency reports whether a latency was measured for the configuration.
func (c *Config) HasLatency() bool { return c.Timed > 0 }

// Label is a short human name: "mlp w=128 d=2 retrain 2b".
func (c *Config) Label() string {
	s := c.Family
	switch {
	case c.Family == "mlp":
		s += fmt.Sprintf(" w=%d d=%d", c.Width, c.Depth)
	case c.Family == "cnn":
		s += fmt.Sprintf(" x%g", c.Scale)
	}
	if c.Mode == results.ModeFloat {
		return s + " float"
	}
	s = fmt.Sprintf("%s %s %db", s, c.Mode, c.Bits)
	if len(c.BitsPerLayer) > 0 {
		b := make([]string, len(c.BitsPerLayer))
		for i, v := range c.BitsPerLayer {
			b[i] = strconv.Itoa(v)
		}
		s = fmt.Sprintf("%s%sb", strings.TrimSuffix(s, strconv.Itoa(c.Bits)+"b"), strings.Join(b, ","))
	}
	if c.Sparsity > 0 {
		s += fmt.Sprintf(" s=%g", c.Sparsity)
	}
	return s
}

// MissingCostError is returned by Candidates for ok records without cost
// figures (written by a resq older than package cost).
type MissingCostError struct{ N, OK int }

func (e *MissingCostError) Error() string {
	return fmt.Sprintf("advise: %d of %d ok records have no cost figures (written by an older resq); run 'resq cost DIR' to compute them from the stored models", e.N, e.OK)
}

// Candidates groups the ok records into configurations (one per resolved
// cell config without its seed) with their seed-mean error and costs. When
// t is not nil, energies are repriced with it (cost.Figures.Reprice).
// Records without cost figures are an error (*MissingCostError); so is a
// set with no ok record, or records of more than one dataset.
func Candidates(recs []results.Record, t *cost.Table) ([]*Config, error) {
	byKey := map[string]*Config{}
	var order []string
	errs := map[string][]float64{}
	ok, missing := 0, 0
	datasets := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		if r.Status != results.StatusOK {
			continue
		}
		ok++
		if r.Cost == nil {
			missing++
			continue
		}
		datasets[r.Dataset] = true
		k := configKey(r)
		c := byKey[k]
		if c == nil {
			c = &Config{Key: k, Dataset: r.Dataset, Model: r.Model, Family: r.Family, Width: r.Width, Depth: r.Depth, Scale: r.Scale, Mode: r.Mode, Bits: r.Bits,
				Sparsity: r.Sparsity, BitsPerLayer: r.BitsPerLayer}
			byKey[k] = c
			order = append(order, k)
		}
		f := *r.Cost
		if t != nil {
			f.Reprice(t)
		}
		c.IDs = append(c.IDs, r.ID)
		c.Seeds = append(c.Seeds, r.Seed)
		errs[k] = append(errs[k], r.TestErrPct)
		c.WeightBytes += float64(f.WeightBytes)
		c.RAMBytes += float64(f.ActRAMBytes)
		c.EnergyNJ += f.EnergyNJ()
		c.Mults += float64(f.Mults())
		c.MultFree += float64(f.MultFreeOps())
		if f.Latency != nil {
			c.Timed++
			c.LatencyUS += f.Latency.Batch1US
			c.Latency100 += f.Latency.Batch100US
		}
	}
	if ok == 0 {
		return nil, fmt.Errorf("advise: no ok records (run 'resq sweep' first)")
	}
	if missing > 0 {
		return nil, &MissingCostError{N: missing, OK: ok}
	}
	if len(datasets) > 1 {
		var ds []string
		for d := range datasets {
			ds = append(ds, d)
		}
		sort.Strings(ds)
		return nil, fmt.Errorf("advise: records of %d datasets (%s); advise compares configurations of one dataset", len(ds), strings.Join(ds, ", "))
	}
	out := make([]*Config, 0, len(order))
	for _, k := range order {
		c := byKey[k]
		n := float64(len(c.IDs))
		c.Err = report.NewSpread(errs[k])
		c.WeightBytes /= n
		c.RAMBytes /= n
		c.EnergyNJ /= n
		c.Mults /= n
		c.MultFree /= n
		if c.Timed > 0 {
			c.LatencyUS /= float64(c.Timed)
			c.Latency100 /= float64(c.Timed)
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// configKey is the record's resolved config without its seed, as
// canonical JSON (maps marshal with sorted keys), plus the model spec.
func configKey(r *results.Record) string {
	cfg := make(map[string]any, len(r.Config))
	for k, v := range r.Config {
		if k != "seed" {
			cfg[k] = v
		}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		b = []byte(fmt.Sprint(cfg))
	}
	return r.Model + "|" + r.Mode + "|" + fmt.Sprint(r.Bits) + "|" + string(b)
}

// value returns the configuration's figure for a cost name; NaN for a
// latency that was not measured.
func (c *Config) value(name string) float64 {
	switch name {
	case WeightBytes:
		return c.WeightBytes
	case RAM:
		return c.RAMBytes
	case Energy:
		return c.EnergyNJ
	case Latency:
		if !c.HasLatency() {
			return math.NaN()
		}
		return c.LatencyUS
	case ErrorPct:
		return c.Err.Mean
	}
	panic("advise: unknown figure " + name)
}
