package packed

import (
	"math/rand/v2"
	"testing"

	"github.com/resq-dev/resq/packed/internal/kernels"
)

// TestT2MatchesByteLayout: ternary layers run through the T2 kernels give
// the same logits and predictions, bit for bit, as through PackW's layout,
// with every kernel, for MLPs and a CNN, at batch sizes that exercise the
// one-row path (1, 3), the 4-row kernels and their mix (5), and the row
// counts around kernels.T2Rows's thresholds, where the AVX2 kernel turns
// to PackW's layout (8) and the VNNI kernel to its decoded path (16, 17,
// 37; 100 splits over goroutines).
func TestT2MatchesByteLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 15))
	nets := map[string]testNet{
		"mlp":        randNet(r, 50, []int{70, 33}, 10, 2, "relu", true, false),
		"mlp-tanh":   randNet(r, 129, []int{17}, 3, 2, "tanh", false, true),
		"mlp-square": randNet(r, 256, []int{256}, 10, 2, "relu", false, false),
		"cnn":        randCNN(r, 2, 8, 8, 5, 7, 4, 2, false),
	}
	for name, n := range nets {
		m, err := LoadBytes(n.bytes(t))
		if err != nil {
			t.Fatal(err)
		}
		ternary := 0
		for _, o := range m.ops {
			if o.w2 != nil {
				ternary++
			}
		}
		if ternary == 0 {
			t.Fatalf("%s: no layer in the T2 layout", name)
		}
		for _, batch := range []int{1, 3, 5, 7, 8, 15, 16, 17, 37, 100} {
			x := make([]float32, batch*m.dim)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			for _, kern := range kernels.Available() {
				prev, _ := kernels.Force(kern)
				want, wantP := runLayouts(m, x, batch, false)
				got, gotP := runLayouts(m, x, batch, true)
				kernels.Force(prev)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s kernel %s batch %d: T2 logit %d = %v, byte layout %v", name, kern, batch, i, got[i], want[i])
					}
				}
				for i := range gotP {
					if gotP[i] != wantP[i] {
						t.Fatalf("%s kernel %s batch %d: T2 prediction %d = %d, byte layout %d", name, kern, batch, i, gotP[i], wantP[i])
					}
				}
			}
		}
	}
}

// runLayouts returns Infer's logits and Predict's classes with the T2
// kernels on or off.
func runLayouts(m *Model, x []float32, batch int, t2 bool) ([]float32, []int32) {
	prev := useT2
	useT2 = t2
	defer func() { useT2 = prev }()
	lg := make([]float32, batch*m.Classes)
	m.Infer(lg, x, batch)
	pred := make([]int32, batch)
	m.Predict(pred, x, batch)
	return lg, pred
}

// TestSingleSampleMatchesBatch: a sample alone (the one-row kernels) gets
// the logits it gets inside a batch (the 4-row kernels; from 16 rows on
// ternary layers run PackW's layout or the decoded T2 path), bit for bit,
// for every precision and kernel.
func TestSingleSampleMatchesBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 16))
	for _, bb := range [][2]int{{2, 6}, {2, 20}, {3, 6}, {3, 20}, {8, 6}} {
		bits, batch := bb[0], bb[1]
		n := randNet(r, 129, []int{80, 64}, 10, bits, "relu", bits == 3, false)
		m, err := LoadBytes(n.bytes(t))
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, batch*m.dim)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for _, kern := range kernels.Available() {
			prev, _ := kernels.Force(kern)
			all := make([]float32, batch*m.Classes)
			m.Infer(all, x, batch)
			one := make([]float32, m.Classes)
			for i := 0; i < batch; i++ {
				m.Infer(one, x[i*m.dim:(i+1)*m.dim], 1)
				for j, v := range one {
					if v != all[i*m.Classes+j] {
						t.Fatalf("bits %d kernel %s sample %d: logit %d alone %v, in a batch %v", bits, kern, i, j, v, all[i*m.Classes+j])
					}
				}
			}
			kernels.Force(prev)
		}
	}
}
