package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/resq-dev/resq/quant"
)

// TestIntegerExport exports a ternary model trained on signed synthetic
// data (the input grid gets a zero point) as an integer-only model, and
// checks its lines, its raw inputs and its agreement with the simulated
// forward, and the calibration shape check.
func TestIntegerExport(t *testing.T) {
	ds := blobs(3, 600, 300)
	dir := t.TempDir()
	fpath := filepath.Join(dir, "float.st")
	if _, err := TrainFloat(context.Background(), ds, "mlp:12-32x2-3", smallTrain(), 7, fpath, nil); err != nil {
		t.Fatal(err)
	}
	c, err := Load(fpath)
	if err != nil {
		t.Fatal(err)
	}
	qpath := filepath.Join(dir, "q.st")
	if _, err := c.Quantize(ds, quant.Config{Bits: 2, ActBits: 8, ActRange: "pct:99.99"}, qpath); err != nil {
		t.Fatal(err)
	}
	q, err := Load(qpath)
	if err != nil {
		t.Fatal(err)
	}
	ipath := filepath.Join(dir, "q.int.rq")
	ex, err := q.ExportInteger(ipath, false, ds, 200, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ex.StoredBytes >= ex.FileBytes {
		t.Errorf("stored %d bytes, file %d", ex.StoredBytes, ex.FileBytes)
	}
	a, err := Compare(context.Background(), ipath, q, ds, 50)
	if err != nil {
		t.Fatal(err)
	}
	if a.Disagree > ds.Test.N/50 {
		t.Errorf("integer-only model disagrees with the simulated forward on %d of %d samples", a.Disagree, a.N)
	}
	var out bytes.Buffer
	if err := PrintLines(ipath, ds, "-", &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != ds.Test.N {
		t.Fatalf("%d lines for %d samples", len(lines), ds.Test.N)
	}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 1+ds.Classes {
			t.Fatalf("line %d: %q", i, l)
		}
		best, bi := int64(0), 0
		for k, s := range f[1:] {
			v, _ := strconv.ParseInt(s, 10, 32)
			if k == 0 || v > best {
				best, bi = v, k
			}
		}
		if f[0] != strconv.Itoa(bi) {
			t.Fatalf("line %d: class %s, largest logit at %d", i, f[0], bi)
		}
	}
	raw := filepath.Join(dir, "in.bin")
	if n, err := RawInputs(ipath, ds, raw); err != nil || n != ds.Test.N {
		t.Fatal(n, err)
	}
	if st, err := os.Stat(raw); err != nil || st.Size() != int64(ds.Test.N*ds.Test.D) {
		t.Errorf("raw inputs: %v %v", st, err)
	}
	other := blobs(4, 50, 50)
	other.Train.D, other.Train.X = 5, other.Train.X[:5*50]
	if _, err := q.ExportInteger(filepath.Join(dir, "x.rq"), false, other, 50, 0); err == nil || !strings.Contains(err.Error(), "inputs per sample") {
		t.Errorf("calibration data of the wrong shape: %v", err)
	}
	if err := PrintLines(filepath.Join(dir, "missing.rq"), ds, "-", &out); err == nil {
		t.Error("missing model accepted")
	}
}
