package train

import (
	"fmt"
	"math"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// ClipGradNorm scales the gradients G of params by maxNorm/‖G‖ when their
// global L2 norm ‖G‖ (over all params together) exceeds maxNorm, as
// PyTorch's clip_grad_norm_, and returns the norm before clipping. The
// recurrent models use it against exploding gradients through time.
func ClipGradNorm(params []*nn.Param, maxNorm float64) float64 {
	var ss float64
	for _, p := range params {
		ss += tensor.Dot(p.G.Data, p.G.Data)
	}
	norm := math.Sqrt(ss)
	if norm > maxNorm && norm > 0 {
		f := float32(maxNorm / norm)
		for _, p := range params {
			tensor.Scale(p.G.Data, f)
		}
	}
	return norm
}

// checkSteps refuses a recurrent model whose head does not match the
// labels of ds: per-step labels need head=seq over as many steps, one
// label per sample needs a single prediction per sample.
func checkSteps(m *nn.Model, ds *data.Dataset) error {
	steps, perStep := m.Steps()
	for _, s := range []*data.Split{&ds.Train, &ds.Val, &ds.Test} {
		if s.N == 0 {
			continue
		}
		switch {
		case s.Steps > 0 && !perStep:
			return fmt.Errorf("train: dataset %s has a label per step; model %s predicts one per sample (use a recurrent model with head=seq)", ds.Name, m.Spec)
		case s.Steps == 0 && perStep:
			return fmt.Errorf("train: model %s predicts a class per step; dataset %s has one label per sample (use head=last)", m.Spec, ds.Name)
		case s.Steps > 0 && s.Steps != steps:
			return fmt.Errorf("train: dataset %s has %d labels per sample, model %s runs %d steps", ds.Name, s.Steps, m.Spec, steps)
		}
	}
	return nil
}

// evaluateBits returns the mean cross-entropy of m's per-step predictions
// on s in bits per label.
func evaluateBits(m *nn.Model, s *data.Split, batch int) float64 {
	l := s.Steps
	x := tensor.Tensor{Shape: make([]int, 2)}
	var sum float64
	for i := 0; i < s.N; i += batch {
		n := min(batch, s.N-i)
		x.Data, x.Shape[0], x.Shape[1] = s.X[i*s.D:(i+n)*s.D], n, s.D // [n, D]
		logits := m.Forward(&x, false)                                // [n*Steps, Classes]
		sum += m.Loss.Forward(logits, s.Y[i*l:(i+n)*l]) * float64(n*l)
	}
	return sum / float64(s.N*l) / math.Ln2
}
