package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/results"
)

// adviseDir writes a sweep folder of four configurations with cost
// figures (the costs of a folder without figures when withCost is false).
func adviseDir(t *testing.T, withCost bool) string {
	t.Helper()
	dir := t.TempDir()
	for i, x := range []struct {
		w, bits int
		err     float64
		bytes   int64
	}{{32, 2, 4.1, 7000}, {32, 3, 3.1, 10000}, {128, 2, 2.5, 30000}, {128, 3, 2.1, 45000}} {
		r := results.Record{ID: fmt.Sprintf("id%d", i), Status: "ok", Dataset: "mnist", Family: "mlp", Width: x.w, Depth: 2,
			Model: fmt.Sprintf("mlp:784-%dx2-10", x.w), Mode: "retrain", Bits: x.bits, Seed: 1, TestErrPct: x.err, StoredBytes: x.bytes,
			Config: map[string]any{"width": x.w, "bits": x.bits}}
		if withCost {
			r.Cost = &cost.Figures{WeightBytes: x.bytes, ActRAMBytes: 900, EnergyPJ: float64(x.bytes) * 1.5, Table: "t"}
		}
		if err := results.Append(filepath.Join(dir, "results.jsonl"), r); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAdviseCommand(t *testing.T) {
	dir := adviseDir(t, true)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"advise", dir, "--max-weight-bytes", "32KiB", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var j map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &j); err != nil {
		t.Fatal(err)
	}
	choice, _ := j["choice"].(map[string]any)
	if choice["model"] != "mlp:784-128x2-10" || choice["bits"] != 2.0 || choice["id"] != "id2" || j["stored_bytes"] != 30000.0 ||
		j["test_error_pct"] != 2.5 || j["runner_up"] == nil || j["binding"] != "weight-bytes" || j["energy_nj"] != 45.0 {
		t.Fatalf("json %v", j)
	}
	// Nothing fits: exit 1 naming the limit and the closest configuration.
	out.Reset()
	errb.Reset()
	code := run(context.Background(), []string{"advise", dir, "--max-weight-bytes", "4KiB"}, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "--max-weight-bytes excludes all 4") || !strings.Contains(out.String(), "closest: mlp w=32 d=2 retrain 2b") {
		t.Fatalf("nothing fits: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

func TestAdviseBadInput(t *testing.T) {
	dir := adviseDir(t, true)
	old := adviseDir(t, false)
	table := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(table, []byte(strings.Replace(cost.DefaultTableSource(), "fp32_add_pj: 0.9\n", "", 1)), 0o644)
	neg := filepath.Join(t.TempDir(), "neg.yaml")
	os.WriteFile(neg, []byte(strings.Replace(cost.DefaultTableSource(), "int8_mult_pj: 0.2", "int8_mult_pj: -0.2", 1)), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"advise", dir, "--max-weight-bytes", "64KX"}, `--max-weight-bytes: unknown unit "KX"`},
		{[]string{"advise", dir, "--max-ram", "-1KiB"}, "--max-ram"},
		{[]string{"advise", dir, "--max-energy-nj", "3furlongs"}, "--max-energy-nj: unknown unit"},
		{[]string{"advise", dir, "--max-error-pct", "-2"}, "--max-error-pct"},
		{[]string{"advise", dir, "--max-weight-bytes", "1MiB", "--minimize", "energy"}, "--minimize"},
		{[]string{"advise", dir, "--max-latency-us", "10"}, "--measure-latency"},
		{[]string{"advise", t.TempDir()}, "no records"},
		{[]string{"advise", filepath.Join(dir, "nope")}, "nope"},
		{[]string{"advise", old, "--max-weight-bytes", "1MiB"}, "resq cost DIR"},
		{[]string{"advise", dir, "--cost-table", table}, "bad.yaml: missing entries: fp32_add_pj"},
		{[]string{"advise", dir, "--cost-table", neg}, "neg.yaml:14: int8_mult_pj is -0.2"},
		{[]string{"cost", old, "--cost-table", neg}, "--cost-table: cost: neg.yaml:14"},
		{[]string{"report", dir, "--weight-budgets", "16KiB,16KX"}, `--weight-budgets: unknown unit "KX"`},
		{[]string{"report", dir, "--energy-budgets", "-1uJ"}, "--energy-budgets"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), c.args, &out, &errb)
		msg := strings.TrimSpace(errb.String())
		if code == 0 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want one line containing %q", c.args, code, msg, c.want)
		}
	}
}

// TestCostCommand: records without figures and without models are listed,
// not silently skipped.
func TestCostCommand(t *testing.T) {
	old := adviseDir(t, false)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"cost", old}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "0 records given cost figures, 0 timed, 4 without a model") || strings.Count(errb.String(), "cost: no model for") != 4 {
		t.Fatalf("stdout %q stderr %q", out.String(), errb.String())
	}
}
