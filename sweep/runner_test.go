package sweep

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/resq-dev/resq/ckpt"
	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/internal/host"
	"github.com/resq-dev/resq/internal/version"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/tensor"
)

// blobs writes a small synthetic classification set (Gaussian blobs, D
// features, K classes) as four NPY files and returns its dataset name.
func blobs(t testing.TB, dir string, d, k, ntrain, ntest int, seed uint64) string {
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

func blobSpec(t testing.TB, dataset, extra string) *Spec {
	return mustSpec(t, "dataset: "+dataset+`
mlp: {widths: [8, 32], depths: [1]}
bits: [2, 3]
seeds: [1]
float: {epochs: 4, batch: 20, lr: 0.05}
retrain: {epochs: 2}
`+extra)
}

func TestTrainRunner(t *testing.T) {
	ds := blobs(t, t.TempDir(), 12, 3, 600, 300, 5)
	spec := blobSpec(t, ds, "")
	var got [][]results.Record
	for _, workers := range []int{1, 2} {
		dir := t.TempDir()
		sum, err := Run(context.Background(), spec, dir, RunOptions{Runner: NewTrainRunner(TrainRunnerOptions{SaveRetrained: true}), Workers: workers})
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
			case ModeFloat:
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
			if r.Mode == ModeRetrain {
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

func TestTrainRunnerDiverges(t *testing.T) {
	ds := blobs(t, t.TempDir(), 6, 2, 200, 100, 9)
	spec := mustSpec(t, "dataset: "+ds+`
mlp: {widths: [4], depths: [1]}
bits: [2]
float: {epochs: 2, batch: 10, lr: 1e30, momentum: 0}
`)
	dir := t.TempDir()
	sum, err := Run(context.Background(), spec, dir, RunOptions{Runner: NewTrainRunner(TrainRunnerOptions{})})
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

func TestTrainRunnerBadDataset(t *testing.T) {
	spec := mustSpec(t, "dataset: npy:/nonexistent/a.npy,b,c,d\nmlp: {widths: [4], depths: [1]}\nbits: [2]\n")
	dir := t.TempDir()
	// The dataset is loaded before the first cell: the sweep is refused,
	// nothing is recorded.
	_, err := Run(context.Background(), spec, dir, RunOptions{Runner: NewTrainRunner(TrainRunnerOptions{})})
	if err == nil || !strings.Contains(err.Error(), `"/nonexistent/a.npy": no such file`) || !strings.Contains(err.Error(), "no cell was run") {
		t.Fatalf("err %v", err)
	}
	if recs, err := results.ReadDir(dir); err != nil || len(recs) != 0 {
		t.Fatalf("%d records (%v), want none", len(recs), err)
	}
}

func TestSpecValidatesBudgetWithTrain(t *testing.T) {
	_, err := ParseSpec("spec.yaml", []byte("dataset: mnist\nmlp: {widths: [4]}\nfloat:\n  optimizer: adagrad\n"))
	if err == nil || !strings.Contains(err.Error(), "spec.yaml:3: float: train: unknown optimizer") {
		t.Fatalf("err %v", err)
	}
}
