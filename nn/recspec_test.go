package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/resq-dev/resq/tensor"
)

func TestRecurrentSpecErrors(t *testing.T) {
	for _, c := range []struct {
		spec string
		in   []int
		want string
	}{
		{"lstm:28-10", []int{28, 28}, "want IN-HIDDEN"},
		{"lstm:x-128-10", []int{28, 28}, "bad input width"},
		{"lstm:28-12a-10", []int{28, 28}, "bad layer"},
		{"lstm:28-128x0-10", []int{28, 28}, "bad layer"},
		{"gru:28-128-1", []int{28, 28}, "bad class count"},
		{"lstm:28-128-10,head=all", []int{28, 28}, "head=last or head=seq"},
		{"lstm:28-128-10,bptt=0", []int{28, 28}, "bptt=STEPS"},
		{"lstm:28-128-10,act=relu", []int{28, 28}, "bad option"},
		{"lstm:28-128-10,init=he", []int{28, 28}, "init=uniform only"},
		{"lstm:28-128-10,drop=1", []int{28, 28}, "probability"},
		{"lstm:28-128-10", nil, "needs the input shape"},
		{"lstm:28-128-10", []int{28, 27}, "28 features per step"},
		{"gru:28-128-10", []int{30}, "28 features per step"},
		{"lstm:28-100000x200000-10", []int{28, 28}, "layers"},
		{"lstm:28-1000000x2-10", []int{28, 28}, "limit"},
	} {
		_, err := Build(c.spec, c.in, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "nn: ") {
			t.Errorf("Build(%q, %v): error %v, want one containing %q", c.spec, c.in, err, c.want)
		}
	}
}

func TestRecurrentSpecBuild(t *testing.T) {
	for _, c := range []struct {
		spec            string
		in              []int
		weights, params int64
		kinds           string
		steps           int
		perStep         bool
	}{
		// 4*128*(28+128) + 128*10 weights; biases 4*128 + 10.
		{"lstm:28-128-10", []int{1, 28, 28}, 4*128*156 + 1280, 4*128*156 + 1280 + 512 + 10, "lstm dense", 28, false},
		{"lstm:28-16x2-10,drop=0.1", []int{28, 28}, 4*16*44 + 4*16*32 + 160, 4*16*44 + 4*16*32 + 160 + 128 + 10, "lstm dropout lstm dropout dense", 28, false},
		{"gru:5-8-5,head=seq,tokens", []int{7}, 3*8*13 + 40, 3*8*13 + 40 + 48 + 5, "gru seqrows dense", 7, true},
	} {
		m, err := Build(c.spec, c.in, 1)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		w, p := m.Count()
		if w != c.weights || p != c.params {
			t.Errorf("%s: count %d weights %d params, want %d %d", c.spec, w, p, c.weights, c.params)
		}
		sw, sp, err := SpecSize(c.spec, c.in)
		if err != nil || sw != w || sp != p {
			t.Errorf("%s: SpecSize %d %d %v, Count %d %d", c.spec, sw, sp, err, w, p)
		}
		var kinds []string
		for _, l := range m.Layers {
			kinds = append(kinds, l.Kind())
		}
		if got := strings.Join(kinds, " "); got != c.kinds {
			t.Errorf("%s: layers %q, want %q", c.spec, got, c.kinds)
		}
		if s, ps := m.Steps(); s != c.steps || ps != c.perStep {
			t.Errorf("%s: Steps %d %v, want %d %v", c.spec, s, ps, c.steps, c.perStep)
		}
		info, err := ParseSpec(c.spec)
		if err != nil || info.Family != c.spec[:strings.Index(c.spec, ":")] || info.Width == 0 {
			t.Errorf("%s: ParseSpec %+v %v", c.spec, info, err)
		}
		if !strings.Contains(m.String(), m.Layers[0].Kind()) {
			t.Errorf("%s: String() %q", c.spec, m.String())
		}
		lim := float32(1 / math.Sqrt(float64(info.Width)))
		for _, v := range m.Layers[0].Params()[1].W.Data {
			if v < -lim || v > lim {
				t.Fatalf("%s: recurrent weight %v outside U(±%v)", c.spec, v, lim)
			}
		}
	}
}

// TestRecurrentModelGrad checks a whole two-layer model with the
// many-to-many head through the loss against central differences.
func TestRecurrentModelGrad(t *testing.T) {
	for _, spec := range []string{"lstm:3-4x2-5,head=seq", "gru:3-4-2-5", "lstm:6-3-6,head=seq,tokens"} {
		steps := 4
		in := []int{steps, 3}
		if strings.Contains(spec, "tokens") {
			in = []int{steps}
		}
		m, err := Build(spec, in, 3)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(2, 2))
		n := 2
		x := tensor.New(n, tensor.Numel(in))
		for i := range x.Data {
			if len(in) == 1 {
				x.Data[i] = float32(rng.IntN(6))
			} else {
				x.Data[i] = float32(rng.NormFloat64())
			}
		}
		_, perStep := m.Steps()
		rows := n
		if perStep {
			rows = n * steps
		}
		labels := make([]int32, rows)
		for i := range labels {
			labels[i] = int32(rng.IntN(m.Classes))
		}
		loss := func() float64 { return m.Loss.Forward(m.Forward(x, true), labels) }
		loss()
		m.Backward(m.Loss.Backward())
		for _, p := range m.Params() {
			g := append([]float32(nil), p.G.Data...)
			for i := range p.W.Data {
				old := p.W.Data[i]
				p.W.Data[i] = old + gcStep
				lp := loss()
				p.W.Data[i] = old - gcStep
				lm := loss()
				p.W.Data[i] = old
				if num := (lp - lm) / (2 * gcStep); !near(float64(g[i]), num) {
					t.Fatalf("%s: d/d%s[%d]: analytic %v, numeric %v", spec, p.Name, i, g[i], num)
				}
			}
		}
	}
}
