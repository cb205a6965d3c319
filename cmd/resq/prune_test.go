package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPruneBadInput checks the one-line errors of the pruning and
// per-layer bit options: each names the value at fault.
func TestPruneBadInput(t *testing.T) {
	f := newRelFixture(t)
	p := func(name string) string { return filepath.Join(f.dir, name) }
	spec := writeFile(t, p("sp.yaml"), []byte(f.sweepSpecA+"sparsity: [0, 1.5]\n"))
	alloc := writeFile(t, p("al.yaml"), []byte(f.sweepSpecA+"bits_per_layer: [\"8,2,2\"]\n"))
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"sparsity 1", []string{"retrain", f.ckpt, "--sparsity", "1", "--data", f.dataA, "--out", p("x.st")}, "sparsity 1 out of range"},
		{"negative sparsity", []string{"prune", f.ckpt, "--sparsity", "-0.1", "--data", f.dataA, "--out", p("x.st")}, "sparsity -0.1"},
		{"bits list too long", []string{"quantize", f.ckpt, "--bits-per-layer", "8,2,2", "--data", f.dataA, "--out", p("x.st")}, "8,2,2 has 3 entries"},
		{"bits list entry", []string{"retrain", f.ckpt, "--bits-per-layer", "8,1", "--data", f.dataA, "--out", p("x.st")}, "8,1"},
		{"budget too small", []string{"allocate", f.ckpt, "--max-weight-bytes", "10", "--data", f.dataA, "--out", p("a.json")}, "budget 10 bytes"},
		{"allocation search", []string{"allocate", f.ckpt, "--max-weight-bytes", "1KiB", "--search", "sideways", "--data", f.dataA, "--out", p("a.json")}, "sideways"},
		{"allocation measure", []string{"allocate", f.ckpt, "--max-weight-bytes", "1KiB", "--measure", "guess", "--data", f.dataA, "--out", p("a.json")}, "guess"},
		{"probe epochs", []string{"allocate", f.ckpt, "--max-weight-bytes", "1KiB", "--probe-epochs", "0", "--data", f.dataA, "--out", p("a.json")}, "epochs"},
		{"sweep sparsity", []string{"sweep", spec, "--out", p("sw")}, "1.5"},
		{"sweep allocation length", []string{"sweep", alloc, "--out", p("sw2")}, "8,2,2"},
		{"prune a quantized model", []string{"prune", f.qckpt, "--data", f.dataA, "--out", p("x.st")}, "retrain with --sparsity"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), c.args, &out, &errb)
			stderr := strings.TrimSuffix(errb.String(), "\n")
			if code == 0 || strings.Contains(stderr, "\n") || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q: want one line naming %q", code, stderr, c.want)
			}
		})
	}
}

// TestPruneExportInfer runs prune, retrain of the pruned model, export and
// infer --check: the pruned zeros stay zero, the export goes sparse, and
// the packed engine agrees with the simulated forward on every sample.
func TestPruneExportInfer(t *testing.T) {
	f := newRelFixture(t)
	p := func(name string) string { return filepath.Join(f.dir, name) }
	mustRun(t, "prune", f.ckpt, "--sparsity", "0.8", "--epochs", "2", "--batch", "20", "--data", f.dataA, "--out", p("p.st"))
	mustRun(t, "retrain", p("p.st"), "--bits", "3", "--epochs", "1", "--batch", "20", "--data", f.dataA, "--out", p("r.st"))
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"eval", p("r.st"), "--data", f.dataA, "--json"}, &out, &errb); code != 0 {
		t.Fatalf("eval: %s", errb.String())
	}
	var o struct{ Sparsity []float64 }
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &o); err != nil || len(o.Sparsity) != 2 {
		t.Fatalf("eval json %s: %v", out.String(), err)
	}
	for i, s := range o.Sparsity {
		if s < 0.75 {
			t.Errorf("layer %d: sparsity %.3f after retraining, want the pruned 0.8 kept", i, s)
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"export", p("r.st"), "--out", p("r.rq"), "--json"}, &out, &errb); code != 0 {
		t.Fatalf("export: %s", errb.String())
	}
	var e struct {
		Sparse      bool  `json:"sparse"`
		StoredBytes int64 `json:"stored_bytes"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &e); err != nil || !e.Sparse {
		t.Fatalf("export json %s: %v", out.String(), err)
	}
	out.Reset()
	if code := run(context.Background(), []string{"infer", p("r.rq"), "--data", f.dataA, "--check", p("r.st"), "--json"}, &out, &errb); code != 0 {
		t.Fatalf("infer: %s", errb.String())
	}
	var r struct {
		Check struct{ Disagree int } `json:"check"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &r); err != nil {
		t.Fatal(err)
	}
	if r.Check.Disagree != 0 {
		t.Errorf("%d predictions differ from the simulated forward", r.Check.Disagree)
	}
	if _, err := os.Stat(p("r.rq")); err != nil {
		t.Fatal(err)
	}
}
