package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
)

// runJSON runs resq with args and decodes the last stdout line into v.
func runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("resq %v: exit %d: %s", args, code, errb.String())
	}
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if err := json.Unmarshal(lines[len(lines)-1], v); err != nil {
		t.Fatalf("resq %v: %v in %s", args, err, out.String())
	}
}

// TestAllocateRetrainProbe runs resq allocate with its default search
// (trade) and measure (a one-epoch retraining per allocation) at the bytes
// of uniform 3 bits: it starts there, stays within the budget, never ends
// measured worse than its start, and records the probe.
func TestAllocateRetrainProbe(t *testing.T) {
	f := newRelFixture(t)
	p := func(name string) string { return filepath.Join(f.dir, name) }
	mustRun(t, "quantize", f.ckpt, "--bits", "3", "--data", f.dataA, "--out", p("q3.st"))
	var e struct {
		StoredBytes int64 `json:"stored_bytes"`
	}
	runJSON(t, &e, "export", p("q3.st"), "--out", p("q3.rq"), "--json")
	var a struct {
		Search       string
		Measure      string
		ProbeRows    int   `json:"probe_rows"`
		Measured     int   `json:"measured"`
		BitsPerLayer []int `json:"bits_per_layer"`
		StoredBytes  int64 `json:"stored_bytes"`
		Steps        []struct {
			Bits []int `json:"bits_per_layer"`
			Loss float64
		}
	}
	runJSON(t, &a, "allocate", f.ckpt, "--max-weight-bytes", itoa(int(e.StoredBytes)), "--probe-batch", "20", "--data", f.dataA, "--out", p("a.json"), "--json")
	if a.Search != "trade" || a.Measure != "retrain" || a.ProbeRows != 60 || a.Measured < 1 {
		t.Errorf("search %q measure %q probe rows %d measured %d", a.Search, a.Measure, a.ProbeRows, a.Measured)
	}
	if a.StoredBytes > e.StoredBytes || len(a.BitsPerLayer) != 2 {
		t.Errorf("allocation %v in %d bytes, budget %d", a.BitsPerLayer, a.StoredBytes, e.StoredBytes)
	}
	first, last := a.Steps[0], a.Steps[len(a.Steps)-1]
	if !slices.Equal(first.Bits, []int{3, 3}) || last.Loss > first.Loss || !slices.Equal(last.Bits, a.BitsPerLayer) {
		t.Errorf("steps from %v (loss %g) to %v (loss %g), allocation %v", first.Bits, first.Loss, last.Bits, last.Loss, a.BitsPerLayer)
	}
}
