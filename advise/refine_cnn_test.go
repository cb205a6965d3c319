package advise

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/sweep"
)

// writeImages writes a 4-class NPY set of 1x8x8 images and returns its
// npy: dataset name.
func writeImages(t *testing.T, dir string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 1))
	var paths []string
	for _, part := range []string{"train", "test"} {
		const n = 8
		x := make([]float32, n*64)
		y := make([]uint8, n)
		for i := range y {
			y[i] = uint8(i % 4)
		}
		for i := range x {
			x[i] = rng.Float32()
		}
		for _, a := range []struct {
			name  string
			shape []int
			v     any
		}{{"x", []int{n, 8, 8}, x}, {"y", []int{n}, y}} {
			var b bytes.Buffer
			if err := data.WriteNPY(&b, a.shape, a.v); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, part+"_"+a.name+".npy")
			if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
	}
	return "npy:" + strings.Join(paths, ",")
}

// A CNN family's input shape comes from its dataset, so the neighbouring
// bit widths of the choice are predicted and proposed as for an MLP.
func TestRefineCNNNeighbourBits(t *testing.T) {
	dir := t.TempDir()
	yaml := "name: fakecnn\ndataset: " + writeImages(t, t.TempDir()) + `
cnn: {base: "cnn:4c3-p2-8c3-p2-fc16-4", scales: [0.5, 2]}
bits: [2, 4]
modes: [float, retrain]
seeds: [1]
`
	spec, err := sweep.ParseSpec("fakecnn.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	// Cells on 1x8x8 images with err = 1 + 4/scale + 3/bits^2.
	f := &fakeRunner{in: []int{1, 8, 8}, errOf: func(k sweep.CellConfig) float64 { return 1 + 4/k.Scale + 3/float64(k.Bits*k.Bits) }}
	if _, err := sweep.Run(context.Background(), spec, dir, sweep.RunOptions{Runner: f, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	// A budget that keeps the largest float network out and every quantized
	// one in.
	recs, err := results.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	budget := 0.0
	for _, r := range recs {
		if r.Mode == sweep.ModeFloat {
			budget = math.Max(budget, float64(r.StoredBytes)/2)
		}
	}
	q := Query{Limits: []Limit{{WeightBytes, budget}}}
	res, err := Refine(context.Background(), dir, q, RefineOptions{Cells: 4, Runner: f})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Before.Choice; c.Scale != 2 || c.Bits != 4 {
		t.Fatalf("before: %s", c.Label())
	}
	var bits []int
	for _, p := range res.Proposals {
		if p.Scale == 2 && p.Mode == "retrain" && p.Seed == 1 {
			bits = append(bits, p.Bits)
		}
	}
	if len(bits) != 2 || bits[0] != 3 || bits[1] != 5 {
		t.Fatalf("new bit widths proposed at scale 2 with seed 1: %v (proposals %+v)", bits, res.Proposals)
	}
}
