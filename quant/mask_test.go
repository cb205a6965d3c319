package quant

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/resq-dev/resq/nn"
)

// TestSetMasks checks that steps are estimated over the surviving weights
// only and that pruned weights quantize to exactly 0.
func TestSetMasks(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 4))
	m, err := nn.Build("mlp:30-20-4", nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	var keep [][]bool
	var surv [][]float32
	for _, p := range m.Params() {
		if !p.Quantizable {
			continue
		}
		k := make([]bool, len(p.W.Data))
		var s []float32
		for i := range k {
			k[i] = r.Float64() < 0.3
			if k[i] {
				s = append(s, p.W.Data[i])
			} else {
				p.W.Data[i] = 0
			}
		}
		keep, surv = append(keep, k), append(surv, s)
	}
	st, err := Attach(m, Config{Bits: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetMasks(keep); err != nil {
		t.Fatal(err)
	}
	i := 0
	for _, p := range m.Params() {
		if !p.Quantizable {
			continue
		}
		want := (Quantizer{Bits: 3}).Step(surv[i])
		if got := st.Layers[i].Step[0]; got != want {
			t.Errorf("%s: step %g, want %g over the surviving weights", p.Name, got, want)
		}
		for j, v := range p.Q.Data {
			if !keep[i][j] && v != 0 {
				t.Fatalf("%s: pruned weight %d quantized to %g", p.Name, j, v)
			}
		}
		i++
	}
	if err := st.SetMasks(keep[:1]); err == nil || !strings.Contains(err.Error(), "masks") {
		t.Errorf("wrong mask count: err %v", err)
	}
}

func TestBitsPerLayer(t *testing.T) {
	m, err := nn.Build("mlp:30-20x2-4", nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Attach(m, Config{Bits: 8, BitsPerLayer: []int{8, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{8, 2, 3} {
		if st.Layers[i].Bits != want || st.Layers[i].QMax != (1<<(want-1))-1 {
			t.Errorf("layer %d: %d bits, qmax %d; want %d bits", i, st.Layers[i].Bits, st.Layers[i].QMax, want)
		}
	}
	st.Detach(m)
	if _, err := Attach(m, Config{Bits: 8, BitsPerLayer: []int{8, 2}}); err == nil || !strings.Contains(err.Error(), "8,2 has 2 entries") {
		t.Errorf("short list: err %v", err)
	}
	if err := (Config{Bits: 8, BitsPerLayer: []int{8, 9}}).Validate(); err == nil || !strings.Contains(err.Error(), "8,9") {
		t.Errorf("9 bits: err %v", err)
	}
	if _, err := ParseBits("8,x"); err == nil || !strings.Contains(err.Error(), "8,x") {
		t.Errorf("ParseBits: err %v", err)
	}
}
