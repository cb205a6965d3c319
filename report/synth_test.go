package report

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/resq-dev/resq/results"
)

// synthRecords makes a small sweep without training: an MLP of depth 2 on
// 784 inputs and 10 classes at four widths, three seeds, float plus direct
// and retrain at 2 and 3 bits, and one failed retrain cell. Errors follow a
// made-up law: float error falls with width, direct quantization adds a
// large gap, retraining a gap that shrinks with size.
func synthRecords(seed uint64) []results.Record {
	rng := rand.New(rand.NewPCG(seed, seed))
	var recs []results.Record
	for _, w := range []int{32, 64, 128, 256} {
		weights := int64(784*w + w*w + w*10)
		biases := int64(w + w + 10)
		for _, s := range []uint64{1, 2, 3} {
			floatErr := 1.2 + 60/math.Sqrt(float64(w)) + 0.1*rng.NormFloat64()
			base := results.Record{
				Version: "0.1.0-dev", Dataset: "mnist", DatasetChecksum: "sha256:0123abcd",
				Model: fmt.Sprintf("mlp:784-%dx2-10", w), Family: "mlp", Width: w, Depth: 2, Seed: s,
				Weights: weights, Params: weights + biases, Status: "ok",
				TrainSeconds: 1.5, EvalSeconds: 0.25,
			}
			f := base
			f.ID = fmt.Sprintf("f-%d-%d", w, s)
			f.Mode, f.Bits = "float", 32
			f.StoredBytes = 4 * f.Params
			f.TestErrPct = floatErr
			f.Config = map[string]any{"mode": "float", "width": w, "seed": s, "epochs": 3, "lr": 0.1}
			recs = append(recs, f)
			for _, b := range []int{2, 3} {
				stored := (int64(b)*weights+7)/8 + 4*3 + 4*biases
				d := base
				d.ID = fmt.Sprintf("d%d-%d-%d", b, w, s)
				d.Mode, d.Bits = "direct", b
				d.StoredBytes = stored
				d.TestErrPct = floatErr + 30/float64(b*b)*(1+0.05*rng.NormFloat64())
				d.Config = map[string]any{"mode": "direct", "bits": b, "width": w, "seed": s}
				recs = append(recs, d)
				r := base
				r.ID = fmt.Sprintf("r%d-%d-%d", b, w, s)
				r.Mode, r.Bits = "retrain", b
				r.StoredBytes = stored
				r.TestErrPct = floatErr + 16/float64(b*w)*32*0.1*(1+0.05*rng.NormFloat64())
				r.Config = map[string]any{"mode": "retrain", "bits": b, "width": w, "seed": s, "epochs": 1, "lr": 0.01}
				if w == 64 && b == 2 && s == 2 {
					r.Status, r.Reason, r.TestErrPct = "failed", "train: epoch 1 batch 17: loss is NaN (learning rate 0.5 too high?)", 0
				}
				recs = append(recs, r)
			}
		}
	}
	return recs
}
