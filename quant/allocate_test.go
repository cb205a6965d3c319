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
