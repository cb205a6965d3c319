package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchInfer(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "infer", "--nets", "mlp:12-8-3", "--bits", "2,32", "--batch", "1,4", "--threads", "1", "--kernels", "go", "--time", "1ms", "--rounds", "1", "--json"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4 (2 precisions x 2 batches):\n%s", len(lines), stdout.String())
	}
	for _, l := range lines {
		var r struct {
			Bits    int     `json:"bits"`
			Batch   int     `json:"batch"`
			Threads int     `json:"threads"`
			Kernel  string  `json:"kernel"`
			Rate    float64 `json:"samples_per_s"`
			GMACs   float64 `json:"gmacs"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Threads != 1 || r.Kernel == "" || !(r.Rate > 0) || !(r.GMACs > 0) {
			t.Errorf("line %s: %+v, %v", l, r, err)
		}
	}
	for _, bad := range [][]string{{"--bits", "2,x"}, {"--batch", ""}, {"--kernels", "sse9"}, {"--threads", "0"}, {"--rounds", "0"}, {"--time", "-1s"}, {"--time", "0s"}} {
		stdout.Reset()
		stderr.Reset()
		a := append([]string{"bench", "infer", "--nets", "mlp:12-8-3", "--rounds", "1", "--time", "1ms"}, bad...)
		if code := run(context.Background(), a, &stdout, &stderr); code == 0 || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Errorf("resq %s: exit %d, stderr %q; want one error line", strings.Join(a, " "), code, stderr.String())
		}
	}
}
