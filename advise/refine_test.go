package advise

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/sweep"
)

// fakeRunner computes cells instantly: the cost figures of the real
// architecture (built, not trained, and quantized directly) and an error
// that falls with size and bits, so that the best configuration for a
// budget is known. By default the cells are MLPs on 16 features with
// err = 1 + 40/sqrt(w) + 3/bits^2 (+0.05 per seed above 1); in and errOf
// set another input shape and error.
type fakeRunner struct {
	ran   []string
	in    []int                            // per-sample input shape; nil: [16]
	errOf func(k sweep.CellConfig) float64 // nil: the MLP error above
}

func (f *fakeRunner) Run(_ context.Context, c sweep.Cell, env *sweep.Env) (results.Record, error) {
	k := c.Config
	in := f.in
	if in == nil {
		in = []int{16}
	}
	spec, err := k.ModelSpec(in, 4)
	if err != nil {
		return results.Record{}, err
	}
	m, err := nn.Build(spec, in, k.Seed)
	if err != nil {
		return results.Record{}, err
	}
	var s *quant.State
	if k.Mode != sweep.ModeFloat {
		if s, err = quant.Direct(m, quant.Config{Bits: k.Bits, Rule: "l2"}); err != nil {
			return results.Record{}, err
		}
	} else if err := atomicfile.WriteFile(env.ModelPath(c.ID), func(w io.Writer) error { _, err := io.WriteString(w, c.ID); return err }); err != nil {
		return results.Record{}, err
	}
	fig, err := cost.Of(m, s, packed.Options{}, cost.DefaultBatch, nil)
	if err != nil {
		return results.Record{}, err
	}
	f.ran = append(f.ran, c.Label())
	w, p := m.Count()
	e := 1 + 40/math.Sqrt(float64(k.Width)) + 3/float64(k.Bits*k.Bits) + 0.05*float64(k.Seed-1)
	if f.errOf != nil {
		e = f.errOf(k)
	}
	return results.Record{Model: spec, Weights: w, Params: p, StoredBytes: fig.WeightBytes, TestErrPct: e, Cost: fig}, nil
}

const fakeSpec = `name: fake
dataset: fake
mlp: {widths: [8, 64], depths: [2]}
bits: [2, 3]
modes: [float, retrain]
seeds: [1]
`

func fakeSweep(t *testing.T) (string, *fakeRunner) {
	t.Helper()
	spec, err := sweep.ParseSpec("fake.yaml", []byte(fakeSpec))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := &fakeRunner{}
	if _, err := sweep.Run(context.Background(), spec, dir, sweep.RunOptions{Runner: f, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	return dir, f
}

// bytesOf is the exact weight bytes of mlp:16-Wx2-4 at bits b.
func bytesOf(t *testing.T, w, b int) int64 {
	m, err := nn.Build(nn.MLPSpec(16, w, 2, 4, ""), nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := quant.Direct(m, quant.Config{Bits: b})
	if err != nil {
		t.Fatal(err)
	}
	return packed.StoredBytes(m, s, packed.Options{})
}

func TestRefine(t *testing.T) {
	dir, f := fakeSweep(t)
	specBefore, err := os.ReadFile(filepath.Join(dir, "sweep.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Budget: between the measured widths 8 and 64 at both bit widths.
	budget := float64(bytesOf(t, 30, 3))
	q := Query{Limits: []Limit{{WeightBytes, budget}}}
	f.ran = nil
	res, err := Refine(context.Background(), dir, q, RefineOptions{Cells: 6, Runner: f})
	if err != nil {
		t.Fatal(err)
	}
	if res.Before.Choice.Width != 8 || res.Before.Choice.Bits != 3 {
		t.Fatalf("before: %s", res.Before.Choice.Label())
	}
	if res.Ran > 6 || res.Ran != len(f.ran) || len(res.Proposals) == 0 {
		t.Fatalf("ran %d cells (%v), proposals %+v", res.Ran, f.ran, res.Proposals)
	}
	// The first proposal is the largest 3-bit width that fits.
	p := res.Proposals[0]
	if p.Bits != 3 || p.Width != 30 || p.Cells != 2 {
		t.Fatalf("first proposal %+v", p)
	}
	if float64(bytesOf(t, p.Width+1, 3)) <= budget {
		t.Fatalf("width %d is not the largest that fits", p.Width)
	}
	// Second: the largest ternary width under the budget.
	if q := res.Proposals[1]; q.Bits != 2 || float64(bytesOf(t, q.Width, 2)) > budget || float64(bytesOf(t, q.Width+1, 2)) <= budget {
		t.Fatalf("second proposal %+v", q)
	}
	a := res.After.Choice
	if a.Err.Mean >= res.Before.Choice.Err.Mean || a.WeightBytes > budget {
		t.Fatalf("after: %s at %v (%v bytes), before %v", a.Label(), a.Err, a.WeightBytes, res.Before.Choice.Err)
	}
	if a.Width != 30 && a.Width != res.Proposals[1].Width {
		t.Fatalf("after: %s", a.Label())
	}
	specAfter, _ := os.ReadFile(filepath.Join(dir, "sweep.yaml"))
	if string(specAfter) != string(specBefore) {
		t.Fatal("refine changed the folder's sweep.yaml")
	}

	// Again: the boundary sizes are measured now; what is left is cheaper
	// work (neighbouring bits, seeds) and nothing runs twice.
	f.ran = nil
	res2, err := Refine(context.Background(), dir, q, RefineOptions{Cells: 6, Runner: f})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range f.ran {
		if seen[l] {
			t.Fatalf("cell %s ran twice", l)
		}
		seen[l] = true
	}
	for _, p := range res2.Proposals {
		if p.Width == 30 && p.Bits == 3 && p.Seed == 1 {
			t.Fatalf("re-proposed a measured cell: %+v", p)
		}
	}
}

func TestRefineErrors(t *testing.T) {
	dir, f := fakeSweep(t)
	q := Query{Limits: []Limit{{WeightBytes, 1 << 20}}}
	if _, err := Refine(context.Background(), dir, q, RefineOptions{Cells: 0, Runner: f}); err == nil {
		t.Fatal("0 cells accepted")
	}
	empty := t.TempDir()
	if _, err := Refine(context.Background(), empty, q, RefineOptions{Cells: 2, Runner: f}); err == nil {
		t.Fatal("folder without a spec accepted")
	}
	os.WriteFile(filepath.Join(empty, "sweep.yaml"), []byte(fakeSpec), 0o644)
	if _, err := Refine(context.Background(), empty, q, RefineOptions{Cells: 2, Runner: f}); err == nil {
		t.Fatal("folder without records accepted")
	}
}
