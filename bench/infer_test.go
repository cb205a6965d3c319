package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/resq-dev/resq/nn"
)

func TestRunInferJSON(t *testing.T) {
	var out bytes.Buffer
	opt := InferOptions{Nets: []string{"mlp:20-16-4"}, Bits: []int{2, 8, FloatBits}, Batches: []int{1, 5}, Threads: []int{1},
		Kernels: []string{"go"}, MinTime: time.Millisecond, Rounds: 1, JSON: true}
	rs, err := RunInfer(&out, opt)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(rs) != 6 || len(lines) != 6 {
		t.Fatalf("%d results, %d lines, want 6 each:\n%s", len(rs), len(lines), out.String())
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"bits", "batch", "threads", "kernel", "samples_per_s", "gmacs"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("line %s lacks %q", l, k)
			}
		}
	}
	for _, r := range rs {
		if r.MACs != 20*16+16*4 || !(r.SamplesPerS > 0) || r.GMACs != r.SamplesPerS*float64(r.MACs)/1e9 {
			t.Errorf("%+v: want %d MACs per sample and positive rates", r, 20*16+16*4)
		}
		if (r.Bits == 2) != (r.Vs8 > 0) {
			t.Errorf("%+v: vs_8bit set for bits %d", r, r.Bits)
		}
		if r.Bits == 2 && !(r.ZeroCodes > 0.2 && r.ZeroCodes < 0.9) {
			t.Errorf("ternary zero codes %v, want a trained model's share", r.ZeroCodes)
		}
	}
}

func TestRunInferRejects(t *testing.T) {
	base := InferOptions{Nets: []string{"mlp:8-4"}, Bits: []int{2}, Batches: []int{1}, Threads: []int{1}, Kernels: []string{"go"}, MinTime: time.Millisecond, Rounds: 1}
	cases := map[string]func(o *InferOptions){
		"kernel": func(o *InferOptions) { o.Kernels = []string{"sse9"} },
		"bits":   func(o *InferOptions) { o.Bits = []int{9} },
		"batch":  func(o *InferOptions) { o.Batches = []int{0} },
		"thread": func(o *InferOptions) { o.Threads = []int{0} },
		"net":    func(o *InferOptions) { o.Nets = []string{"cnn:8c5-10"} },
	}
	for name, edit := range cases {
		o := base
		edit(&o)
		var out bytes.Buffer
		if _, err := RunInfer(&out, o); err == nil || !strings.HasPrefix(err.Error(), "bench: ") && !strings.HasPrefix(err.Error(), "packed: ") {
			t.Errorf("%s: err %v, want a bench error", name, err)
		}
	}
}

func TestInferWeightsLaplacian(t *testing.T) {
	m, err := nn.Build("mlp:400-300-10", nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	InferWeights(m, 3)
	w := m.Params()[0].W.Data
	var s2, s1 float64
	for _, v := range w {
		s2 += float64(v) * float64(v)
		s1 += max(float64(v), -float64(v))
	}
	std, mad := s2/float64(len(w)), s1/float64(len(w))
	// Laplace(0, b) with b = 1/sqrt(400): variance 2b^2, mean |w| = b.
	if b := 1 / 20.0; std < 1.9*b*b || std > 2.1*b*b || mad < 0.97*b || mad > 1.03*b {
		t.Errorf("variance %v, mean |w| %v; want %v and %v", std, mad, 2*b*b, b)
	}
}
