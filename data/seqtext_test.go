package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTextWindows(t *testing.T) {
	s := TextWindows([]byte("abcdefg\n"), 3, 0)
	if s.N != 2 || s.D != 3 || s.Steps != 3 {
		t.Fatalf("N %d D %d Steps %d, want 2 3 3", s.N, s.D, s.Steps)
	}
	want := []int32{CharID('a'), CharID('b'), CharID('c'), CharID('d'), CharID('e'), CharID('f')}
	for i, v := range s.X {
		if int32(v) != want[i] {
			t.Fatalf("X %v, want %v", s.X, want)
		}
	}
	if s.Y[5] != CharID('g') || s.Y[0] != CharID('b') {
		t.Fatalf("Y %v: labels are not the next characters", s.Y)
	}
	if l := TextWindows([]byte("abcdefg\n"), 3, 1); l.N != 1 {
		t.Fatalf("limit 1: N %d", l.N)
	}
	if e := TextWindows(nil, 3, 0); e.N != 0 {
		t.Fatalf("empty text: N %d", e.N)
	}
	ids := map[int32]bool{}
	for b := 0; b < 256; b++ {
		id := CharID(byte(b))
		if id < 0 || id >= VocabSize {
			t.Fatalf("CharID(%d) = %d", b, id)
		}
		ids[id] = true
	}
	if len(ids) != VocabSize {
		t.Fatalf("%d ids used, want %d", len(ids), VocabSize)
	}
}

func TestFortunesRefusesOtherBytes(t *testing.T) {
	dir := t.TempDir()
	for _, f := range fortunesFiles {
		if err := os.WriteFile(filepath.Join(dir, f.Name), []byte("not the fortunes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := loadFortunes(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "sha256") || !strings.Contains(err.Error(), FortunesPackage) {
		t.Fatalf("error %v, want a checksum refusal naming the package", err)
	}
	os.Remove(filepath.Join(dir, fortunesFiles[0].Name))
	if _, err := loadFortunes(dir, Options{}); err == nil || !strings.Contains(err.Error(), "apt-get install fortunes") {
		t.Fatalf("missing file: error %v", err)
	}
}

// TestFortunesReal loads the installed corpus when the package is there.
func TestFortunesReal(t *testing.T) {
	if _, err := os.Stat(fortunesDir); err != nil {
		t.Skip("Debian's fortunes package is not installed")
	}
	ds, err := Load("fortunes", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Metric() != MetricBPC || ds.Train.N < 15000 || ds.Val.N < 1000 || ds.Test.N < 2000 || ds.Classes != VocabSize {
		t.Fatalf("fortunes: train %d val %d test %d windows, %d classes, metric %s", ds.Train.N, ds.Val.N, ds.Test.N, ds.Classes, ds.Metric())
	}
	if _, err := Load("fortunes", Options{ValSize: 10}); err == nil {
		t.Fatal("a carved validation split was accepted")
	}
}

func TestSeqPermutation(t *testing.T) {
	p := seqPermutation(784)
	s := slices.Clone(p)
	slices.Sort(s)
	for i, v := range s {
		if v != i {
			t.Fatal("not a permutation")
		}
	}
	if slices.Equal(p, s) || !slices.Equal(p, seqPermutation(784)) {
		t.Fatal("permutation is the identity or not deterministic")
	}
	ds := &Dataset{Name: "x", Shape: []int{1, 2, 2}, Train: Split{N: 1, D: 4, X: []float32{0, 1, 2, 3}, Y: []int32{0}}}
	asSequence(ds, "pseq-x", true)
	q := seqPermutation(4)
	for j, v := range ds.Train.X {
		if int(v) != q[j] {
			t.Fatalf("permuted row %v, permutation %v", ds.Train.X, q)
		}
	}
	if !slices.Equal(ds.Shape, []int{2, 2}) || ds.Name != "pseq-x" {
		t.Fatalf("shape %v name %s", ds.Shape, ds.Name)
	}
}

func TestSeqMNIST(t *testing.T) {
	img, err := Load("mnist", Options{Limit: 50})
	if err != nil {
		t.Skipf("MNIST not cached: %v", err)
	}
	for _, name := range []string{"seq-mnist", "pseq-mnist"} {
		ds, err := Load(name, Options{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if ds.Name != name || !slices.Equal(ds.Shape, []int{28, 28}) || ds.Train.N != 50 {
			t.Fatalf("%s: name %s shape %v N %d", name, ds.Name, ds.Shape, ds.Train.N)
		}
		same := slices.Equal(ds.Train.X, img.Train.X)
		if same == (name == "pseq-mnist") {
			t.Fatalf("%s: pixels equal to MNIST's: %v", name, same)
		}
	}
}
