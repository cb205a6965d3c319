package sweep

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRemovesOrphans checks that temporary model files a killed run
// left behind are removed, but only those of this shard's cells.
func TestRunRemovesOrphans(t *testing.T) {
	spec := mustSpec(t, smallSpec)
	cells, err := spec.Cells()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	if err := os.MkdirAll(models, 0o755); err != nil {
		t.Fatal(err)
	}
	var mine, theirs string
	for _, c := range cells {
		p := filepath.Join(models, "."+c.ID+".safetensors.tmp-12345")
		if c.Group%2 == 0 && mine == "" {
			mine = p
		} else if c.Group%2 == 1 && theirs == "" {
			theirs = p
		} else {
			continue
		}
		if err := os.WriteFile(p, []byte("half a model"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Run(context.Background(), spec, dir, RunOptions{Runner: newFake(), Shard: 0, Shards: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mine); !os.IsNotExist(err) {
		t.Errorf("shard 0 left its orphan %s", mine)
	}
	if _, err := os.Stat(theirs); err != nil {
		t.Errorf("shard 0 removed shard 1's temporary file: %v", err)
	}
}

// TestSummaryErr checks that a sweep with failed cells says how many.
func TestSummaryErr(t *testing.T) {
	if err := (&Summary{Ran: 3, OK: 3}).Err(); err != nil {
		t.Errorf("no failure: %v", err)
	}
	err := (&Summary{Ran: 3, OK: 1, Failed: 2, Results: "d/results.jsonl"}).Err()
	if err == nil || !strings.Contains(err.Error(), "2 of 3 cells run failed") {
		t.Errorf("err %v", err)
	}
}
