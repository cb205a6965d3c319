package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/resq-dev/resq/ckpt"
	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/internal/host"
	"github.com/resq-dev/resq/internal/version"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/sweep"
	"github.com/resq-dev/resq/tensor"
)

func mustSpec(t testing.TB, src string) *sweep.Spec {
	t.Helper()
	s, err := sweep.ParseSpec("spec.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stripTimings zeroes what legitimately differs between runs.
func stripTimings(recs []results.Record) []results.Record {
	out := append([]results.Record(nil), recs...)
	for i := range out {
		out[i].TrainSeconds, out[i].EvalSeconds = 0, 0
	}
	return out
}

func readAll(t testing.TB, dir string) []results.Record {
	t.Helper()
	recs, err := results.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestRunnerCost: every record carries cost figures computed from its
// codes, latency comes after the cells, and Recost rebuilds the figures
// of records that lack them from the stored models.
func TestRunnerCost(t *testing.T) {
	ds := npyBlobs(t, t.TempDir(), 12, 3, 400, 200, 7)
	spec := npyBlobSpec(t, ds, "")
	dir := t.TempDir()
	runner := NewCellRunner(CellRunnerOptions{SaveRetrained: true, MeasureLatency: true})
	if _, err := sweep.Run(context.Background(), spec, dir, sweep.RunOptions{Runner: runner, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, dir)
	if len(recs) != 10 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs {
		f := r.Cost
		if f == nil || f.Latency == nil || f.Latency.Batch1US <= 0 || f.Latency.Batch100US <= 0 {
			t.Fatalf("%s %s %db: cost %+v", r.Mode, r.Model, r.Bits, f)
		}
		if f.WeightBytes != r.StoredBytes || f.Weights != r.Weights || f.Table != cost.DefaultTable().Name {
			t.Fatalf("%s: figures %+v do not match the record (%d bytes, %d weights)", r.ID, *f, r.StoredBytes, r.Weights)
		}
		// The figures are those of the model on disk (retrained models are
		// saved in this test), computed again from its codes.
		c, err := Load(filepath.Join(dir, "models", r.ID+".safetensors"))
		if err == nil && r.Mode != sweep.ModeDirect {
			g, err := cost.Of(c.M, c.Quant, packed.Options{}, cost.DefaultBatch, nil)
			if err != nil {
				t.Fatal(err)
			}
			g.Latency = f.Latency
			if *g != *f {
				t.Fatalf("%s %s: recorded %+v, recomputed %+v", r.Mode, r.ID, *f, *g)
			}
		}
		if r.Mode == sweep.ModeRetrain && r.Bits == 2 && (f.TernaryAdds == 0 || f.TernaryAdds > f.Weights || f.LowBitMACs != 0) {
			t.Fatalf("ternary figures %+v", *f)
		}
	}

	// Records of an older resq: no cost figures. Recost rebuilds them.
	old := t.TempDir()
	if err := os.MkdirAll(filepath.Join(old, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Cost = nil
		if err := results.Append(filepath.Join(old, "results.jsonl"), r); err != nil {
			t.Fatal(err)
		}
		if r.Mode == sweep.ModeFloat {
			b, err := os.ReadFile(filepath.Join(dir, "models", r.ID+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(old, "models", r.ID+".safetensors"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	sum, err := Recost(context.Background(), old, RecostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Float and direct cells come back; retrained models were not copied.
	if sum.Computed != 6 || len(sum.Missing) != 4 {
		t.Fatalf("recost: %+v", sum)
	}
	byID := map[string]results.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	for _, r := range readAll(t, old) {
		if r.Mode == sweep.ModeRetrain {
			if r.Cost != nil {
				t.Fatalf("retrain record got figures without its model")
			}
			continue
		}
		want := *byID[r.ID].Cost
		want.Latency = nil
		if r.Cost == nil || *r.Cost != want {
			t.Fatalf("%s %s: recomputed %+v, want %+v", r.Mode, r.ID, r.Cost, want)
		}
	}
}

// TestFaultsRun runs a small sweep with a faults key: every record carries
// its curves, the zero rate gives the fault-free error, and the fault-free
// error is the cell's test error.
func TestFaultsRun(t *testing.T) {
	ds := npyBlobs(t, t.TempDir(), 12, 3, 400, 200, 9)
	spec := npyBlobSpec(t, ds, "faults: {ber: [0, 1e-3, 0.05], trials: 3, protections: [none, tmr]}\n")
	dir := t.TempDir()
	if _, err := sweep.Run(context.Background(), spec, dir, sweep.RunOptions{Runner: NewCellRunner(CellRunnerOptions{}), Workers: 2}); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, dir)
	if len(recs) != 10 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs {
		f := r.Faults
		if f == nil || len(f.Curves) != 2 || len(f.Curves[0].Points) != 3 || f.Trials != 3 {
			t.Fatalf("%s %db: faults %+v", r.Mode, r.Bits, f)
		}
		if f.Curves[0].Points[0].MeanErrPct != f.FaultFreeErrPct || f.Curves[1].ExtraBits == 0 {
			t.Errorf("%s %db: rate 0 gives %.2f, fault-free %.2f; tmr costs %d bits", r.Mode, r.Bits, f.Curves[0].Points[0].MeanErrPct, f.FaultFreeErrPct, f.Curves[1].ExtraBits)
		}
		if r.Mode == sweep.ModeFloat && f.FaultFreeErrPct != r.TestErrPct {
			t.Errorf("float cell: fault-free error %.2f, test error %.2f", f.FaultFreeErrPct, r.TestErrPct)
		}
	}
}

// tinySpec is a one-group sweep (float, direct and retrain at 2 bits) on
// dataset.
func tinySpec(t *testing.T, dataset, extra string) *sweep.Spec {
	return mustSpec(t, "dataset: "+dataset+`
mlp: {widths: [4], depths: [1]}
bits: [2]
float: {epochs: 1, batch: 20}
retrain: {epochs: 1}
`+extra)
}

// TestRunRefusesCellsThatCannotRun checks that what the single commands
// reject up front stops a sweep before its first cell, with nothing
// recorded.
func TestRunRefusesCellsThatCannotRun(t *testing.T) {
	ds := npyBlobs(t, t.TempDir(), 6, 3, 60, 30, 3)
	for _, tc := range []struct {
		name, spec, want string
	}{
		{"val_size larger than the data", "dataset: " + ds + "\nval_size: 500\nmlp: {widths: [4], depths: [1]}\nbits: [2]\n", "validation size 500 leaves no training rows"},
		{"cnn on flat data", "dataset: " + ds + "\nfamily: cnn\ncnn: {base: \"cnn:4c3-p2-fc8-3\", scales: [1]}\nbits: [2]\n", "cnn model needs a [C H W] input shape"},
		{"unknown dataset", "dataset: nope\nmlp: {widths: [4], depths: [1]}\nbits: [2]\n", `unknown dataset "nope"`},
		{"early stopping without validation", "dataset: " + ds + "\nmlp: {widths: [4], depths: [1]}\nbits: [2]\nfloat: {patience: 2}\n", "needs a validation split"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := sweep.Run(context.Background(), mustSpec(t, tc.spec), dir, sweep.RunOptions{Runner: NewCellRunner(CellRunnerOptions{})})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "no cell was run") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v, want one line with %q", err, tc.want)
			}
			if recs, _ := results.ReadDir(dir); len(recs) != 0 {
				t.Errorf("%d records written", len(recs))
			}
		})
	}
}

// TestRunHealsFloatModel checks that a float model that cannot be used
// (truncated, of another architecture, with a NaN weight) is trained again
// when its dependents need it, instead of failing them on every rerun.
func TestRunHealsFloatModel(t *testing.T) {
	ds := npyBlobs(t, t.TempDir(), 6, 3, 60, 30, 4)
	spec := tinySpec(t, ds, "")
	// A model of another architecture: width 7 instead of 4.
	wide := t.TempDir()
	wideSpec := mustSpec(t, "dataset: "+ds+"\nmlp: {widths: [7], depths: [1]}\nbits: [2]\nfloat: {epochs: 1, batch: 20}\nretrain: {epochs: 1}\n")
	if _, err := sweep.Run(context.Background(), wideSpec, wide, sweep.RunOptions{Runner: NewCellRunner(CellRunnerOptions{})}); err != nil {
		t.Fatal(err)
	}
	wideCells, _ := wideSpec.Cells()
	wideModel, err := os.ReadFile(filepath.Join(wide, "models", wideCells[0].ID+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	cells, _ := spec.Cells()
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"another architecture", func([]byte) []byte { return wideModel }},
		{"empty", func([]byte) []byte { return nil }},
		{"NaN weight", func(b []byte) []byte {
			m, meta, err := ckpt.LoadBytes(b, "m")
			if err != nil {
				t.Fatal(err)
			}
			m.Params()[0].W.Data[3] = float32(math.NaN())
			var out bytes.Buffer
			if err := ckpt.Encode(&out, m, meta); err != nil {
				t.Fatal(err)
			}
			return out.Bytes()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			run := func() *sweep.Summary {
				sum, err := sweep.Run(context.Background(), spec, dir, sweep.RunOptions{Runner: NewCellRunner(CellRunnerOptions{})})
				if err != nil {
					t.Fatal(err)
				}
				return sum
			}
			run()
			// The float cell is done; drop the dependents' records so that
			// they must run again from the damaged model.
			res := filepath.Join(dir, "results.jsonl")
			b, _ := os.ReadFile(res)
			lines := strings.SplitAfter(string(b), "\n")
			if err := os.WriteFile(res, []byte(lines[0]), 0o644); err != nil {
				t.Fatal(err)
			}
			model := filepath.Join(dir, "models", cells[0].ID+".safetensors")
			mb, err := os.ReadFile(model)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(model, tc.damage(mb), 0o644); err != nil {
				t.Fatal(err)
			}
			sum := run()
			if sum.Failed != 0 || sum.Ran != 3 {
				t.Errorf("rerun on a damaged float model: %+v, want the float cell and both dependents run, none failed", sum)
			}
		})
	}
}

// TestRunRefusesChangedData checks that a sweep whose dataset files
// changed under the same path does not reuse the cells of the old data.
func TestRunRefusesChangedData(t *testing.T) {
	dataDir := t.TempDir()
	ds := npyBlobs(t, dataDir, 6, 3, 60, 30, 5)
	spec := tinySpec(t, ds, "")
	dir := t.TempDir()
	if _, err := sweep.Run(context.Background(), spec, dir, sweep.RunOptions{Runner: NewCellRunner(CellRunnerOptions{})}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "results.jsonl"))
	npyBlobs(t, dataDir, 6, 3, 60, 30, 6) // same paths, other rows
	_, err := sweep.Run(context.Background(), spec, dir, sweep.RunOptions{Runner: NewCellRunner(CellRunnerOptions{})})
	if err == nil || !strings.Contains(err.Error(), "the data changed") || !strings.Contains(err.Error(), "3 records") {
		t.Fatalf("err %v, want a refusal", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "results.jsonl")); string(after) != string(before) {
		t.Error("results.jsonl changed")
	}
}

// blobs writes a small synthetic classification set (Gaussian blobs, D
// features, K classes) as four NPY files and returns its dataset name.
func npyBlobs(t testing.TB, dir string, d, k, ntrain, ntest int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	centers := make([]float32, k*d)
	for i := range centers {
		centers[i] = float32(rng.NormFloat64() * 0.5)
	}
	gen := func(n int) ([]float32, []int32) {
		x, y := make([]float32, n*d), make([]int32, n)
		for i := range n {
			c := rng.IntN(k)
			y[i] = int32(c)
			for j := range d {
				x[i*d+j] = centers[c*d+j] + float32(rng.NormFloat64())
			}
		}
		return x, y
	}
	var paths []string
	write := func(name string, shape []int, v any) {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := data.WriteNPY(f, shape, v); err != nil {
			t.Fatal(err)
		}
		f.Close()
		paths = append(paths, p)
	}
	xtr, ytr := gen(ntrain)
	xte, yte := gen(ntest)
	write("train_x.npy", []int{ntrain, d}, xtr)
	write("train_y.npy", []int{ntrain}, ytr)
	write("test_x.npy", []int{ntest, d}, xte)
	write("test_y.npy", []int{ntest}, yte)
	return "npy:" + strings.Join(paths, ",")
}

func npyBlobSpec(t testing.TB, dataset, extra string) *sweep.Spec {
	return mustSpec(t, "dataset: "+dataset+`
mlp: {widths: [8, 32], depths: [1]}
bits: [2, 3]
seeds: [1]
float: {epochs: 4, batch: 20, lr: 0.05}
retrain: {epochs: 2}
`+extra)
}

func TestCellRunner(t *testing.T) {
	ds := npyBlobs(t, t.TempDir(), 12, 3, 600, 300, 5)
	spec := npyBlobSpec(t, ds, "")
	var got [][]results.Record
	for _, workers := range []int{1, 2} {
		dir := t.TempDir()
		sum, err := sweep.Run(context.Background(), spec, dir, sweep.RunOptions{Runner: NewCellRunner(CellRunnerOptions{SaveRetrained: true}), Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if sum.OK != 10 || sum.Failed != 0 {
			recs, _ := results.ReadDir(dir)
			t.Fatalf("workers %d: %+v\n%+v", workers, sum, recs)
		}
		recs := readAll(t, dir)
		got = append(got, stripTimings(recs))
		floatErr := map[int]float64{}
		for _, r := range recs {
			if r.Version != version.String() || r.CPU != host.CPU() || !strings.HasPrefix(r.Kernels, "gemm "+tensor.Kernel()+", int8 ") {
				t.Fatalf("record %s: version %q, cpu %q, kernels %q: want this build, CPU and kernels", r.ID, r.Version, r.CPU, r.Kernels)
			}
			if r.DatasetChecksum == "" || r.Version == "" || r.Weights <= 0 || r.Params <= r.Weights || math.IsNaN(r.TestErrPct) || r.TrainSeconds < 0 {
				t.Fatalf("record %+v", r)
			}
			switch r.Mode {
			case sweep.ModeFloat:
				floatErr[r.Width] = r.TestErrPct
				if r.StoredBytes != 4*r.Params || !strings.HasPrefix(r.Model, "mlp:12-") || r.TrainSeconds <= 0 {
					t.Fatalf("float record %+v", r)
				}
				if r.TestErrPct > 40 { // chance is 67%
					t.Fatalf("float width %d: test error %.1f%% on separable blobs", r.Width, r.TestErrPct)
				}
				if _, _, err := ckpt.Load(filepath.Join(dir, "models", r.ID+".safetensors")); err != nil {
					t.Fatal(err)
				}
			default:
				// codes at b bits + 4-byte steps and biases: well below float.
				if r.StoredBytes <= r.Weights*int64(r.Bits)/8 || r.StoredBytes >= 4*r.Params/2 {
					t.Fatalf("%s %d bits: stored %d bytes for %d weights, %d params", r.Mode, r.Bits, r.StoredBytes, r.Weights, r.Params)
				}
			}
			if r.Mode == sweep.ModeRetrain {
				_, meta, err := ckpt.Load(filepath.Join(dir, "models", r.ID+".safetensors"))
				if err != nil || len(meta.Quant) == 0 {
					t.Fatalf("retrained model: %v, quant %q", err, meta.Quant)
				}
			}
		}
	}
	if !reflect.DeepEqual(got[0], got[1]) {
		for i := range got[0] {
			if !reflect.DeepEqual(got[0][i], got[1][i]) {
				t.Errorf("1 worker:  %+v\n2 workers: %+v", got[0][i], got[1][i])
			}
		}
		t.Fatal("results differ between 1 and 2 workers")
	}
}

func TestCellRunnerDiverges(t *testing.T) {
	ds := npyBlobs(t, t.TempDir(), 6, 2, 200, 100, 9)
	spec := mustSpec(t, "dataset: "+ds+`
mlp: {widths: [4], depths: [1]}
bits: [2]
float: {epochs: 2, batch: 10, lr: 1e30, momentum: 0}
`)
	dir := t.TempDir()
	sum, err := sweep.Run(context.Background(), spec, dir, sweep.RunOptions{Runner: NewCellRunner(CellRunnerOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 3 {
		t.Fatalf("summary %+v", sum)
	}
	for _, r := range readAll(t, dir) {
		if r.Status != "failed" || !strings.Contains(r.Reason, "train: ") {
			t.Fatalf("record %+v", r)
		}
	}
}

func TestCellRunnerBadDataset(t *testing.T) {
	spec := mustSpec(t, "dataset: npy:/nonexistent/a.npy,b,c,d\nmlp: {widths: [4], depths: [1]}\nbits: [2]\n")
	dir := t.TempDir()
	// The dataset is loaded before the first cell: the sweep is refused,
	// nothing is recorded.
	_, err := sweep.Run(context.Background(), spec, dir, sweep.RunOptions{Runner: NewCellRunner(CellRunnerOptions{})})
	if err == nil || !strings.Contains(err.Error(), `"/nonexistent/a.npy": no such file`) || !strings.Contains(err.Error(), "no cell was run") {
		t.Fatalf("err %v", err)
	}
	if recs, err := results.ReadDir(dir); err != nil || len(recs) != 0 {
		t.Fatalf("%d records (%v), want none", len(recs), err)
	}
}

// TestPresetReal runs a whole preset with the real runner on the real
// dataset: RESQ_SWEEP_PRESET=quick go test -run PresetReal -v ./pipeline
// (RESQ_SWEEP_OUT keeps the output folder; the dataset must be cached or
// fetchable). It reports the wall time and the pure training time, which
// is how preset budgets are tuned.
func TestPresetReal(t *testing.T) {
	name := os.Getenv("RESQ_SWEEP_PRESET")
	if name == "" {
		t.Skip("set RESQ_SWEEP_PRESET=quick (or paper-ffdnn, paper-cnn) to run a real preset")
	}
	spec, err := sweep.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("RESQ_SWEEP_OUT")
	if dir == "" {
		dir = t.TempDir()
	}
	start := time.Now()
	sum, err := sweep.Run(context.Background(), spec, dir, sweep.RunOptions{
		Runner: NewCellRunner(CellRunnerOptions{Fetch: true, Log: os.Stderr}), Log: os.Stderr, Verbose: testing.Verbose(),
	})
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start).Seconds()
	recs, err := results.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var train, eval float64
	for _, r := range recs {
		if r.Status != results.StatusOK {
			t.Errorf("cell %s %s w=%d %db failed: %s", r.ID, r.Mode, r.Width, r.Bits, r.Reason)
		}
		train += r.TrainSeconds
		eval += r.EvalSeconds
		size := fmt.Sprintf("w=%-4d d=%d", r.Width, r.Depth)
		if r.Family == "cnn" {
			size = fmt.Sprintf("x%-9g", r.Scale)
		}
		t.Logf("%-7s %s %2db err %6.2f%%  %9d bytes  train %6.1fs eval %5.2fs", r.Mode, size, r.Bits, r.TestErrPct, r.StoredBytes, r.TrainSeconds, r.EvalSeconds)
	}
	t.Logf("preset %s: %d cells ran in %.1fs wall; cells' training %.1fs, evaluation %.1fs (summed over workers)", name, sum.Ran, wall, train, eval)
}
