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

// randBN gives a model's BatchNorm layers non-trivial statistics.
func randBN(r *rand.Rand, m *nn.Model) {
	for _, l := range m.Layers {
		if b, ok := l.(*nn.BatchNorm); ok {
			for c := 0; c < b.C; c++ {
				b.Gamma.W.Data[c] = float32(0.5 + r.Float64())
				b.Beta.W.Data[c] = float32(0.2 * r.NormFloat64())
				b.RunMean.Data[c] = float32(0.3 * r.NormFloat64())
				b.RunVar.Data[c] = float32(0.5 + r.Float64())
			}
		}
	}
}

// TestExportMatchesNN exports quantized nn models and compares the packed
// engine with nn's own forward through the quantized weights Q (the
// simulated-quantized float forward of training and evaluation).
func TestExportMatchesNN(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 31))
	tests := []struct {
		spec string
		in   []int
		cfg  quant.Config
		opt  Options
	}{
		{"mlp:64-48x2-10", nil, quant.Config{Bits: 2}, Options{}},
		{"mlp:64-48x2-10", nil, quant.Config{Bits: 2, PerChannel: true}, Options{Base3: true}},
		{"mlp:64-40-33-7,act=tanh,drop=0.2", nil, quant.Config{Bits: 3, FirstLastBits: 8}, Options{}},
		{"mlp:64-32-5,act=sigmoid", nil, quant.Config{Bits: 8, PerChannel: true}, Options{}},
		{"cnn:6c3-bn-p2-8c3s2-fc16-4", []int{2, 9, 9}, quant.Config{Bits: 4}, Options{}},
		{"cnn:4c5-p2-fc12-3,drop=0.5", []int{1, 12, 12}, quant.Config{Bits: 2}, Options{Base3: true}},
	}
	const batch = 200
	for _, tt := range tests {
		m, err := nn.Build(tt.spec, tt.in, 7)
		if err != nil {
			t.Fatal(err)
		}
		randBN(r, m)
		s, err := quant.Attach(m, tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.resq")
		size, err := Export(path, m, s, Meta{Options: tt.opt, Dataset: "synthetic", SourceCheckpoint: "x.ckpt"})
		if err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		b, _ := os.ReadFile(path)
		if int64(len(b)) != size {
			t.Fatalf("%s: Export returned %d, file has %d bytes", tt.spec, size, len(b))
		}
		f, err := safetensors.Read(b)
		if err != nil {
			t.Fatal(err)
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
		if pm.Meta["dataset"] != "synthetic" || pm.Meta["source_checkpoint"] != "x.ckpt" || pm.Spec != tt.spec || !strings.Contains(pm.Meta["quant_config"], "bits") {
			t.Errorf("%s: provenance lost: %v", tt.spec, pm.Meta)
		}
		d := pm.dim
		x := tensor.New(batch, d)
		for i := range x.Data {
			x.Data[i] = r.Float32()
		}
		want := m.Forward(x, false) // [batch, classes] through Q
		got := make([]float32, batch*m.Classes)
		pm.Infer(got, x.Data, batch)
		pred := make([]int32, batch)
		pm.Predict(pred, x.Data, batch)
		agree, worst := 0, 0.0
		for b := 0; b < batch; b++ {
			row := want.Data[b*m.Classes : (b+1)*m.Classes]
			scale, best := 1.0, 0
			for j, v := range row {
				scale = max(scale, math.Abs(float64(v)))
				if v > row[best] {
					best = j
				}
			}
			for j, v := range row {
				worst = max(worst, math.Abs(float64(got[b*m.Classes+j]-v))/scale)
			}
			if int(pred[b]) == best {
				agree++
			}
		}
		if worst > 0.1 || agree != batch {
			t.Errorf("%s %+v: worst relative logit error %.4f (limit 0.1), predictions agree %d/%d (want all)", tt.spec, tt.cfg, worst, agree, batch)
		}
		// The recheck paths: two-digit codes and float activations.
		wide := make([]float32, batch*m.Classes)
		ws := pm.getWideScratch()
		ws.threads = 1
		for r0 := 0; r0 < batch; r0 += pm.chunk {
			rows := min(pm.chunk, batch-r0)
			pm.forwardWide(ws, wide[r0*m.Classes:(r0+rows)*m.Classes], x.Data[r0*d:(r0+rows)*d], rows)
		}
		pm.pool.Put(ws)
		worstWide, worstFloat := 0.0, 0.0
		for b := 0; b < batch; b++ {
			row := want.Data[b*m.Classes : (b+1)*m.Classes]
			fl := make([]float32, m.Classes)
			pm.forwardFloat(fl, x.Data[b*d:(b+1)*d])
			scale := 1.0
			for _, v := range row {
				scale = max(scale, math.Abs(float64(v)))
			}
			for j, v := range row {
				worstWide = max(worstWide, math.Abs(float64(wide[b*m.Classes+j]-v))/scale)
				worstFloat = max(worstFloat, math.Abs(float64(fl[j]-v))/scale)
			}
		}
		if worstWide > max(worst/50, 1e-5) || worstWide > tau16/4 || worstFloat > 1e-5 {
			t.Errorf("%s %+v: worst relative logit error: 8-bit %.3g, two-digit %.3g (want < 8-bit/50 and < %g), float %.3g (want < 1e-5)",
				tt.spec, tt.cfg, worst, worstWide, tau16/4, worstFloat)
		}
		if testing.Verbose() {
			t.Logf("%s %+v: %d bytes (%d tensor bytes), worst relative logit error %.5f (two-digit %.2g, float %.2g), agreement %d/%d", tt.spec, tt.cfg, size, tensorBytes, worst, worstWide, worstFloat, agree, batch)
		}
	}
}

func TestExportRejects(t *testing.T) {
	m, err := nn.Build("mlp:8-4-2", nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := Export(filepath.Join(dir, "a"), m, nil, Meta{}); err == nil || !strings.HasPrefix(err.Error(), "packed: ") {
		t.Errorf("nil state: %v", err)
	}
	if _, err := Export(filepath.Join(dir, "a"), m, &quant.State{}, Meta{}); err == nil || !strings.Contains(err.Error(), "not quantized") {
		t.Errorf("float model: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Error("failed export left a file")
	}
	s, err := quant.Attach(m, quant.Config{Bits: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Export(filepath.Join(dir, "a"), m, s, Meta{Extra: map[string]string{"arch": "x"}}); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("reserved key: %v", err)
	}
	if _, err := Export(filepath.Join(dir, "missing", "a"), m, s, Meta{}); err == nil {
		t.Error("export into a missing folder succeeded")
	}

	// Weights so large that the step leaves the format's range: refused
	// at export, not only when the file is loaded.
	huge, err := nn.Build("mlp:8-4-2", nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range huge.Params()[0].W.Data {
		huge.Params()[0].W.Data[i] *= 1e9
	}
	hs, err := quant.Attach(huge, quant.Config{Bits: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Export(filepath.Join(dir, "huge"), huge, hs, Meta{}); err == nil || !strings.Contains(err.Error(), "out of range [0, 1e+06]") {
		t.Errorf("step beyond MaxStep: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "huge")); err == nil {
		t.Error("refused export left a file")
	}
}

// TestStoredBytes pins the byte count of a 784-1024x3-10 MLP: ternary codes
// at 2 bits (or base 3) + one F32 step per layer + F32 biases, and checks
// the file-size targets against the float32 weights.
func TestStoredBytes(t *testing.T) {
	m, err := nn.Build("mlp:784-1024x3-10", nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := quant.Attach(m, quant.Config{Bits: 2, Rule: "maxabs"})
	if err != nil {
		t.Fatal(err)
	}
	weights, params := m.Count()
	biases := params - weights
	want := weights/4 + 4*4 + 4*biases // every layer's weight count is a multiple of 4
	if got := StoredBytes(m, s, Options{}); got != want {
		t.Errorf("ternary StoredBytes %d, want %d", got, want)
	}
	want3 := 4*4 + 4*biases
	for _, l := range m.Layers {
		if d, ok := l.(*nn.Dense); ok {
			want3 += int64((d.In*d.Out + 4) / 5)
		}
	}
	if got := StoredBytes(m, s, Options{Base3: true}); got != want3 {
		t.Errorf("base-3 StoredBytes %d, want %d", got, want3)
	}
	path := filepath.Join(t.TempDir(), "m.resq")
	size, err := Export(path, m, s, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	float := 4 * params
	if size*15 > float {
		t.Errorf("ternary file %d bytes is more than 1/15 of the float32 params' %d bytes", size, float)
	}
	t.Logf("784-1024x3-10 ternary: file %d bytes, tensors %d, float32 params %d (ratio %.2f); base-3 tensors %d", size, want, float, float64(float)/float64(size), want3)
}

// TestExportActQuant exports models with trained signal quantizers: the
// engine then codes those layers' inputs exactly (level = code), and with
// pixel inputs whose row maximum is 1 the first layer is exact too, so it
// agrees with nn's forward up to float rounding. (8-bit weights code
// activations with 7 bits, so their first layer is not exact.)
func TestExportActQuant(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 41))
	tests := []struct {
		spec string
		in   []int
		cfg  quant.Config
	}{
		{"mlp:64-48x2-10", nil, quant.Config{Bits: 2, ActBits: 4}},
		{"mlp:64-48x2-10", nil, quant.Config{Bits: 7, ActBits: 7, PerChannel: true}},
		{"cnn:4c3-p2-6c3-fc12-3", []int{1, 10, 10}, quant.Config{Bits: 3, ActBits: 3}},
	}
	const batch = 150
	for _, tt := range tests {
		m, err := nn.Build(tt.spec, tt.in, 3)
		if err != nil {
			t.Fatal(err)
		}
		s, err := quant.Attach(m, tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		d := 1
		for _, v := range m.In {
			d *= v
		}
		x := tensor.New(batch, d)
		for i := range x.Data {
			x.Data[i] = float32(r.IntN(256)) / 255
		}
		for b := 0; b < batch; b++ {
			x.Data[b*d] = 1 // like MNIST: every image has a 255 pixel, so u = pixel exactly
		}
		if err := s.AttachActs(m, x); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.resq")
		if _, err := Export(path, m, s, Meta{}); err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		pm, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		grids := 0
		for _, o := range pm.ops {
			if o.gridLevels > 0 && o.kind != opActQ {
				grids++
			}
		}
		if grids == 0 {
			t.Errorf("%s: no layer uses the signal quantizer's grid", tt.spec)
		}
		want := m.Forward(x, false)
		got := make([]float32, batch*m.Classes)
		pm.Infer(got, x.Data, batch)
		// Float rounding in the epilogue can move a signal across a level
		// boundary of the coarse signal quantizer now and then; every
		// other row must match to float precision.
		worst, off := 0.0, 0
		for b := 0; b < batch; b++ {
			rowWorst := 0.0
			for j := 0; j < m.Classes; j++ {
				v := want.Data[b*m.Classes+j]
				rowWorst = max(rowWorst, math.Abs(float64(got[b*m.Classes+j]-v))/max(1, math.Abs(float64(v))))
			}
			if rowWorst > 1e-4 {
				off++
			} else {
				worst = max(worst, rowWorst)
			}
		}
		if off > batch/50 {
			t.Errorf("%s %+v: %d of %d samples differ from nn beyond 1e-4 (limit %d)", tt.spec, tt.cfg, off, batch, batch/50)
		}
		if testing.Verbose() {
			t.Logf("%s %+v: %d layers on a signal grid, %d/%d samples beyond 1e-4, worst of the others %.2g", tt.spec, tt.cfg, grids, off, batch, worst)
		}
	}
}

// TestExportCodesAreQ checks, for every rule, that the exported codes times
// the steps are exactly the weights Q the quantized model computes with
// (TWN included, whose zero threshold 0.7*mean|w| is not D/2).
func TestExportCodesAreQ(t *testing.T) {
	for _, cfg := range []quant.Config{
		{Bits: 2}, {Bits: 2, Rule: "twn"}, {Bits: 2, Rule: "twn", PerChannel: true},
		{Bits: 3, Rule: "maxabs"}, {Bits: 5, Rule: "pow2", PerChannel: true},
	} {
		m, err := nn.Build("mlp:17-33x2-5", nil, 3)
		if err != nil {
			t.Fatal(err)
		}
		s, err := quant.Attach(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, all, err := fromModel(m, stateQuant(s), Options{}, false)
		if err != nil {
			t.Fatal(err)
		}
		var data []*denseData
		for _, d := range all {
			if d != nil && d.Codes != nil {
				data = append(data, d)
			}
		}
		ws := []*nn.Param{}
		for _, p := range m.Params() {
			if p.Quantizable {
				ws = append(ws, p)
			}
		}
		if len(ws) != len(data) {
			t.Fatalf("%+v: %d weight tensors, %d exported", cfg, len(ws), len(data))
		}
		for i, p := range ws {
			d := data[i]
			cols := len(p.W.Data) / p.W.Shape[0]
			for j, c := range d.Codes {
				st := d.Step[0]
				if len(d.Step) > 1 {
					st = d.Step[j/cols]
				}
				if float32(c)*st != p.Q.Data[j] {
					t.Fatalf("%+v: %s[%d]: code %d * step %g != Q %g (w %g)", cfg, p.Name, j, c, st, p.Q.Data[j], p.W.Data[j])
				}
			}
		}
	}
}
