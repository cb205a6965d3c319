package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/resq-dev/resq/results"
)

// TestCompressionSection adds pruned and allocated retrain records to the
// synthetic sweep: the section lists every quantized point, marks the
// Pareto front, picks the best point per budget and compares the
// allocation with the best uniform width at no more bytes.
func TestCompressionSection(t *testing.T) {
	recs := synthRecords(4)
	if s := compressionSection(BuildGroups(recs), nil); s != nil {
		t.Fatal("section without pruned or allocated records")
	}
	for _, s := range []uint64{1, 2, 3} {
		w := 256
		weights := int64(784*w + w*w + w*10)
		p := results.Record{Version: "0.1.0-dev", Dataset: "mnist", Model: fmt.Sprintf("mlp:784-%dx2-10", w), Family: "mlp",
			Width: w, Depth: 2, Seed: s, Weights: weights, Status: "ok", Mode: "retrain", Bits: 2, Sparsity: 0.9,
			LayerSparsity: []float64{0.92, 0.8, 0.3}, StoredBytes: weights / 12, TestErrPct: 3.5 + 0.01*float64(s)}
		p.ID = fmt.Sprintf("p-%d", s)
		p.Config = map[string]any{"mode": "retrain", "bits": 2, "sparsity": 0.9, "seed": s}
		a := p
		a.ID, a.Sparsity, a.LayerSparsity, a.BitsPerLayer, a.Bits = fmt.Sprintf("a-%d", s), 0, nil, []int{2, 3, 8}, 8
		a.StoredBytes, a.TestErrPct = (3*weights+7)/8+4*3+4*int64(w+w+10), 1.0+0.01*float64(s) // uniform 3 bits' bytes
		a.Config = map[string]any{"mode": "retrain", "bits": 8, "bits_per_layer": []int{2, 3, 8}, "seed": s}
		recs = append(recs, p, a)
	}
	sec := compressionSection(BuildGroups(recs), []float64{24 << 10, 1 << 20})
	if sec == nil || len(sec.Tables) != 3 {
		t.Fatalf("section %+v: want 3 tables", sec)
	}
	all, budget, alloc := sec.Tables[0], sec.Tables[1], sec.Tables[2]
	if len(all.Rows) != 4*4+2 {
		t.Errorf("%d points, want %d (4 sizes x 4 quantized precisions + 2)", len(all.Rows), 4*4+2)
	}
	var front int
	for i, r := range all.Rows {
		if r[6] == "front" {
			front++
		}
		if strings.Contains(r[0], "s=0.9") && r[5] != "92.0% 80.0% 30.0%" {
			t.Errorf("row %d: reached sparsity %q", i, r[5])
		}
	}
	if front == 0 || all.Rows[0][6] != "front" {
		t.Errorf("Pareto front: %d points, first row %v", front, all.Rows[0])
	}
	if !strings.Contains(budget.Rows[0][1], "s=0.9") {
		t.Errorf("best under 24 KiB: %v, want the pruned point", budget.Rows[0])
	}
	if len(alloc.Rows) != 1 || !strings.Contains(alloc.Rows[0][0], "2,3,8b") || !strings.Contains(alloc.Rows[0][3], "retrain 3b") {
		t.Errorf("allocation table %v: want 2,3,8 against retrain 3b", alloc.Rows)
	}
}
