package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/cost"
)

func TestAmendments(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "results.jsonl")
	for _, id := range []string{"a", "b", "c"} {
		r := Record{ID: id, Status: StatusOK}
		if id == "a" {
			r.Cost = &cost.Figures{WeightBytes: 10}
		}
		if err := Append(res, r); err != nil {
			t.Fatal(err)
		}
	}
	cf := CostsFile(res)
	if cf != filepath.Join(dir, "costs.jsonl") || CostsFile(filepath.Join(dir, "results-shard-1-of-2.jsonl")) != filepath.Join(dir, "costs-shard-1-of-2.jsonl") {
		t.Fatalf("costs file %s", cf)
	}
	for _, a := range []Amendment{
		{ID: "a", Latency: &cost.Latency{Batch1US: 3}},
		{ID: "b", Cost: &cost.Figures{WeightBytes: 20}},
		{ID: "b", Latency: &cost.Latency{Batch1US: 4}},
		{ID: "c", Latency: &cost.Latency{Batch1US: 5}}, // no figures: nothing to attach it to
	} {
		if err := AppendAmendment(cf, a); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*cost.Figures{}
	for _, r := range recs {
		got[r.ID] = r.Cost
	}
	if a := got["a"]; a == nil || a.WeightBytes != 10 || a.Latency == nil || a.Latency.Batch1US != 3 {
		t.Fatalf("a: %+v", a)
	}
	if b := got["b"]; b == nil || b.WeightBytes != 20 || b.Latency == nil || b.Latency.Batch1US != 4 {
		t.Fatalf("b: %+v", b)
	}
	if got["c"] != nil {
		t.Fatalf("c: %+v", got["c"])
	}
	// A corrupt line in the middle names the file and line.
	b, _ := os.ReadFile(cf)
	if err := os.WriteFile(cf, append([]byte("{oops\n"), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDir(dir); err == nil || !strings.Contains(err.Error(), "costs.jsonl:1") {
		t.Fatalf("corrupt amendment: %v", err)
	}
}
