package packed

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/resq-dev/resq/packed/internal/kernels"
)

// testNet is a synthetic model in export form.
type testNet struct {
	a    *arch
	data []*denseData
}

// randNet builds an MLP in -> widths... -> classes with random codes of the
// given bits and steps scaled so activations stay of order one.
func randNet(r *rand.Rand, in int, widths []int, classes, bits int, act string, perChannel, base3 bool) testNet {
	n := testNet{a: &arch{In: []int{in}, Classes: classes}}
	w := in
	outs := append(append([]int(nil), widths...), classes)
	for li, out := range outs {
		q := qmax(bits)
		enc := EncBits
		if base3 && bits == 2 {
			enc = EncBase3
		}
		steps := 1
		if perChannel {
			steps = out
		}
		d := &denseData{Codes: make([]int8, out*w), Step: make([]float32, steps), Bias: make([]float32, out)}
		for i := range d.Codes {
			d.Codes[i] = int8(r.IntN(2*q+1) - q)
		}
		for i := range d.Step {
			d.Step[i] = float32(math.Sqrt(6/float64(w)) / float64(q) * (0.8 + 0.4*r.Float64()))
		}
		for i := range d.Bias {
			d.Bias[i] = float32(0.1 * r.NormFloat64())
		}
		n.a.Layers = append(n.a.Layers, archLayer{Kind: "dense", In: w, Out: out, Bits: bits, Encoding: enc, Steps: steps})
		n.data = append(n.data, d)
		if li < len(outs)-1 {
			n.a.Layers = append(n.a.Layers, archLayer{Kind: act})
			n.data = append(n.data, nil)
		}
		w = out
	}
	return n
}

func (n testNet) bytes(t testing.TB) []byte {
	var b bytes.Buffer
	if err := encode(&b, n.a, "test", n.data, Meta{Dataset: "synthetic"}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// forwardRef is the simulated-quantized float forward (float64, weights
// code*step) that the engine approximates.
func (n testNet) forwardRef(x []float64, batch int) []float64 {
	h := x
	width := n.a.In[0]
	for i, l := range n.a.Layers {
		switch l.Kind {
		case "dense":
			d := n.data[i]
			y := make([]float64, batch*l.Out)
			for b := 0; b < batch; b++ {
				for j := 0; j < l.Out; j++ {
					st := d.Step[0]
					if len(d.Step) > 1 {
						st = d.Step[j]
					}
					var s float64
					for k := 0; k < l.In; k++ {
						s += float64(float32(d.Codes[j*l.In+k])*st) * h[b*width+k]
					}
					y[b*l.Out+j] = s + float64(d.Bias[j])
				}
			}
			h, width = y, l.Out
		case "relu":
			for k := range h {
				h[k] = max(h[k], 0)
			}
		case "sigmoid":
			for k := range h {
				h[k] = 1 / (1 + math.Exp(-h[k]))
			}
		case "tanh":
			for k := range h {
				h[k] = math.Tanh(h[k])
			}
		}
	}
	return h
}

func argmax64(v []float64) int {
	b := 0
	for i, x := range v {
		if x > v[b] {
			b = i
		}
	}
	return b
}

// TestInferMatchesReference checks the engine against the simulated
// quantized float forward. Only the dynamic 8-bit activation quantization
// separates them; the documented bounds (doc.go) are: logits within
// 0.1*max(1, max|logit|) (worst case over the batch; measured up to 0.06) and at
// least 97% of top-1 predictions equal on random (small-margin) networks.
func TestInferMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	tests := []struct {
		bits       int
		act        string
		perChannel bool
		base3      bool
		signedIn   bool
	}{
		{2, "relu", false, false, false}, {2, "relu", true, true, true}, {3, "tanh", true, false, true},
		{4, "sigmoid", false, false, false}, {5, "relu", true, false, true}, {8, "relu", false, false, true},
		{8, "tanh", true, false, false}, {7, "relu", false, false, false},
	}
	const in, classes, batch = 97, 10, 261
	for _, tt := range tests {
		name := fmt.Sprintf("bits%d_%s_pc%v_b3%v_signed%v", tt.bits, tt.act, tt.perChannel, tt.base3, tt.signedIn)
		n := randNet(r, in, []int{129, 64, 33}, classes, tt.bits, tt.act, tt.perChannel, tt.base3)
		m, err := LoadBytes(n.bytes(t))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		x := make([]float32, batch*in)
		x64 := make([]float64, len(x))
		for i := range x {
			v := r.Float64()
			if tt.signedIn {
				v = r.NormFloat64()
			}
			x[i], x64[i] = float32(v), float64(float32(v))
		}
		want := n.forwardRef(x64, batch)
		for _, kern := range kernels.Available() {
			prev, _ := kernels.Force(kern)
			got := make([]float32, batch*classes)
			m.Infer(got, x, batch)
			pred := make([]int32, batch)
			m.Predict(pred, x, batch)
			kernels.Force(prev)
			agree, worst := 0, 0.0
			for b := 0; b < batch; b++ {
				row := want[b*classes : (b+1)*classes]
				scale := 1.0
				for j := range row {
					scale = max(scale, math.Abs(row[j]))
					worst = max(worst, math.Abs(float64(got[b*classes+j])-row[j])/scale)
				}
				if int(pred[b]) == argmax64(row) {
					agree++
				}
			}
			if worst > 0.1 || float64(agree) < 0.97*batch {
				t.Errorf("%s/%s: worst relative logit error %.4f (limit 0.1), predictions agree %d/%d", name, kern, worst, agree, batch)
			}
			if testing.Verbose() {
				t.Logf("%s/%s: worst relative logit error %.5f, agreement %d/%d", name, kern, worst, agree, batch)
			}
		}
	}
}

// TestKernelsIdentical checks that every kernel gives bit-identical logits.
func TestKernelsIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, bits := range []int{2, 6, 8} {
		n := randNet(r, 200, []int{300}, 10, bits, "relu", true, false)
		m, err := LoadBytes(n.bytes(t))
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, 9*200)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		var first []float32
		for _, kern := range kernels.Available() {
			prev, _ := kernels.Force(kern)
			got := make([]float32, 9*10)
			m.Infer(got, x, 9)
			kernels.Force(prev)
			if first == nil {
				first = got
				continue
			}
			for i := range got {
				if got[i] != first[i] {
					t.Fatalf("bits %d: kernel %s logit %d = %v, go kernel %v", bits, kern, i, got[i], first[i])
				}
			}
		}
	}
}

func TestInferConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	n := randNet(r, 50, []int{40}, 7, 3, "relu", false, false)
	m, err := LoadBytes(n.bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 300*50)
	for i := range x {
		x[i] = r.Float32()
	}
	want := make([]float32, 300*7)
	m.Infer(want, x, 300)
	done := make(chan []float32)
	for g := 0; g < 4; g++ {
		go func() {
			got := make([]float32, 300*7)
			m.Infer(got, x, 300)
			done <- got
		}()
	}
	for g := 0; g < 4; g++ {
		got := <-done
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("concurrent Infer differs at %d: %v vs %v", i, got[i], want[i])
			}
		}
	}
}

func TestInferPanicsOnShape(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	m, err := LoadBytes(randNet(r, 5, nil, 3, 2, "relu", false, false).bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if e := recover(); e == nil {
			t.Fatal("Infer accepted x of the wrong size")
		}
	}()
	m.Infer(make([]float32, 6), make([]float32, 9), 2)
}

func TestQuantizeRow(t *testing.T) {
	tests := []struct {
		x    []float32
		amax int
		off  int32
	}{
		{[]float32{0, 0.5, 1}, 255, 0},
		{[]float32{-1, 0, 0.25, 1}, 255, 128},
		{[]float32{-3, 2}, 127, 64},
		{[]float32{0, 0}, 255, 0},
		{[]float32{}, 255, 0},
	}
	for _, tt := range tests {
		u := make([]uint8, len(tt.x)+3)
		for i := range u {
			u[i] = 99
		}
		scale, off := quantizeRow(u, tt.x, tt.amax)
		if off != tt.off {
			t.Errorf("%v: off %d, want %d", tt.x, off, tt.off)
		}
		for i, v := range tt.x {
			if int(u[i]) > tt.amax {
				t.Errorf("%v: code %d above %d", tt.x, u[i], tt.amax)
			}
			if got := float32(int32(u[i])-off) * scale; math.Abs(float64(got-v)) > float64(scale)/2+1e-6 {
				t.Errorf("%v: element %d dequantizes to %v", tt.x, i, got)
			}
		}
		for _, p := range u[len(tt.x):] {
			if p != 0 {
				t.Errorf("%v: padding not zeroed: %v", tt.x, u)
			}
		}
	}
}
