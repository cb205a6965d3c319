package nn

import (
	"fmt"
	"math"

	"github.com/resq-dev/resq/tensor"
)

// SoftmaxCE is softmax followed by cross-entropy against integer labels,
// averaged over the batch. Forward keeps the probabilities; Backward returns
// dL/dlogits = (softmax - onehot)/batch.
type SoftmaxCE struct {
	p      *tensor.Tensor // [batch, classes] probabilities of the last Forward
	labels []int32        // the last labels (the caller's slice)
	dl     *tensor.Tensor // [batch, classes]
}

// Forward returns the mean cross-entropy of logits [batch, classes] against
// labels [batch] (each in [0, classes); an out-of-range label panics). The
// softmax is computed stably (max subtracted) and the loss accumulated in
// float64. The loss keeps labels (not copied) until Backward.
func (s *SoftmaxCE) Forward(logits *tensor.Tensor, labels []int32) float64 {
	if len(logits.Shape) != 2 || logits.Shape[0] != len(labels) {
		panic(fmt.Sprintf("nn: softmax-ce: logits %v do not match %d labels", logits.Shape, len(labels)))
	}
	n, c := logits.Shape[0], logits.Shape[1]
	s.p = ensure(s.p, n, c)
	s.labels = labels
	var loss float64
	for i := 0; i < n; i++ {
		z := logits.Data[i*c : i*c+c]
		p := s.p.Data[i*c : i*c+c]
		m := z[0]
		for _, v := range z[1:] {
			if v > m {
				m = v
			}
		}
		var sum float64
		for j, v := range z {
			e := math.Exp(float64(v - m))
			p[j] = float32(e)
			sum += e
		}
		inv := 1 / sum
		for j := range p {
			p[j] = float32(float64(p[j]) * inv)
		}
		y := int(labels[i])
		if y < 0 || y >= c {
			panic(fmt.Sprintf("nn: softmax-ce: label %d of sample %d not in [0, %d)", y, i, c))
		}
		// -log softmax_y = log(sum) - (z_y - m), exact even when p_y underflows.
		loss += math.Log(sum) - float64(z[y]-m)
	}
	if n == 0 {
		return 0
	}
	return loss / float64(n)
}

// Backward returns dL/dlogits [batch, classes] for the last Forward (owned
// by the loss).
func (s *SoftmaxCE) Backward() *tensor.Tensor {
	if s.p == nil {
		panic("nn: softmax-ce: Backward before Forward")
	}
	n, c := s.p.Shape[0], s.p.Shape[1]
	s.dl = ensure(s.dl, n, c)
	inv := float32(1) / float32(max(n, 1))
	for i := 0; i < n; i++ {
		p := s.p.Data[i*c : i*c+c]
		d := s.dl.Data[i*c : i*c+c]
		for j, v := range p {
			d[j] = v * inv
		}
		d[s.labels[i]] -= inv
	}
	return s.dl
}

// Probs returns the softmax probabilities [batch, classes] of the last
// Forward (owned by the loss).
func (s *SoftmaxCE) Probs() *tensor.Tensor { return s.p }
