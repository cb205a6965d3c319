package quant

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// Searches of Allocate.
const (
	// SearchUp starts at MinBits everywhere and gives bits while one fits.
	SearchUp = "up"
	// SearchTrade starts at the widest uniform width that fits and gives
	// bits while one lowers the loss, paying for a bit that does not fit
	// with a bit of another layer.
	SearchTrade = "trade"
)

// AllocStep is one step of Allocate: the layer that got one more bit, the
// layer that gave one up for it (From; -1: none, the bit fitted), the
// allocation after it, its bytes and its measured loss. The first step is
// the start (Layer and From -1).
type AllocStep struct {
	Layer int     `json:"layer"`
	From  int     `json:"from"`
	Bits  []int   `json:"bits_per_layer"`
	Bytes int64   `json:"bytes"`
	Loss  float64 `json:"loss"`
}

// AllocRequest is what Allocate needs beyond the model: the quantizer
// settings (Bits is ignored), the range of widths, the byte budget, the
// search (SearchUp, the default, or SearchTrade), how an allocation's
// bytes are counted, how its loss is measured, and the pruning masks of a
// pruned model (nil: none).
//
// The loss is Score's when Score is set: the caller measures an allocation
// as it likes (e.g. after a short retraining of the model quantized with
// it); m is float when Score is called and must be float again when it
// returns. Otherwise it is Loss's, called with the layers' Q set to the
// directly quantized weights.
type AllocRequest struct {
	Config
	MinBits, MaxBits int
	MaxBytes         int64
	Search           string
	Bytes            func(layers []LayerInfo) int64    // stored bytes of the model quantized as layers describe
	Loss             func() float64                    // loss of m as it computes now (with the layers' Q)
	Score            func(bits []int) (float64, error) // loss of m quantized with bits per layer
	Masks            [][]bool
}

// Allocate chooses a bit width per quantizable layer of the float model m
// under a weight-memory budget, greedily by measured sensitivity: each
// step gives one more bit to the layer where it buys the largest loss
// reduction per added byte (the increment's own bytes).
//
// SearchUp starts with every layer at MinBits and takes the best
// increment among those that keep the model within MaxBytes, until none
// fits. When one layer holds most weights, its increments are so much
// larger than the others' that SearchUp can fill the small layers first
// and then strand the budget: no increment of the large layer fits any
// more, and the large layer stays at MinBits.
//
// SearchTrade starts at the widest uniform width within MaxBytes. An
// increment that does not fit may be paid for with one bit of another
// layer (when the pair fits), and a step is taken only when it lowers the
// measured loss; the search stops when no increment or pair does. The
// result is thus never measured worse than the uniform width it started
// from, and a large layer is never narrowed below it just because its
// bits are expensive.
//
// Each allocation is measured once (results are kept). With Loss, each
// layer is quantized directly at every width once (L2-optimal steps, over
// the surviving weights with Masks). m is left float. Allocate returns the
// allocation and its steps, or an error naming the budget when even
// MinBits everywhere does not fit.
func Allocate(m *nn.Model, req AllocRequest) ([]int, []AllocStep, error) {
	if req.MinBits < MinBits || req.MaxBits > MaxBits || req.MinBits > req.MaxBits {
		return nil, nil, fmt.Errorf("quant: allocation widths %d..%d: want %d <= min <= max <= %d", req.MinBits, req.MaxBits, MinBits, MaxBits)
	}
	if req.Search != "" && req.Search != SearchUp && req.Search != SearchTrade {
		return nil, nil, fmt.Errorf("quant: allocation search %q: want %s or %s", req.Search, SearchUp, SearchTrade)
	}
	if req.Bytes == nil || (req.Loss == nil && req.Score == nil) {
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
	trade := req.Search == SearchTrade
	if trade {
		for b := req.MinBits + 1; b <= req.MaxBits; b++ {
			if u := slices.Repeat([]int{b}, len(ps)); bytesOf(u) <= req.MaxBytes {
				cur = u
			}
		}
	}
	float := func() {
		for _, p := range ps {
			p.Q = nil
		}
	}
	defer float()
	seen := map[string]float64{}
	eval := func(bits []int) (float64, error) {
		k := FormatBits(bits)
		if v, ok := seen[k]; ok {
			return v, nil
		}
		var v float64
		if req.Score != nil {
			float()
			var err error
			if v, err = req.Score(slices.Clone(bits)); err != nil {
				return 0, err
			}
		} else {
			for i, p := range ps {
				p.Q = cache[bits[i]-req.MinBits][i]
			}
			v = req.Loss()
		}
		if math.IsNaN(v) {
			return 0, fmt.Errorf("quant: allocation %s: loss is NaN", k)
		}
		seen[k] = v
		return v, nil
	}
	curLoss, err := eval(cur)
	if err != nil {
		return nil, nil, err
	}
	curBytes := bytesOf(cur)
	steps := []AllocStep{{Layer: -1, From: -1, Bits: slices.Clone(cur), Bytes: curBytes, Loss: curLoss}}
	for {
		best := AllocStep{Layer: -1}
		bestRatio := 0.0
		consider := func(l, from int, next []int) error {
			nb := bytesOf(next)
			if nb > req.MaxBytes {
				return nil
			}
			nl, err := eval(next)
			if err != nil {
				return err
			}
			up := slices.Clone(cur)
			up[l]++
			ratio := (curLoss - nl) / float64(max(bytesOf(up)-curBytes, 1))
			if (!trade || nl < curLoss) && (best.Layer < 0 || ratio > bestRatio) {
				best, bestRatio = AllocStep{Layer: l, From: from, Bits: next, Bytes: nb, Loss: nl}, ratio
			}
			return nil
		}
		for l := range ps {
			if cur[l] >= req.MaxBits {
				continue
			}
			next := slices.Clone(cur)
			next[l]++
			if bytesOf(next) <= req.MaxBytes || !trade {
				if err := consider(l, -1, next); err != nil {
					return nil, nil, err
				}
				continue
			}
			for from := range ps {
				if from == l || cur[from] <= req.MinBits {
					continue
				}
				pair := slices.Clone(next)
				pair[from]--
				if err := consider(l, from, pair); err != nil {
					return nil, nil, err
				}
			}
		}
		if best.Layer < 0 {
			break
		}
		cur, curLoss, curBytes = best.Bits, best.Loss, best.Bytes
		best.Bits = slices.Clone(cur)
		steps = append(steps, best)
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
