package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/results"
)

func TestWriteFilesAndDeterminism(t *testing.T) {
	recs := synthRecords(7)
	dir1, dir2 := t.TempDir(), t.TempDir()
	if d := os.Getenv("RESQ_REPORT_OUT"); d != "" {
		dir1 = d // keep the output to look at
	}
	s1, err := Write(dir1, recs, Options{Source: "synthetic"})
	if err != nil {
		t.Fatal(err)
	}
	// Shuffled input with a duplicate failed attempt of an ok cell gives
	// the same files.
	shuf := append([]results.Record(nil), recs...)
	for i, j := 0, len(shuf)-1; i < j; i, j = i+1, j-1 {
		shuf[i], shuf[j] = shuf[j], shuf[i]
	}
	dup := recs[0]
	dup.Status, dup.Reason = "failed", "killed"
	shuf = append([]results.Record{dup}, shuf...)
	s2, err := Write(dir2, shuf, Options{Source: "synthetic"})
	if err != nil {
		t.Fatal(err)
	}
	if s1.Records != len(recs) || s1.Failed != 1 || s1.OK != len(recs)-1 {
		t.Errorf("summary counts: %d records %d ok %d failed, want %d, %d, 1", s1.Records, s1.OK, s1.Failed, len(recs), len(recs)-1)
	}
	if len(s1.Plots) != 8 {
		t.Errorf("got %d plot files, want 8 (4 figures x svg+png): %v", len(s1.Plots), s1.Plots)
	}
	names := []string{"report.md", "report.html", "results.csv", "summary.csv"}
	for _, p := range s1.Plots {
		names = append(names, filepath.Base(p))
	}
	for _, n := range names {
		a, err := os.ReadFile(filepath.Join(dir1, n))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir2, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two writes of the same records", n)
		}
		if len(a) == 0 {
			t.Errorf("%s is empty", n)
		}
	}
	if len(s2.Groups) != 1 || len(s2.Groups[0].Gaps) != 4 {
		t.Fatalf("summary groups: %+v", s2.Groups)
	}

	md, _ := os.ReadFile(filepath.Join(dir1, "report.md"))
	for _, want := range []string{"Reading this report", "retrain 2b", "direct 3b", "Failed cells", "loss is NaN",
		"sha256:0123abcd", "0.1.0-dev", "seeds: 1, 2, 3", "Pareto front", "N_eff range", "mnist mlp depth 2"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir1, "report.html"))
	if n := strings.Count(string(html), `src="data:image/svg`); n != 4 {
		t.Errorf("report.html has %d inline SVG images, want 4", n)
	}
	for _, bad := range []string{"http://", "https://", "<script", "<link"} {
		if bytes.Contains(bytes.ToLower(html), []byte(bad)) && bad != "http://" {
			t.Errorf("report.html contains %q: it must be self-contained", bad)
		}
	}
	// The only http:// allowed is the SVG namespace inside the base64 data.
	if strings.Contains(string(html), `href="http`) || strings.Contains(string(html), `src="http`) {
		t.Errorf("report.html references an external resource")
	}

	// results.csv: one row per merged record; summary.csv: one per cell.
	rows := readCSV(t, filepath.Join(dir1, "results.csv"))
	if len(rows) != len(recs)+1 {
		t.Errorf("results.csv has %d rows, want %d + header", len(rows)-1, len(recs))
	}
	cells := readCSV(t, filepath.Join(dir1, "summary.csv"))
	if len(cells) != 4*5+1 {
		t.Errorf("summary.csv has %d rows, want 20 + header", len(cells)-1)
	}
	head := cells[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, r := range cells[1:] {
		if r[col["mode"]] == "retrain" && r[col["bits"]] == "2" && r[col["size"]] == "w=64" {
			if r[col["seeds_ok"]] != "2" || r[col["seeds_failed"]] != "1" || !strings.Contains(r[col["failure_reasons"]], "NaN") {
				t.Errorf("failed cell row: %v", r)
			}
		}
		if r[col["mode"]] == "float" && (r[col["ecr"]] != "" || r[col["n_eff_range"]] != "") {
			t.Errorf("float row has an ECR: %v", r)
		}
		if r[col["mode"]] != "float" && r[col["n_eff_range"]] == "" {
			t.Errorf("quantized row lacks its N_eff range: %v", r)
		}
	}
}

// TestWriteFromJSONL goes through the results store: records appended to
// shard files, read back with results.ReadDir, give the same report files
// as the records in memory.
func TestWriteFromJSONL(t *testing.T) {
	recs := synthRecords(5)
	sweep := t.TempDir()
	for i, r := range recs {
		name := fmt.Sprintf("results-shard-%d-of-2.jsonl", i%2)
		if err := results.Append(filepath.Join(sweep, name), r); err != nil {
			t.Fatal(err)
		}
	}
	back, err := results.ReadDir(sweep)
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := t.TempDir(), t.TempDir()
	if _, err := Write(d1, recs, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(d2, back, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"report.md", "results.csv", "summary.csv", "report.html"} {
		a, _ := os.ReadFile(filepath.Join(d1, n))
		b, _ := os.ReadFile(filepath.Join(d2, n))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs after a round trip through results JSONL", n)
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func TestWriteNoRecords(t *testing.T) {
	if _, err := Write(t.TempDir(), nil, Options{}); err == nil || !strings.HasPrefix(err.Error(), "report: ") {
		t.Errorf("Write(no records) error = %v, want a report: error", err)
	}
}

func TestWriteNoFloat(t *testing.T) {
	// A group whose float cells all failed still reports, with ECR n/a.
	var recs []results.Record
	for _, r := range synthRecords(3) {
		if r.Mode == "float" {
			r.Status, r.Reason = "failed", "diverged"
		}
		recs = append(recs, r)
	}
	dir := t.TempDir()
	s, err := Write(dir, recs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(s.Markdown)
	if !strings.Contains(string(md), "no float curve") {
		t.Errorf("report.md does not say the float curve is missing")
	}
	for _, g := range s.Groups {
		if len(g.Gaps) != 0 {
			t.Errorf("gaps without float baseline: %+v", g.Gaps)
		}
	}
}

// TestWriteWideSpread: a direct cell whose seeds disagree wildly (5% and
// 95%) next to a 1% float forces a log error axis with a std bar reaching
// below zero; the report must still draw.
func TestWriteWideSpread(t *testing.T) {
	var recs []results.Record
	for i, w := range []int{16, 32} {
		for s := uint64(1); s <= 2; s++ {
			base := results.Record{Status: "ok", Dataset: "toy", Family: "mlp", Width: w, Depth: 1, Seed: s,
				Weights: int64(100 * (i + 1)), Params: int64(110 * (i + 1))}
			f := base
			f.ID, f.Mode, f.Bits, f.StoredBytes, f.TestErrPct = fmt.Sprintf("f%d%d", w, s), "float", 32, 4*f.Params, 1
			d := base
			d.ID, d.Mode, d.Bits, d.StoredBytes = fmt.Sprintf("d%d%d", w, s), "direct", 2, 40
			d.TestErrPct = 5
			if s == 2 {
				d.TestErrPct = 95
			}
			recs = append(recs, f, d)
		}
	}
	s, err := Write(t.TempDir(), recs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Plots) != 8 {
		t.Errorf("%d plot files, want 8", len(s.Plots))
	}
}
