package quant

import (
	"math"
	"strings"
	"testing"

	"github.com/resq-dev/resq/nn"
)

// TestAllocate checks the greedy allocation on a model whose loss is the
// L2 error of the quantized weights with the first layer weighted 100x:
// that layer must get the widest bits the budget allows, the budget must
// hold, and a budget below 2 bits everywhere is refused.
func TestAllocate(t *testing.T) {
	m, err := nn.Build("mlp:40-30-20-5", nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := quantizable(m)
	bytesOf := func(ls []LayerInfo) int64 {
		var n int64
		for i, l := range ls {
			n += (int64(len(ps[i].W.Data))*int64(l.Bits) + 7) / 8
		}
		return n
	}
	loss := func() float64 {
		var e float64
		for i, p := range ps {
			w := 1.0
			if i == 0 {
				w = 100
			}
			for j, q := range p.Q.Data {
				d := float64(q - p.W.Data[j])
				e += w * d * d
			}
		}
		return e
	}
	min2 := bytesOf([]LayerInfo{{Bits: 2}, {Bits: 2}, {Bits: 2}})
	budget := min2 + int64(len(ps[0].W.Data))*3/8 + 10 // room for 3 more bits on the first layer
	bits, steps, err := Allocate(m, AllocRequest{Config: Config{}, MinBits: 2, MaxBits: 8, MaxBytes: budget, Bytes: bytesOf, Loss: loss})
	if err != nil {
		t.Fatal(err)
	}
	if bits[0] < 5 {
		t.Errorf("allocation %v: the sensitive first layer got %d bits, want >= 5", bits, bits[0])
	}
	last := steps[len(steps)-1]
	if last.Bytes > budget {
		t.Errorf("allocation %v takes %d bytes over the budget %d", bits, last.Bytes, budget)
	}
	for i := 1; i < len(steps); i++ {
		if math.IsNaN(steps[i].Loss) || steps[i].Bytes <= steps[i-1].Bytes {
			t.Errorf("step %d: %+v after %+v", i, steps[i], steps[i-1])
		}
	}
	for _, p := range m.Params() {
		if p.Q != nil {
			t.Fatalf("%s left quantized", p.Name)
		}
	}
	if _, _, err := Allocate(m, AllocRequest{MinBits: 2, MaxBits: 8, MaxBytes: min2 - 1, Bytes: bytesOf, Loss: loss}); err == nil ||
		!strings.Contains(err.Error(), "below the smallest possible model") {
		t.Errorf("tiny budget: err %v", err)
	}
}

// TestAllocateTrade checks SearchTrade: it starts at the widest uniform
// width that fits, pays for a bit that does not fit with a bit of another
// layer, takes only steps that lower the loss, and stays at the uniform
// width when nothing does. The loss is given by Score from the allocation
// alone (only the middle layer matters), so every step is predictable;
// Score must see a float model and each allocation once.
func TestAllocateTrade(t *testing.T) {
	m, err := nn.Build("mlp:40-30-20-5", nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := quantizable(m)
	bytesOf := func(ls []LayerInfo) int64 {
		var n int64
		for i, l := range ls {
			n += (int64(len(ps[i].W.Data))*int64(l.Bits) + 7) / 8
		}
		return n
	}
	uniform3 := bytesOf([]LayerInfo{{Bits: 3}, {Bits: 3}, {Bits: 3}}) // 450 + 225 + 38
	for _, c := range []struct {
		name   string
		weight []float64
		want   []int
	}{
		// [3,3,3] -> [2,4,3] (layer 1's bit paid with layer 0's, 75
		// bytes left) -> [2,5,3] (fits) -> no more: layer 0 is at 2 bits,
		// layer 2's bit is too small to pay for one of layer 1
		{"middle layer matters", []float64{0, 1, 0}, []int{2, 5, 3}},
		{"nothing matters", []float64{0, 0, 0}, []int{3, 3, 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			seen := map[string]bool{}
			score := func(bits []int) (float64, error) {
				calls++
				seen[FormatBits(bits)] = true
				for _, p := range m.Params() {
					if p.Q != nil {
						t.Fatalf("Score called with %s quantized", p.Name)
					}
				}
				var e float64
				for i, b := range bits {
					e += c.weight[i] * float64(len(ps[i].W.Data)) * math.Pow(4, -float64(b))
				}
				return e, nil
			}
			bits, steps, err := Allocate(m, AllocRequest{MinBits: 2, MaxBits: 8, MaxBytes: uniform3, Search: SearchTrade, Bytes: bytesOf, Score: score})
			if err != nil {
				t.Fatal(err)
			}
			if FormatBits(bits) != FormatBits(c.want) {
				t.Errorf("allocation %v, want %v (steps %+v)", bits, c.want, steps)
			}
			if calls != len(seen) {
				t.Errorf("Score called %d times for %d allocations", calls, len(seen))
			}
			if s := steps[0]; FormatBits(s.Bits) != "3,3,3" || s.Layer != -1 || s.From != -1 {
				t.Errorf("start %+v, want uniform 3 bits", s)
			}
			for i := 1; i < len(steps); i++ {
				s, prev := steps[i], steps[i-1]
				if s.Loss >= prev.Loss || s.Bytes > uniform3 || s.Bits[s.Layer] != prev.Bits[s.Layer]+1 {
					t.Errorf("step %d: %+v after %+v", i, s, prev)
				}
				if s.From >= 0 && s.Bits[s.From] != prev.Bits[s.From]-1 {
					t.Errorf("step %d: %+v does not take its bit from layer %d", i, s, s.From)
				}
			}
		})
	}
	if _, _, err := Allocate(m, AllocRequest{MinBits: 2, MaxBits: 8, MaxBytes: uniform3, Search: "sideways", Bytes: bytesOf,
		Score: func([]int) (float64, error) { return 0, nil }}); err == nil || !strings.Contains(err.Error(), "sideways") {
		t.Errorf("bad search: err %v", err)
	}
}
