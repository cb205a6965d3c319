package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFolderBudgets(t *testing.T) {
	dir := t.TempDir()
	if w, e, err := folderBudgets(dir); err != nil || w != nil || e != nil {
		t.Fatalf("folder without a spec: %v %v %v", w, e, err)
	}
	spec := "dataset: mnist\nmlp: {widths: [32]}\nbudgets: {weight_bytes: [16KiB, 1MB]}\n"
	if err := os.WriteFile(filepath.Join(dir, "sweep.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	w, e, err := folderBudgets(dir)
	if err != nil || !slices.Equal(w, []float64{16384, 1e6}) || e != nil {
		t.Fatalf("budgets %v bytes, %v nJ, %v", w, e, err)
	}
	bad := "dataset: mnist\nmlp: {widths: [32]}\nbudgets: {energy: [3 furlongs]}\n"
	if err := os.WriteFile(filepath.Join(dir, "sweep.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := folderBudgets(dir); err == nil || !strings.Contains(err.Error(), "sweep.yaml:3") || !strings.Contains(err.Error(), "furlongs") {
		t.Fatalf("bad budget: %v", err)
	}
}
