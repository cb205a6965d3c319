package faults

import (
	"fmt"
	"sync"

	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/tensor"
)

// PartActs names the activation codes between the stages of an
// integer-only model; PartBoth is PartAll and PartActs together.
const (
	PartActs = "activations"
	PartBoth = "both"
)

// saltActs derives the activation streams from a trial seed.
const saltActs = 0x6163747300000000 // "acts"

// actFaults flips activation bits: sample i of the test split has its
// own stream, starting at state TrialSeed(seed ^ saltActs, i) (a hashed
// state, so that the samples' streams do not overlap), that visits the output codes of every stage but the last, stage by
// stage, each byte from bit 0. A flipped code above its stage's largest
// code (OutMax, the clamp of the fused ReLU) reads as that code, as a
// saturating load would; the kernels' exact int16 pairs rely on it.
type actFaults struct {
	seed, t uint64
	workers int // goroutines the samples are split over (0: 2)
}

// spans splits n samples into af.workers contiguous ranges.
func (af actFaults) spans(n int) [][2]int {
	k := af.workers
	if k <= 0 {
		k = 2
	}
	s := make([][2]int, k)
	for i := range s {
		s[i] = [2]int{n * i / k, n * (i + 1) / k}
	}
	return s
}

func actStreams(seed uint64, n int) []Stream {
	s := make([]Stream, n)
	for i := range s {
		s[i].State = TrialSeed(seed^saltActs, i)
	}
	return s
}

// stageMax returns the largest code of every stage's output: a weighted
// layer's OutMax, or that of the weighted layer before a pool.
func stageMax(info *packed.IntInfo) []uint8 {
	mx := make([]uint8, len(info.Layers))
	last := uint8(255)
	for i, l := range info.Layers {
		if l.Kind != "maxpool" {
			last = uint8(min(max(l.OutMax, 0), 255))
		}
		mx[i] = last
	}
	return mx
}

// inferActs runs the integer model over the codes x [n, D] with the
// activation faults af, split over af.workers goroutines (each sample's
// stream depends only on its index, so the result does not depend on the
// split), and returns the predictions, the logits [n, Classes] and the
// number of flipped bits.
func inferActs(m *packed.Model, x []uint8, n int, af actFaults) ([]int32, []int32, int) {
	d, c := len(x)/max(n, 1), m.Classes
	mx := stageMax(m.Integer())
	pred := make([]int32, n)
	logits := make([]int32, n*c)
	streams := actStreams(af.seed, n)
	halves := af.spans(n)
	flips := make([]int, len(halves))
	var wg sync.WaitGroup
	for h, hv := range halves {
		if hv[0] == hv[1] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, b := hv[0], hv[1]
			m.InferIntHook(logits[a*c:b*c], pred[a:b], x[a*d:b*d], b-a, func(stage, sample int, codes []uint8) {
				flips[h] += FlipBytes(codes, &streams[a+sample], af.t)
				for j, v := range codes {
					codes[j] = min(v, mx[stage])
				}
			})
		}()
	}
	wg.Wait()
	total := 0
	for _, f := range flips {
		total += f
	}
	return pred, logits, total
}

// InferActs runs the integer-only model m over the input codes x [n, D]
// (packed.Model.QuantizeInput) with activation faults at rate ber: sample
// i's stream starts at TrialSeed(state ^ 0x6163747300000000, i), as in a
// trial with seed state (see the package documentation). It returns the
// int32 logits [n, Classes], the predicted classes and the number of
// flipped bits. It is what the generated C (packed/cexport) computes when
// compiled with -DRESQ_FAULT_SEED=state
// -DRESQ_FAULT_ACT_BER_Q64=Threshold(ber), its n-th predict call being
// sample n; with Corrupt's model and -DRESQ_FAULT_BER_Q64 too, part both.
func InferActs(m *packed.Model, x []uint8, n int, state uint64, ber float64) ([]int32, []int32, int, error) {
	if m.Integer() == nil {
		return nil, nil, 0, fmt.Errorf("faults: InferActs needs an integer-only model")
	}
	if !(ber >= 0 && ber <= 1) {
		return nil, nil, 0, fmt.Errorf("faults: bit error rate %g outside [0, 1]", ber)
	}
	if n < 0 || len(x) != n*tensor.Numel(m.In) {
		return nil, nil, 0, fmt.Errorf("faults: %d input codes for %d samples of %d", len(x), n, tensor.Numel(m.In))
	}
	pred, logits, flips := inferActs(m, x, n, actFaults{seed: state, t: Threshold(ber)})
	return logits, pred, flips, nil
}

// inferActsFloat runs a float-epilogue model over the inputs x [n, D] with
// the activation faults af on the codes every weighted layer but the
// first reads (packed.Model.InferHook: after the per-sample quantization,
// before the dot products): sample i's stream, as in inferActs, visits
// those layers' codes in order, each byte from bit 0. It returns the
// logits, the class of each (argmax, lowest index on ties) and the bits
// flipped per sample.
func inferActsFloat(m *packed.Model, x []float32, n int, af actFaults) ([]int32, []float32, []int) {
	d, c := len(x)/max(n, 1), m.Classes
	pred := make([]int32, n)
	logits := make([]float32, n*c)
	streams := actStreams(af.seed, n)
	flips := make([]int, n)
	var wg sync.WaitGroup
	for _, sp := range af.spans(n) {
		if sp[0] == sp[1] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, b := sp[0], sp[1]
			m.InferHook(logits[a*c:b*c], x[a*d:b*d], b-a, func(layer, sample int, codes []uint8) {
				if layer > 0 {
					flips[a+sample] += FlipBytes(codes, &streams[a+sample], af.t)
				}
			})
		}()
	}
	wg.Wait()
	for i := range pred {
		pred[i] = int32(tensor.Argmax(logits[i*c : (i+1)*c]))
	}
	return pred, logits, flips
}
