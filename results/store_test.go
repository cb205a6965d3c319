package results

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func rec(id, status string, width int, mode string, bits int, seed uint64) Record {
	return Record{ID: id, Status: status, Dataset: "mnist", Family: "mlp", Width: width, Depth: 2,
		Mode: mode, Bits: bits, Seed: seed, TestErrPct: float64(width) / 100, Config: map[string]any{"w": float64(width)}}
}

func TestAppendReadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	want := []Record{rec("a", StatusOK, 32, "float", 32, 1), rec("b", StatusFailed, 64, "direct", 2, 1)}
	want[1].Reason = "loss is NaN\nsecond line"
	for _, r := range want {
		if err := Append(path, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestAppendConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	const goroutines, each = 4, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := rec(fmt.Sprintf("g%d-%d", g, i), StatusOK, 32+i, "float", 32, uint64(g))
				// A long reason makes lines bigger than a pipe buffer.
				r.Reason = strings.Repeat("x", 5000+i)
				if err := Append(path, r); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, torn, err := ReadFileTorn(path)
	if err != nil {
		t.Fatal(err)
	}
	if torn != 0 || len(got) != goroutines*each {
		t.Fatalf("got %d records, %d torn; want %d, 0", len(got), torn, goroutines*each)
	}
	seen := map[string]bool{}
	for _, r := range got {
		if seen[r.ID] {
			t.Fatalf("record %s twice", r.ID)
		}
		seen[r.ID] = true
	}
}

func TestTornLastLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 20 {
		dir := t.TempDir()
		path := filepath.Join(dir, "results.jsonl")
		for i := range 3 {
			if err := Append(path, rec(fmt.Sprint(i), StatusOK, 32, "float", 32, uint64(i))); err != nil {
				t.Fatal(err)
			}
		}
		// Simulate a writer killed mid-line: a random prefix of a fourth line.
		full, _ := os.ReadFile(path)
		lines := strings.SplitAfter(string(full), "\n")
		frag := lines[0][:1+rng.IntN(len(lines[0])-1)] // never the newline
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(frag)
		f.Close()

		got, torn, err := ReadFileTorn(path)
		if err != nil || torn != 1 || len(got) != 3 {
			t.Fatalf("trial %d: fragment %q: got %d records, torn %d, err %v; want 3, 1, nil", trial, frag, len(got), torn, err)
		}
		// The next Append cuts the fragment off.
		if err := Append(path, rec("3", StatusOK, 32, "float", 32, 3)); err != nil {
			t.Fatal(err)
		}
		got, torn, err = ReadFileTorn(path)
		if err != nil || torn != 0 || len(got) != 4 || got[3].ID != "3" {
			t.Fatalf("trial %d after append: %d records, torn %d, err %v", trial, len(got), torn, err)
		}
	}
}

func TestTornOnlyLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	os.WriteFile(path, []byte(`{"id":"x","sta`), 0o644)
	if got, torn, err := ReadFileTorn(path); err != nil || torn != 1 || len(got) != 0 {
		t.Fatalf("got %d, torn %d, err %v", len(got), torn, err)
	}
	if err := Append(path, rec("y", StatusOK, 1, "float", 32, 1)); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFile(path); err != nil || len(got) != 1 || got[0].ID != "y" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestCorruptMiddleLine(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"garbage", "{\"id\":\"a\",\"status\":\"ok\"}\n{\"id\":\"b\",\"sta\n{\"id\":\"c\"}\n", "results.jsonl:2: corrupt record"},
		{"wrong type", "{\"id\":\"a\",\"bits\":\"two\"}\n", "results.jsonl:1: corrupt record"},
		{"no id", "{\"id\":\"a\"}\n\n{\"status\":\"ok\"}\n", "results.jsonl:3: record has no id"},
		{"negative bytes", "{\"id\":\"a\",\"status\":\"ok\",\"stored_bytes\":-5}\n", "results.jsonl:1: corrupt record a: stored_bytes -5 is negative"},
		{"error above 100", "{\"id\":\"a\",\"status\":\"ok\",\"test_error_pct\":150}\n", "results.jsonl:1: corrupt record a: test_error_pct 150 is not a percentage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.jsonl")
			os.WriteFile(path, []byte(tc.content), 0o644)
			_, err := ReadFile(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "results: ") {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestReadMissing(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "nope.jsonl"))
	if err == nil || !strings.HasPrefix(err.Error(), "results: ") {
		t.Fatalf("err = %v", err)
	}
	if _, err := ReadDir(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Fatal("ReadDir of a missing folder: no error")
	}
	recs, err := ReadDir(t.TempDir())
	if err != nil || len(recs) != 0 {
		t.Fatalf("empty folder: %v, %v", recs, err)
	}
}

func TestReadDirMerge(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "results-shard-0-of-2.jsonl")
	b := filepath.Join(dir, "results-shard-1-of-2.jsonl")
	failed := rec("x", StatusFailed, 64, "retrain", 2, 1)
	failed.Reason = "killed"
	okX := rec("x", StatusOK, 64, "retrain", 2, 1)
	for _, w := range []struct {
		path string
		r    Record
	}{
		{a, failed}, {a, rec("f64", StatusOK, 64, "float", 32, 1)}, {b, okX}, {b, rec("f32", StatusOK, 32, "float", 32, 1)},
		{b, rec("f32", StatusOK, 32, "float", 32, 1)}, {a, rec("d32", StatusOK, 32, "direct", 2, 1)},
		{b, rec("y", StatusFailed, 32, "retrain", 3, 1)},
	} {
		if err := Append(w.path, w.r); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "other.jsonl"), []byte("not json\n"), 0o644) // not a results file
	got, st, err := ReadDirStats(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.ID+":"+r.Status)
	}
	want := []string{"f32:ok", "d32:ok", "y:failed", "f64:ok", "x:ok"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("merged %v, want %v", ids, want)
	}
	if st.Lines != 7 || st.Duplicates != 2 || len(st.Files) != 2 || st.Torn != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMergeOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var recs []Record
	for w := 32; w <= 256; w *= 2 {
		for _, m := range []string{"float", "direct", "retrain"} {
			for s := uint64(1); s <= 2; s++ {
				recs = append(recs, rec(fmt.Sprint(w, m, s), StatusOK, w, m, 2, s))
			}
		}
	}
	want := Merge(recs)
	for range 10 {
		shuf := append([]Record(nil), recs...)
		rng.Shuffle(len(shuf), func(i, j int) { shuf[i], shuf[j] = shuf[j], shuf[i] })
		if got := Merge(shuf); !reflect.DeepEqual(got, want) {
			t.Fatal("Merge depends on input order")
		}
	}
	if want[0].Mode != "float" || want[1].Mode != "float" || want[0].Seed != 1 || want[2].Mode != "direct" {
		t.Fatalf("unexpected order: %+v", want[:3])
	}
}

func BenchmarkAppendSmall(b *testing.B) {
	path := filepath.Join(b.TempDir(), "results.jsonl")
	r := rec("bench", StatusOK, 64, "float", 32, 1)
	for b.Loop() {
		if err := Append(path, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "us/record")
}
