package quant

import (
	"encoding/json"
	"testing"

	"github.com/resq-dev/resq/nn"
)

func TestRecurrentQuant(t *testing.T) {
	m, err := nn.Build("lstm:3-4x2-5", []int{6, 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Attach(m, Config{Bits: 2, PerGate: true, StateBits: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Two LSTM layers (Wih, Whh each) and the head: 5 matrices, the
	// recurrent ones with a step per gate.
	if len(s.Layers) != 5 {
		t.Fatalf("%d quantized tensors, want 5", len(s.Layers))
	}
	for _, li := range s.Layers {
		want := 4
		if li.Name == "2.weight" {
			want = 1
		}
		if len(li.Step) != want {
			t.Errorf("%s: %d steps, want %d", li.Name, len(li.Step), want)
		}
	}
	for _, l := range m.Layers {
		if r, ok := nn.RecurrentOf(l); ok && r.StateBits != 3 {
			t.Errorf("layer %s: state bits %d, want 3", l.Kind(), r.StateBits)
		}
	}
	raw, _ := json.Marshal(s)
	s.Detach(m)
	for _, l := range m.Layers {
		if r, ok := nn.RecurrentOf(l); ok && r.StateBits != 0 {
			t.Errorf("after Detach: state bits %d", r.StateBits)
		}
	}
	s2, err := LoadState(m, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !s2.PerGate || s2.StateBits != 3 {
		t.Errorf("LoadState lost the recurrent options: %+v", s2.Config)
	}
	if r, _ := nn.RecurrentOf(m.Layers[0]); r.StateBits != 3 {
		t.Errorf("LoadState: state bits %d", r.StateBits)
	}
	if err := (Config{Bits: 2, StateBits: 9}).Validate(); err == nil {
		t.Error("state bits 9 accepted")
	}
}
