package quant

import (
	"errors"
	"fmt"
	"slices"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// AllocStep is one step of Allocate: the layer that got one more bit, the
// allocation after it, its bytes and its measured loss.
type AllocStep struct {
	Layer int     `json:"layer"`
	Bits  []int   `json:"bits_per_layer"`
	Bytes int64   `json:"bytes"`
	Loss  float64 `json:"loss"`
}

// AllocRequest is what Allocate needs beyond the model: the quantizer
// settings (Bits is ignored), the range of widths, the byte budget, how
// an allocation's bytes are counted, how the quantized model's loss is
// measured, and the pruning masks of a pruned model (nil: none).
type AllocRequest struct {
	Config
	MinBits, MaxBits int
	MaxBytes         int64
	Bytes            func(layers []LayerInfo) int64 // stored bytes of the model quantized as layers describe
	Loss             func() float64                 // loss of m as it computes now (with the layers' Q)
	Masks            [][]bool
}

// Allocate chooses a bit width per quantizable layer of the float model m
// under a weight-memory budget, greedily by measured sensitivity: every
// layer starts at MinBits, and each step gives one more bit to the layer
// whose increment buys the largest loss reduction per added byte among
// those that keep the model within MaxBytes, until no increment fits. Each layer is quantized directly at every width
// once (L2-optimal steps, over the surviving weights with Masks); m is
// left float. It returns the allocation and its steps, or an error naming
// the budget when even MinBits everywhere does not fit.
func Allocate(m *nn.Model, req AllocRequest) ([]int, []AllocStep, error) {
	if req.MinBits < MinBits || req.MaxBits > MaxBits || req.MinBits > req.MaxBits {
		return nil, nil, fmt.Errorf("quant: allocation widths %d..%d: want %d <= min <= max <= %d", req.MinBits, req.MaxBits, MinBits, MaxBits)
	}
	if req.Bytes == nil || req.Loss == nil {
		return nil, nil, errors.New("quant: Allocate needs a byte count and a loss")
	}
	if err := checkFloat(m); err != nil {
		return nil, nil, err
	}
	ps, err := quantizable(m)
	if err != nil {
		return nil, nil, err
	}
	cache, infos, err := quantizedWidths(m, ps, req)
	if err != nil {
		return nil, nil, err
	}
	bytesOf := func(bits []int) int64 {
		ls := make([]LayerInfo, len(bits))
		for i, b := range bits {
			ls[i] = infos[b-req.MinBits][i]
		}
		return req.Bytes(ls)
	}
	cur := slices.Repeat([]int{req.MinBits}, len(ps))
	if b := bytesOf(cur); b > req.MaxBytes {
		return nil, nil, fmt.Errorf("quant: budget %d bytes is below the smallest possible model: %d bytes at %d bits per layer", req.MaxBytes, b, req.MinBits)
	}
	defer func() {
		for _, p := range ps {
			p.Q = nil
		}
	}()
	eval := func(bits []int) float64 {
		for i, p := range ps {
			p.Q = cache[bits[i]-req.MinBits][i]
		}
		return req.Loss()
	}
	curLoss, curBytes := eval(cur), bytesOf(cur)
	steps := []AllocStep{{Layer: -1, Bits: slices.Clone(cur), Bytes: curBytes, Loss: curLoss}}
	for {
		best, bestRatio := -1, 0.0
		var bestLoss float64
		var bestBytes int64
		for l := range ps {
			if cur[l] >= req.MaxBits {
				continue
			}
			next := slices.Clone(cur)
			next[l]++
			nb := bytesOf(next)
			if nb > req.MaxBytes {
				continue
			}
			nl := eval(next)
			ratio := (curLoss - nl) / float64(max(nb-curBytes, 1))
			if best < 0 || ratio > bestRatio {
				best, bestRatio, bestLoss, bestBytes = l, ratio, nl, nb
			}
		}
		if best < 0 {
			break
		}
		cur[best]++
		curLoss, curBytes = bestLoss, bestBytes
		steps = append(steps, AllocStep{Layer: best, Bits: slices.Clone(cur), Bytes: curBytes, Loss: curLoss})
	}
	return cur, steps, nil
}

// quantizedWidths returns, per width MinBits..MaxBits and per layer, the
// directly quantized weights (Q) of m's layers and their LayerInfo.
func quantizedWidths(m *nn.Model, ps []*nn.Param, req AllocRequest) ([][]*tensor.Tensor, [][]LayerInfo, error) {
	var cache [][]*tensor.Tensor
	var infos [][]LayerInfo
	for b := req.MinBits; b <= req.MaxBits; b++ {
		cfg := req.Config
		cfg.Bits, cfg.BitsPerLayer, cfg.FirstLastBits, cfg.ActBits, cfg.ActRange = b, nil, 0, 0, ""
		if r, _ := ParseRule(cfg.Rule); r == TWN && b != 2 {
			cfg.Rule = ""
		}
		s, err := Attach(m, cfg)
		if err != nil {
			return nil, nil, err
		}
		if req.Masks != nil {
			if err := s.SetMasks(req.Masks); err != nil {
				s.Detach(m)
				return nil, nil, err
			}
		}
		qs := make([]*tensor.Tensor, len(ps))
		for i, p := range ps {
			qs[i] = p.Q
		}
		s.Detach(m)
		cache = append(cache, qs)
		infos = append(infos, s.Layers)
	}
	return cache, infos, nil
}
