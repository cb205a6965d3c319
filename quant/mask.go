package quant

import (
	"errors"
	"fmt"
)

// SetMasks gives the state the pruning masks of its layers, one per
// quantizable param in model order (nil: the layer is not pruned; else
// keep[k] is false for a pruned weight). It re-estimates every step over
// the surviving weights of its row or tensor and re-quantizes. The
// caller (package prune) keeps pruned W at exactly 0, so Q is 0 there
// too: Q(0) = 0 for every rule. Later re-estimates (Config.Reestimate)
// use the masks as well. SetMasks(nil) drops them.
func (s *State) SetMasks(keep [][]bool) error {
	if s.params == nil {
		return errors.New("quant: SetMasks on a detached state")
	}
	if keep != nil && len(keep) != len(s.params) {
		return fmt.Errorf("quant: %d masks for %d quantized layers", len(keep), len(s.params))
	}
	for i, k := range keep {
		if k != nil && len(k) != len(s.params[i].W.Data) {
			return fmt.Errorf("quant: mask of %s has %d entries, the layer %d weights", s.params[i].Name, len(k), len(s.params[i].W.Data))
		}
	}
	s.masks = keep
	s.estimate()
	s.quantize()
	return nil
}

// surviving returns the weights of w whose keep entry is true, in buf's
// storage (w itself when keep is nil).
func surviving(buf []float32, w []float32, keep []bool) []float32 {
	if keep == nil {
		return w
	}
	buf = buf[:0]
	for k, v := range w {
		if keep[k] {
			buf = append(buf, v)
		}
	}
	return buf
}
