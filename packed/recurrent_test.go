package packed

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/internal/safetensors"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
)

// TestRecurrentMatchesNN exports quantized LSTM and GRU models and checks
// that the packed engine's logits are close to nn's simulated-quantized
// forward (the recurrent products and the dense head run with 8-bit
// activation codes), that its predictions equal nn's, and that the float
// pass equals nn's forward.
func TestRecurrentMatchesNN(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 41))
	tests := []struct {
		spec       string
		in         []int
		cfg        quant.Config
		opt        Options
		stateBits  int
		tokenVocab int
	}{
		{"lstm:5-12-4", []int{6, 5}, quant.Config{Bits: 2}, Options{}, 0, 0},
		{"lstm:5-9x2-3", []int{7, 5}, quant.Config{Bits: 3, PerChannel: true}, Options{}, 0, 0},
		{"gru:4-10-5", []int{1, 8, 4}, quant.Config{Bits: 2, PerChannel: true}, Options{Base3: true}, 0, 0},
		{"gru:3-6x2-4,drop=0.2", []int{5, 3}, quant.Config{Bits: 4, FirstLastBits: 8}, Options{}, 0, 0},
		{"lstm:5-8-3", []int{4, 5}, quant.Config{Bits: 3}, Options{}, 3, 0},
		{"lstm:7-8-3,tokens", []int{9}, quant.Config{Bits: 2}, Options{}, 0, 7},
	}
	const batch = 150
	for _, tt := range tests {
		m, err := nn.Build(tt.spec, tt.in, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range m.Layers {
			if rc, ok := nn.RecurrentOf(l); ok {
				rc.StateBits = tt.stateBits
				for _, p := range l.Params() { // larger weights than the init: gates away from 1/2
					for i := range p.W.Data {
						p.W.Data[i] *= 3
					}
				}
			}
		}
		s, err := quant.Attach(m, tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.resq")
		size, err := Export(path, m, s, Meta{Options: tt.opt, Dataset: "synthetic"})
		if err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		b, _ := os.ReadFile(path)
		f, err := safetensors.Read(b)
		if err != nil || int64(len(b)) != size {
			t.Fatalf("%s: %v, size %d vs %d", tt.spec, err, size, len(b))
		}
		var tensorBytes int64
		for _, x := range f.Tensors {
			tensorBytes += int64(len(x.Data))
		}
		if sb := StoredBytes(m, s, tt.opt); sb != tensorBytes {
			t.Errorf("%s: StoredBytes %d, file tensors hold %d bytes", tt.spec, sb, tensorBytes)
		}
		pm, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		if f.Meta["format_version"] != FormatVersion || pm.Spec != tt.spec {
			t.Errorf("%s: version %s spec %s", tt.spec, f.Meta["format_version"], pm.Spec)
		}
		x := tensor.New(batch, pm.dim)
		for i := range x.Data {
			if tt.tokenVocab > 0 {
				x.Data[i] = float32(r.IntN(tt.tokenVocab))
			} else {
				x.Data[i] = float32(r.NormFloat64())
			}
		}
		want := m.Forward(x, false)
		wantPred := make([]int32, batch)
		m.Predict(wantPred, x)
		got := make([]float32, batch*m.Classes)
		pm.Infer(got, x.Data, batch)
		pred := make([]int32, batch)
		pm.Predict(pred, x.Data, batch)
		worst := 0.0
		for i, v := range want.Data {
			worst = max(worst, math.Abs(float64(got[i]-v)))
		}
		agree := 0
		for i := range pred {
			if pred[i] == wantPred[i] {
				agree++
			}
		}
		if worst > 0.05 || agree != batch {
			t.Errorf("%s %+v: worst logit error %.4g, predictions agree %d/%d (want all)", tt.spec, tt.cfg, worst, agree, batch)
		}
		fl := make([]float32, m.Classes)
		pm.forwardFloat(fl, x.Data[:pm.dim])
		for j, v := range fl {
			if math.Abs(float64(v-want.Data[j])) > 1e-4 {
				t.Errorf("%s: float recheck logit %d = %v, nn %v", tt.spec, j, v, want.Data[j])
			}
		}
	}
}

func TestRecurrentExportRefusals(t *testing.T) {
	m, err := nn.Build("lstm:3-4-3,head=seq", []int{5, 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := quant.Attach(m, quant.Config{Bits: 2})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.resq")
	if _, err := Export(path, m, s, Meta{}); err == nil || !strings.Contains(err.Error(), "head=seq") {
		t.Fatalf("per-step head: error %v", err)
	}
	// Sized all the same: Wih 16x3 and Whh 16x4 at 2 bits (12 + 16
	// bytes), two steps, 16 biases; the head 3x4 (3 bytes), a step, 3 biases.
	if got, want := StoredBytes(m, s, Options{}), int64(12+16+8+64+3+4+12); got != want {
		t.Fatalf("StoredBytes of the per-step model %d, want %d", got, want)
	}
	m2, _ := nn.Build("lstm:3-4-3", []int{5, 3}, 1)
	s2, _ := quant.Attach(m2, quant.Config{Bits: 2})
	calib := make([]float32, 4*15)
	if _, err := ExportInteger(path, m2, s2, calib, 4, IntOptions{}, Meta{}); err == nil || !strings.Contains(err.Error(), "integer-only") {
		t.Fatalf("integer export: error %v", err)
	}
	// A file that claims an older version may not hold recurrent layers.
	if _, err := Export(path, m2, s2, Meta{}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	f, _ := safetensors.Read(b)
	f.Meta["format_version"] = "3"
	old := filepath.Join(t.TempDir(), "old.resq")
	w, _ := os.Create(old)
	if err := safetensors.Write(w, f.Tensors, f.Meta); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := Load(old); err == nil || !strings.Contains(err.Error(), "version 4") {
		t.Fatalf("version 3 file with an lstm: error %v", err)
	}
}

// TestRecurrentDescribe checks the cost stages of an LSTM: both matrices
// at every step.
func TestRecurrentDescribe(t *testing.T) {
	m, err := nn.Build("lstm:3-4-2", []int{5, 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Describe(m, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Stages) != 3 || d.Stages[0].Rows != 16 || d.Stages[0].Cols != 3 || d.Stages[0].Positions != 5 ||
		d.Stages[1].Cols != 4 || d.Stages[1].Bits != 32 || d.Stages[2].Rows != 2 {
		t.Fatalf("float stages %+v", d.Stages)
	}
	s, _ := quant.Attach(m, quant.Config{Bits: 2})
	if d, err = Describe(m, s, Options{}); err != nil || len(d.Stages[1].Codes) != 16*4 || d.Stages[1].Bits != 2 {
		t.Fatalf("quantized stages: %v %+v", err, d)
	}
}
