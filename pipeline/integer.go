package pipeline

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/tensor"
)

// ExportInteger writes the quantized checkpoint as an integer-only packed
// model (packed.ExportInteger), calibrating its activation ranges on the
// first n training rows of ds (all of them when fewer) with the given
// percentile (0: packed.DefaultPercentile).
func (c *Checkpoint) ExportInteger(out string, base3 bool, ds *data.Dataset, n int, pct float64) (*Exported, error) {
	if c.Quant == nil {
		return nil, fmt.Errorf("pipeline: %s is a float checkpoint; quantize or retrain it first (resq quantize / resq retrain)", c.Path)
	}
	if n < 1 {
		return nil, fmt.Errorf("pipeline: --calib-samples %d, need at least 1", n)
	}
	d := tensor.Numel(c.M.In)
	if ds.Train.D != d {
		return nil, fmt.Errorf("pipeline: calibration data %s has %d inputs per sample, %s takes %d", ds.Name, ds.Train.D, c.Path, d)
	}
	n = min(n, ds.Train.N)
	if n < 1 {
		return nil, fmt.Errorf("pipeline: calibration data %s has no training rows", ds.Name)
	}
	meta := packed.Meta{
		Options: packed.Options{Base3: base3}, Dataset: c.Meta.Dataset, DatasetSHA256: c.Meta.DatasetChecksum,
		SourceCheckpoint: c.Path,
		Extra:            map[string]string{"calibration": fmt.Sprintf("%s train rows 0..%d (%s)", ds.Name, n-1, ds.Checksum)},
	}
	size, err := packed.ExportInteger(out, c.M, c.Quant, ds.Train.X[:n*d], n, packed.IntOptions{Percentile: pct}, meta)
	if err != nil {
		return nil, err
	}
	m, err := packed.Load(out)
	if err != nil {
		return nil, err
	}
	var stored int64
	for _, l := range m.Integer().Layers {
		stored += int64(len(l.Codes)) + 12*int64(l.Rows) // codes, int32 bias, multiplier, shift
	}
	w, p := c.M.Count()
	e := &Exported{Out: out, Model: c.M.Spec, Bits: c.Quant.Bits, Base3: base3, FileBytes: size,
		StoredBytes: stored, FloatBytes: 4 * p, Weights: w}
	e.Ratio = float64(e.FloatBytes) / float64(e.FileBytes)
	return e, nil
}

// loadIntegerFor loads an integer-mode packed model and checks it takes
// ds's rows.
func loadIntegerFor(path string, ds *data.Dataset) (*packed.Model, error) {
	m, err := packed.Load(path)
	if err != nil {
		return nil, err
	}
	if m.Integer() == nil {
		return nil, fmt.Errorf("pipeline: %s is a float-mode packed model; export it with --integer", path)
	}
	d := tensor.Numel(m.In)
	if d != ds.Test.D {
		return nil, fmt.Errorf("pipeline: %s takes %d inputs per sample, dataset %s has %d", path, d, ds.Name, ds.Test.D)
	}
	return m, nil
}

// InputCodes returns ds's test rows coded on the input grid of the
// integer-mode model m ([N, D] bytes).
func InputCodes(m *packed.Model, ds *data.Dataset) []uint8 {
	u := make([]uint8, len(ds.Test.X))
	m.QuantizeInput(u, ds.Test.X)
	return u
}

// RawInputs writes ds's test rows as the input codes of the integer-mode
// model at path, one row of D bytes per sample: the input format of the
// generated C harness.
func RawInputs(path string, ds *data.Dataset, out string) (int, error) {
	m, err := loadIntegerFor(path, ds)
	if err != nil {
		return 0, err
	}
	u := InputCodes(m, ds)
	err = atomicfile.WriteFile(out, func(w io.Writer) error {
		_, err := w.Write(u)
		return err
	})
	return ds.Test.N, err
}

// PrintLines runs the integer-mode model at path on ds's test rows and
// writes one line per sample to out ("-": standard output, through w):
// the predicted class, then the int32 logits, space separated, exactly as
// the generated C harness prints them.
func PrintLines(path string, ds *data.Dataset, out string, w io.Writer) error {
	m, err := loadIntegerFor(path, ds)
	if err != nil {
		return err
	}
	u := InputCodes(m, ds)
	n, k := ds.Test.N, m.Classes
	logits := make([]int32, n*k)
	pred := make([]int32, n)
	m.InferInt(logits, pred, u, n)
	write := func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		var line []byte
		for i := 0; i < n; i++ {
			line = strconv.AppendInt(line[:0], int64(pred[i]), 10)
			for _, v := range logits[i*k : (i+1)*k] {
				line = append(line, ' ')
				line = strconv.AppendInt(line, int64(v), 10)
			}
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
		return bw.Flush()
	}
	if out == "-" {
		return write(w)
	}
	return atomicfile.WriteFile(out, write)
}
