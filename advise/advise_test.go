package advise

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/results"
)

// rec is an ok record of an MLP of width w at bits b with the given error
// and costs (bytes, RAM bytes, energy in nJ, latency in us; 0: none).
func rec(w, bits int, seed uint64, errPct float64, bytes, ram int64, nj, us float64) results.Record {
	mode := "retrain"
	if bits == 32 {
		mode = "float"
	}
	f := &cost.Figures{Version: cost.Version, WeightBytes: bytes, ActRAMBytes: ram, EnergyPJ: nj * 1000, Batch: 100}
	if us > 0 {
		f.Latency = &cost.Latency{Batch1US: us, Batch100US: 50 * us}
	}
	return results.Record{
		ID: fmt.Sprintf("w%d-b%d-s%d", w, bits, seed), Status: results.StatusOK, Dataset: "mnist", Family: "mlp",
		Model: fmt.Sprintf("mlp:784-%dx2-10", w), Width: w, Depth: 2, Mode: mode, Bits: bits, Seed: seed, TestErrPct: errPct,
		StoredBytes: bytes, Config: map[string]any{"width": w, "bits": bits, "mode": mode, "seed": seed}, Cost: f,
	}
}

// grid: three sizes x ternary and 3 bits, two seeds each.
func grid() []results.Record {
	var rs []results.Record
	for _, seed := range []uint64{1, 2} {
		d := 0.1 * float64(seed-1) // seed 2 is 0.1 pp worse
		rs = append(rs,
			rec(32, 2, seed, 4.0+d, 7000, 816, 10, 1),
			rec(32, 3, seed, 3.2+d, 10000, 816, 15, 1.2),
			rec(128, 2, seed, 2.5+d, 30000, 912, 40, 3),
			rec(128, 3, seed, 2.1+d, 45000, 912, 90, 4),
			rec(512, 2, seed, 2.2+d, 170000, 1296, 20000, 17),
			rec(512, 3, seed, 1.9+d, 250000, 1296, 30000, 20),
		)
	}
	return rs
}

func mustAdvise(t *testing.T, recs []results.Record, q Query) *Answer {
	t.Helper()
	cs, err := Candidates(recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Advise(cs, q)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAdviseLowestError(t *testing.T) {
	a := mustAdvise(t, grid(), Query{Limits: []Limit{{WeightBytes, 64 << 10}}})
	// Fits: w=32 (2 and 3 bits), w=128 (2 and 3 bits); best error w=128 3b.
	if a.Feasible != 4 || a.Considered != 6 || a.Choice.Width != 128 || a.Choice.Bits != 3 {
		t.Fatalf("choice %+v (%d of %d fit)", a.Choice, a.Feasible, a.Considered)
	}
	if a.Choice.Err.N != 2 || math.Abs(a.Choice.Err.Mean-2.15) > 1e-12 {
		t.Fatalf("seed mean %v", a.Choice.Err)
	}
	if a.RunnerUp.Width != 128 || a.RunnerUp.Bits != 2 || fmt.Sprintf("%.2f", a.Margin) != "0.40" {
		t.Fatalf("runner-up %+v margin %v", a.RunnerUp, a.Margin)
	}
	// Std of both is 0.0707: bound 0.14 pp < 0.40: outside noise, thin (2 seeds).
	if a.Noise.Within || !a.Noise.Thin {
		t.Fatalf("noise %+v", a.Noise)
	}
	// Relaxing the weight budget admits w=512 3b (1.95%).
	if a.Binding != WeightBytes || !strings.Contains(a.BindingWhy, "w=512 d=2 retrain 3b") {
		t.Fatalf("binding %q: %s", a.Binding, a.BindingWhy)
	}
	for _, want := range []string{"choice (lowest error of 4 that fit, 6 measured): mlp w=128 d=2 retrain 3b", "2.15 ± 0.07% (2 seeds)", "runner-up: mlp w=128 d=2 retrain 2b"} {
		if !strings.Contains(a.Summary(), want) {
			t.Errorf("summary lacks %q:\n%s", want, a.Summary())
		}
	}
	j := a.JSON()
	if j.Choice.Model != "mlp:784-128x2-10" || j.Choice.Bits != 3 || j.Choice.ID != "w128-b3-s1" || j.StoredBytes != 45000 ||
		j.EnergyNJ != 90 || j.RunnerUp == nil || j.Binding != WeightBytes || math.Abs(j.TestErrPct-2.15) > 1e-12 {
		t.Fatalf("json %+v", j)
	}
}

func TestAdviseSeveralLimits(t *testing.T) {
	// Energy 50 nJ and 64 KiB: w=128 3b needs 90 nJ, so w=128 2b wins;
	// the energy limit binds (relaxing it admits w=128 3b).
	a := mustAdvise(t, grid(), Query{Limits: []Limit{{WeightBytes, 64 << 10}, {Energy, 50}}})
	if a.Choice.Width != 128 || a.Choice.Bits != 2 || a.Binding != Energy {
		t.Fatalf("choice %s binding %s (%s)", a.Choice.Label(), a.Binding, a.BindingWhy)
	}
	// Latency 3.5 us: only configurations measured at or below it.
	a = mustAdvise(t, grid(), Query{Limits: []Limit{{Latency, 3.5}}})
	if a.Choice.Label() != "mlp w=128 d=2 retrain 2b" || a.Binding != Latency {
		t.Fatalf("latency: %s binding %s", a.Choice.Label(), a.Binding)
	}
	// No limit at all: the most accurate configuration, nothing binds.
	a = mustAdvise(t, grid(), Query{})
	if a.Choice.Label() != "mlp w=512 d=2 retrain 3b" || a.Binding != "" || !strings.Contains(a.BindingWhy, "most accurate") {
		t.Fatalf("no limits: %s %q", a.Choice.Label(), a.BindingWhy)
	}
}

func TestAdviseCheapest(t *testing.T) {
	// Error <= 2.6%: w=128 2b (30000 B), w=128 3b, w=512 2b and 3b meet it;
	// the cheapest in weight bytes is w=128 2b, then w=128 3b.
	a := mustAdvise(t, grid(), Query{Limits: []Limit{{ErrorPct, 2.6}}})
	if a.Objective != WeightBytes || a.Choice.Label() != "mlp w=128 d=2 retrain 2b" || a.RunnerUp.Label() != "mlp w=128 d=2 retrain 3b" ||
		a.Margin != 15000 || a.Binding != ErrorPct {
		t.Fatalf("cheapest: %+v", a)
	}
	// By energy instead: w=128 2b (40 nJ), runner-up w=128 3b (90 nJ).
	a = mustAdvise(t, grid(), Query{Limits: []Limit{{ErrorPct, 2.6}}, Minimize: Energy})
	if a.Objective != Energy || a.Choice.Label() != "mlp w=128 d=2 retrain 2b" || a.Margin != 50 {
		t.Fatalf("cheapest by energy: %s margin %v", a.Choice.Label(), a.Margin)
	}
}

func TestAdviseNothingFits(t *testing.T) {
	a := mustAdvise(t, grid(), Query{Limits: []Limit{{WeightBytes, 4096}, {ErrorPct, 5}}})
	if a.Fits() || strings.Join(a.Excluders, ",") != "--max-weight-bytes" || a.Closest.Label() != "mlp w=32 d=2 retrain 2b" {
		t.Fatalf("nothing fits: %+v", a)
	}
	if s := a.Summary(); !strings.Contains(s, "nothing fits: --max-weight-bytes excludes all 6") || !strings.Contains(s, "closest: mlp w=32 d=2 retrain 2b") {
		t.Fatalf("summary: %s", s)
	}
	// Each limit alone admits something; together nothing.
	a = mustAdvise(t, grid(), Query{Limits: []Limit{{WeightBytes, 8000}, {ErrorPct, 3}}})
	if a.Fits() || len(a.Excluders) != 2 || !strings.Contains(a.Summary(), "--max-weight-bytes and --max-error-pct together exclude all 6") {
		t.Fatalf("together: %+v", a.Excluders)
	}
	if j := a.JSON(); j.Fits || j.Choice != nil || j.Closest == nil {
		t.Fatalf("json %+v", j)
	}
}

func TestAdviseWithinNoise(t *testing.T) {
	rs := grid()
	// Three seeds each for w=128 2b and 3b, overlapping.
	rs = append(rs, rec(128, 2, 3, 1.9, 30000, 912, 40, 3), rec(128, 3, 3, 2.4, 45000, 912, 90, 4))
	a := mustAdvise(t, rs, Query{Limits: []Limit{{WeightBytes, 64 << 10}}})
	if !a.Noise.Within || a.Noise.Thin || !strings.Contains(a.Summary(), "within seed noise") {
		t.Fatalf("noise %+v\n%s", a.Noise, a.Summary())
	}
}

func TestAdviseBadInput(t *testing.T) {
	rs := grid()
	rs[3].Cost = nil
	_, err := Candidates(rs, nil)
	var mc *MissingCostError
	if !errors.As(err, &mc) || mc.N != 1 || !strings.Contains(err.Error(), "resq cost DIR") {
		t.Fatalf("missing cost: %v", err)
	}
	if _, err := Candidates(nil, nil); err == nil || !strings.Contains(err.Error(), "no ok records") {
		t.Fatalf("no records: %v", err)
	}
	cs, _ := Candidates(grid(), nil)
	for _, q := range []Query{
		{Limits: []Limit{{WeightBytes, -1}}},
		{Limits: []Limit{{WeightBytes, 1}, {WeightBytes, 2}}},
		{Minimize: "joy"},
	} {
		if _, err := Advise(cs, q); err == nil {
			t.Errorf("query %+v accepted", q)
		}
	}
	// Latency limits need measured latencies.
	rs = grid()
	for i := range rs {
		rs[i].Cost.Latency = nil
	}
	cs, _ = Candidates(rs, nil)
	if _, err := Advise(cs, Query{Limits: []Limit{{Latency, 10}}}); err == nil || !strings.Contains(err.Error(), "--measure-latency") {
		t.Fatalf("latency without measurements: %v", err)
	}
}

func TestCandidatesReprice(t *testing.T) {
	rs := grid()
	for i := range rs {
		rs[i].Cost.Rescales = 10
	}
	tb := cost.DefaultTable()
	tb.Int32Mult, tb.Int32Add, tb.SRAMRead32, tb.DRAMRead32 = 1, 0, 0, 0
	cs, err := Candidates(rs, tb)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.EnergyNJ != 0.01 { // 10 rescales at 1 pJ
			t.Fatalf("%s: repriced energy %v nJ", c.Label(), c.EnergyNJ)
		}
	}
}
