package quant

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

func buildModel(t testing.TB, spec string, seed uint64) *nn.Model {
	t.Helper()
	m, err := nn.Build(spec, nil, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// blobs returns a synthetic classification set: classes Gaussian clusters
// in d dimensions, n samples.
func blobs(r *rand.Rand, n, d, classes int) (*tensor.Tensor, []int32) {
	centres := make([][]float64, classes)
	for c := range centres {
		centres[c] = make([]float64, d)
		for j := range centres[c] {
			centres[c][j] = 1.5 * r.NormFloat64()
		}
	}
	x := tensor.New(n, d)
	y := make([]int32, n)
	for i := range n {
		c := r.IntN(classes)
		y[i] = int32(c)
		for j := range d {
			x.Data[i*d+j] = float32(centres[c][j] + r.NormFloat64())
		}
	}
	return x, y
}

// sgd runs full-batch gradient descent steps, calling after (if not nil)
// after each update, and returns the final loss.
func sgd(m *nn.Model, x *tensor.Tensor, y []int32, steps int, lr float32, after func() error) (float64, error) {
	var loss float64
	for range steps {
		loss = m.Loss.Forward(m.Forward(x, true), y)
		m.Backward(m.Loss.Backward())
		for _, p := range m.Params() {
			for i, g := range p.G.Data {
				p.W.Data[i] -= lr * g
			}
		}
		if after != nil {
			if err := after(); err != nil {
				return 0, err
			}
		}
	}
	return loss, nil
}

func errPct(m *nn.Model, x *tensor.Tensor, y []int32) float64 {
	pred := make([]int32, len(y))
	m.Predict(pred, x)
	wrong := 0
	for i := range y {
		if pred[i] != y[i] {
			wrong++
		}
	}
	return 100 * float64(wrong) / float64(len(y))
}

func TestAttach(t *testing.T) {
	for _, cfg := range []Config{
		{Bits: 2},
		{Bits: 3, PerChannel: true},
		{Bits: 2, FirstLastBits: 8},
		{Bits: 4, Rule: "pow2"},
		{Bits: 2, Rule: "twn"},
	} {
		m := buildModel(t, "mlp:12-16x2-5", 1)
		s, err := Attach(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		rule, _ := ParseRule(cfg.Rule)
		li := 0
		for _, p := range m.Params() {
			if !p.Quantizable {
				if p.Q != nil {
					t.Fatalf("%+v: bias %s quantized", cfg, p.Name)
				}
				continue
			}
			info := s.Layers[li]
			bits := cfg.Bits
			if cfg.FirstLastBits != 0 && (li == 0 || li == 2) {
				bits = cfg.FirstLastBits
			}
			q := Quantizer{Bits: bits, Rule: rule, PerChannel: cfg.PerChannel}
			if info.Name != p.Name || info.Bits != bits || info.QMax != q.QMax() || info.QMin != -q.QMax() || !slices.Equal(info.Shape, p.W.Shape) {
				t.Fatalf("%+v: layer %d info %+v", cfg, li, info)
			}
			want := make([]float32, len(p.W.Data))
			if cfg.PerChannel {
				steps := make([]float32, p.W.Shape[0])
				q.StepRows(steps, p.W.Data)
				if !slices.Equal(steps, info.Step) {
					t.Fatalf("%+v: %s steps %v, want %v", cfg, p.Name, info.Step, steps)
				}
				q.ApplyRows(want, p.W.Data, steps)
			} else {
				if st := q.Step(p.W.Data); len(info.Step) != 1 || info.Step[0] != st {
					t.Fatalf("%+v: %s step %v, want %g", cfg, p.Name, info.Step, st)
				}
				thr := q.Threshold(p.W.Data)
				if rule == TWN && (len(info.Thresh) != 1 || info.Thresh[0] != thr || thr <= 0) {
					t.Fatalf("%+v: %s thresholds %v, want [%g]", cfg, p.Name, info.Thresh, thr)
				}
				if rule != TWN && len(info.Thresh) != 0 {
					t.Fatalf("%+v: %s has thresholds %v", cfg, p.Name, info.Thresh)
				}
				q.ApplyThreshold(want, p.W.Data, info.Step[0], thr)
			}
			if p.Q == nil || !slices.Equal(p.Q.Data, want) {
				t.Fatalf("%+v: %s Q is not Q(W)", cfg, p.Name)
			}
			li++
		}
		if li != len(s.Layers) {
			t.Fatalf("%d layers, %d infos", li, len(s.Layers))
		}
		s.Detach(m)
		for _, p := range m.Params() {
			if p.Q != nil {
				t.Fatalf("%s still quantized after Detach", p.Name)
			}
		}
		if err := s.Sync(); err == nil {
			t.Fatal("Sync after Detach: no error")
		}
	}
}

func TestAttachErrors(t *testing.T) {
	m := buildModel(t, "mlp:4-3", 1)
	if _, err := Attach(m, Config{Bits: 9}); err == nil || err.Error() != "quant: bits 9 out of range 2..8" {
		t.Errorf("bits 9: %v", err)
	}
	if _, err := Attach(m, Config{Bits: 3, Rule: "nope"}); err == nil || !strings.HasPrefix(err.Error(), "quant: unknown rule") {
		t.Errorf("bad rule: %v", err)
	}
	if _, err := Attach(m, Config{Bits: 3, ActRange: "max"}); err == nil {
		t.Error("act range without act bits: no error")
	}
	if _, err := Attach(m, Config{Bits: 3, ActBits: 3, ActRange: "-1"}); err == nil {
		t.Error("negative act clip: no error")
	}
	if _, err := Attach(&nn.Model{Spec: "empty", Layers: []nn.Layer{&nn.ReLU{}}}, Config{Bits: 2}); err == nil || !strings.Contains(err.Error(), "no quantizable weights") {
		t.Errorf("no weights: %v", err)
	}
	if _, err := Attach(m, Config{Bits: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := Attach(m, Config{Bits: 2}); err == nil || !strings.Contains(err.Error(), "already quantized") {
		t.Errorf("twice: %v", err)
	}
}

func TestSyncAndReestimate(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	m := buildModel(t, "mlp:10-8-3", 2)
	s, err := Attach(m, Config{Bits: 3, Reestimate: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := m.Params()[0]
	before := slices.Clone(s.Layers[0].Step)
	for i := range p.W.Data {
		p.W.Data[i] *= 3 // a step from pretrained weights no longer fits
	}
	if err := s.Sync(); err != nil { // call 1: fixed steps
		t.Fatal(err)
	}
	if !slices.Equal(before, s.Layers[0].Step) {
		t.Fatal("step changed before the re-estimation period")
	}
	want := make([]float32, len(p.W.Data))
	Quantizer{Bits: 3}.Apply(want, p.W.Data, before[0])
	if !slices.Equal(p.Q.Data, want) {
		t.Fatal("Sync did not re-quantize W with the fixed step")
	}
	p.W.Data[r.IntN(len(p.W.Data))] += 0.01
	if err := s.Sync(); err != nil { // call 2: re-estimate
		t.Fatal(err)
	}
	if got, want := s.Layers[0].Step[0], (Quantizer{Bits: 3}).Step(p.W.Data); got != want {
		t.Fatalf("re-estimated step %g, want %g", got, want)
	}
}

// TestSyncLarge checks the parallel quantize path against Apply.
func TestSyncLarge(t *testing.T) {
	m := buildModel(t, "mlp:300-400-10", 3)
	s, err := Attach(m, Config{Bits: 4, PerChannel: true})
	if err != nil {
		t.Fatal(err)
	}
	p := m.Params()[0]
	r := rand.New(rand.NewPCG(12, 12))
	for i := range p.W.Data {
		p.W.Data[i] += float32(0.01 * r.NormFloat64())
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	want := make([]float32, len(p.W.Data))
	Quantizer{Bits: 4}.ApplyRows(want, p.W.Data, s.Layers[0].Step)
	if !slices.Equal(want, p.Q.Data) {
		t.Fatal("parallel Sync differs from ApplyRows")
	}
}

// TestRetrainRecovers is the method in miniature: a float MLP, direct
// ternary quantization, then retraining with quantized forward/backward
// and float shadow weights. Retraining must lower the training loss
// below direct quantization's.
func TestRetrainRecovers(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	x, y := blobs(r, 400, 10, 4)
	m := buildModel(t, "mlp:10-24x2-4", 4)
	if _, err := sgd(m, x, y, 150, 0.1, nil); err != nil {
		t.Fatal(err)
	}
	s, err := Direct(m, Config{Bits: 2})
	if err != nil {
		t.Fatal(err)
	}
	direct := m.Loss.Forward(m.Forward(x, false), y)
	directErr := errPct(m, x, y)
	if _, err := sgd(m, x, y, 100, 0.02, s.Sync); err != nil {
		t.Fatal(err)
	}
	retrained := m.Loss.Forward(m.Forward(x, false), y)
	if !(retrained < direct) {
		t.Errorf("retrained loss %.4f not below direct %.4f", retrained, direct)
	}
	t.Logf("ternary: direct loss %.4f err %.1f%%, retrained loss %.4f err %.1f%%", direct, directErr, retrained, errPct(m, x, y))
	for _, p := range m.Params() {
		if p.Quantizable {
			// every value the layer computes with is a ternary level
			st := s.Layers[slices.IndexFunc(s.Layers, func(l LayerInfo) bool { return l.Name == p.Name })].Step[0]
			for _, v := range p.Q.Data {
				if v != 0 && v != st && v != -st {
					t.Fatalf("%s: value %g is not a ternary level of step %g", p.Name, v, st)
				}
			}
		}
	}
}

func TestLoadStateRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 14))
	x, _ := blobs(r, 50, 10, 3)
	for _, cfg := range []Config{
		{Bits: 2},
		{Bits: 3, PerChannel: true, Reestimate: 1},
		{Bits: 2, FirstLastBits: 8, ActBits: 3},
		{Bits: 5, ActBits: 4, ActRange: "max"},
		{Bits: 2, Rule: "twn", PerChannel: true},
	} {
		m := buildModel(t, "mlp:10-16x2-3", 5)
		s, err := Attach(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ActBits != 0 {
			if err := s.AttachActs(m, x); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range m.Params() { // a "training step"
			for i := range p.W.Data {
				p.W.Data[i] += float32(0.02 * r.NormFloat64())
			}
		}
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(m.Forward(x, false).Data)

		m2 := buildModel(t, "mlp:10-16x2-3", 99) // other init, then copy W (a checkpoint load)
		for i, p := range m2.Params() {
			copy(p.W.Data, m.Params()[i].W.Data)
		}
		s2, err := LoadState(m2, raw)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range m2.Params() {
			q1 := m.Params()[i].Q
			if (p.Q == nil) != (q1 == nil) {
				t.Fatalf("%+v: %s quantized in one model only", cfg, p.Name)
			}
			if p.Q != nil {
				for j := range p.Q.Data {
					if math.Float32bits(p.Q.Data[j]) != math.Float32bits(q1.Data[j]) {
						t.Fatalf("%+v: %s Q[%d] %g != %g", cfg, p.Name, j, p.Q.Data[j], q1.Data[j])
					}
				}
			}
		}
		got := m2.Forward(x, false).Data
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: logits differ after LoadState at %d: %g vs %g", cfg, i, got[i], want[i])
			}
		}
		raw2, _ := json.Marshal(s2)
		if string(raw2) != string(raw) {
			t.Fatalf("%+v: state JSON changed on round trip:\n%s\n%s", cfg, raw, raw2)
		}
	}
}

func TestStateJSON(t *testing.T) {
	m := buildModel(t, "mlp:6-4-2", 6)
	s, err := Attach(m, Config{Bits: 2})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(s)
	var v struct {
		Bits   int `json:"bits"`
		Format int `json:"format"`
		Layers []map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if v.Bits != 2 || v.Format != FormatVersion || len(v.Layers) != 2 {
		t.Fatalf("state JSON %s", raw)
	}
	for _, k := range []string{"name", "bits", "step", "qmin", "qmax", "shape"} {
		if _, ok := v.Layers[0][k]; !ok {
			t.Errorf("layer JSON lacks %q: %s", k, raw)
		}
	}
	if string(v.Layers[0]["qmin"]) != "-1" || string(v.Layers[0]["qmax"]) != "1" {
		t.Errorf("ternary qmin/qmax: %s", raw)
	}
}

func TestLoadStateErrors(t *testing.T) {
	m := buildModel(t, "mlp:6-4-2", 6)
	s, _ := Attach(m, Config{Bits: 2})
	raw, _ := json.Marshal(s)
	good := string(raw)
	tests := []struct {
		name, raw, spec, want string
	}{
		{"garbage", "{", "mlp:6-4-2", "quant: state:"},
		{"format", strings.Replace(good, `"format":1`, `"format":7`, 1), "mlp:6-4-2", "quant: state format 7"},
		{"bits", strings.Replace(good, `"bits":2,`, `"bits":12,`, 1), "mlp:6-4-2", "quant: bits 12 out of range"},
		{"other model", good, "mlp:6-5-2", "quant: state layer 0.weight has shape"},
		{"deeper model", good, "mlp:6-4-4-2", "quant: state has 2 quantized layers"},
		{"qmax", strings.Replace(good, `"qmax":1`, `"qmax":3`, 1), "mlp:6-4-2", "quant: state layer 0.weight: codes"},
		{"step", strings.Replace(good, `"step":[`, `"step":[-1,`, 1), "mlp:6-4-2", "quant: state layer 0.weight has 2 steps"},
	}
	for _, tc := range tests {
		m2 := buildModel(t, tc.spec, 1)
		_, err := LoadState(m2, json.RawMessage(tc.raw))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want prefix %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadState(m, raw); err == nil || !strings.Contains(err.Error(), "already quantized") {
		t.Errorf("load on quantized model: %v", err)
	}
}

func TestActQuant(t *testing.T) {
	a := &ActQuant{Bits: 2, Clip: 3} // levels 0, 1, 2, 3
	x := tensor.FromData([]float32{0, 0.4, 0.6, 1.49, 2.51, 3, 7}, 1, 7)
	y := a.Forward(x, true)
	if want := []float32{0, 0, 1, 1, 3, 3, 3}; !slices.Equal(y.Data, want) {
		t.Fatalf("ActQuant Forward = %v, want %v", y.Data, want)
	}
	dy := tensor.FromData([]float32{1, 2, 3, 4, 5, 6, 7}, 1, 7)
	if want := []float32{1, 2, 3, 4, 5, 0, 0}; !slices.Equal(a.Backward(dy).Data, want) {
		t.Fatalf("ActQuant Backward = %v, want %v", a.dx.Data, want)
	}
}

func TestAttachActsCalib(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 15))
	x, _ := blobs(r, 64, 10, 3)
	m := buildModel(t, "mlp:10-16x2-3", 7)
	nlayers := len(m.Layers)
	s, err := Attach(m, Config{Bits: 8, ActBits: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AttachActs(m, x); err != nil {
		t.Fatal(err)
	}
	if len(s.Acts) != 2 || len(m.Layers) != nlayers+2 {
		t.Fatalf("%d signal quantizers, %d layers", len(s.Acts), len(m.Layers))
	}
	// Each clip is the L2-optimal 3-bit unsigned quantizer of the signals
	// its layer saw: check against brute force on the recorded activations.
	h := x
	ai := 0
	for _, l := range m.Layers {
		if a, ok := l.(*ActQuant); ok {
			_, eb := bruteStep(h.Data, 7)
			e := errRef(h.Data, float64(a.Step()), 7)
			if e > eb*(1+1e-5)+1e-9 {
				t.Errorf("act %d: clip %g error %g, brute force %g", ai, a.Clip, e, eb)
			}
			ai++
		}
		h = l.Forward(h, false)
		if _, ok := l.(*ActQuant); ok {
			st := l.(*ActQuant).Step()
			for _, v := range h.Data {
				if k := float32(math.Round(float64(v / st))); v != k*st || k > 7 || k < 0 {
					t.Fatalf("signal %g is not a level of step %g", v, st)
				}
			}
		}
	}
	if err := s.AttachActs(m, x); err == nil {
		t.Error("AttachActs twice: no error")
	}
	s.Detach(m)
	if len(m.Layers) != nlayers {
		t.Fatalf("Detach left %d layers, want %d", len(m.Layers), nlayers)
	}
	acts, err := InsertActQuant(m, 4, []float32{1, 2})
	if err != nil || len(acts) != 2 || acts[1].Clip != 2 || acts[0].Bits != 4 {
		t.Fatalf("InsertActQuant: %v %v", acts, err)
	}
	if _, err := InsertActQuant(m, 4, []float32{1, 2}); err == nil {
		t.Error("InsertActQuant twice: no error")
	}
	s.Detach(m)
	if len(m.Layers) != nlayers {
		t.Fatalf("Detach left %d layers, want %d", len(m.Layers), nlayers)
	}
	if _, err := InsertActQuant(m, 4, []float32{1}); err == nil {
		t.Error("InsertActQuant with too few clips: no error")
	}
	mt := buildModel(t, "mlp:10-16-3,act=tanh", 7)
	st, _ := Attach(mt, Config{Bits: 2, ActBits: 3})
	if err := st.AttachActs(mt, x); err == nil || !strings.Contains(err.Error(), "tanh") {
		t.Errorf("tanh: %v", err)
	}
}

func TestSensitivity(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 16))
	x, y := blobs(r, 200, 10, 4)
	m := buildModel(t, "mlp:10-24x2-4", 8)
	if _, err := sgd(m, x, y, 100, 0.1, nil); err != nil {
		t.Fatal(err)
	}
	float := errPct(m, x, y)
	calls := 0
	rows, err := Sensitivity(m, []int{2, 8}, Config{Bits: 2}, func() (float64, error) {
		calls++
		n := 0
		for _, p := range m.Params() {
			if p.Q != nil {
				n++
			}
		}
		if n != 1 {
			return 0, errors.New("not exactly one layer quantized")
		}
		return errPct(m, x, y), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || calls != 6 {
		t.Fatalf("%d rows, %d calls, want 6", len(rows), calls)
	}
	for _, row := range rows {
		t.Logf("%s bits %d step %v err %.1f%% (float %.1f%%)", row.Layer, row.Bits, row.Step, row.TestErrPct, float)
	}
	for _, p := range m.Params() {
		if p.Q != nil {
			t.Fatal("Sensitivity left a layer quantized")
		}
	}
	if errPct(m, x, y) != float {
		t.Fatal("model changed by Sensitivity")
	}
	if _, err := Sensitivity(m, []int{1}, Config{}, nil); err == nil {
		t.Error("bits 1: no error")
	}
	if _, err := Sensitivity(m, []int{2}, Config{}, func() (float64, error) { return 0, errors.New("boom") }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("eval error: %v", err)
	}
}

// TestDeterminism: the same model and config give bit-identical steps and Q.
func TestDeterminism(t *testing.T) {
	var first []byte
	for range 2 {
		m := buildModel(t, "mlp:20-32-5", 9)
		s, err := Attach(m, Config{Bits: 3, PerChannel: true})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(s)
		if first == nil {
			first = raw
		} else if string(raw) != string(first) {
			t.Fatal("two Attach calls gave different states")
		}
	}
}

func ExampleAttach() {
	m, err := nn.Build("mlp:784-256-128-10", nil, 1)
	if err != nil {
		panic(err)
	}
	s, err := Attach(m, Config{Bits: 2, FirstLastBits: 8})
	if err != nil {
		panic(err)
	}
	for _, l := range s.Layers {
		fmt.Printf("%s %v: %d bits, codes %d..%d, %d step(s)\n", l.Name, l.Shape, l.Bits, l.QMin, l.QMax, len(l.Step))
	}
	// Retraining: train.Run(ctx, m, ds, cfg, train.Hooks{AfterStep: s.Sync}, log),
	// then store json.Marshal(s) in ckpt.Meta.Quant.
	_, err = Attach(m, Config{Bits: 3})
	fmt.Println(err != nil)
	// Output:
	// 0.weight [256 784]: 8 bits, codes -127..127, 1 step(s)
	// 2.weight [128 256]: 2 bits, codes -1..1, 1 step(s)
	// 4.weight [10 128]: 8 bits, codes -127..127, 1 step(s)
	// true
}

func TestAttachCNN(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 17))
	m, err := nn.Build("cnn:4c3-p2-8c3-p2-6", []int{1, 8, 8}, 3)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(5, 64)
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	s, err := Attach(m, Config{Bits: 3, PerChannel: true, ActBits: 4})
	if err != nil {
		t.Fatal(err)
	}
	conv := s.Layers[1]
	if !slices.Equal(conv.Shape, []int{8, 4, 3, 3}) || len(conv.Step) != 8 {
		t.Fatalf("conv layer info %+v", conv)
	}
	want := make([]float32, 8*4*3*3)
	p := m.Params()[2]
	Quantizer{Bits: 3}.ApplyRows(want, p.W.Data, conv.Step)
	if !slices.Equal(p.Q.Data, want) {
		t.Fatal("conv Q is not per-output-channel Q(W)")
	}
	if err := s.AttachActs(m, x); err != nil {
		t.Fatal(err)
	}
	if len(s.Acts) != 2 {
		t.Fatalf("%d signal quantizers, want 2", len(s.Acts))
	}
	y := slices.Clone(m.Forward(x, false).Data)
	raw, _ := json.Marshal(s)
	m2, _ := nn.Build("cnn:4c3-p2-8c3-p2-6", []int{1, 8, 8}, 3)
	if _, err := LoadState(m2, raw); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m2.Forward(x, false).Data, y) {
		t.Fatal("cnn logits differ after LoadState")
	}

	mb, _ := nn.Build("cnn:4c3-bn-p2-8c3-bn-p2-6", []int{1, 8, 8}, 3)
	sb, err := Attach(mb, Config{Bits: 2, ActBits: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.AttachActs(mb, x); err == nil || !strings.Contains(err.Error(), "BatchNorm") {
		t.Errorf("BatchNorm model: %v", err)
	}
}
