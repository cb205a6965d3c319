package train

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// refState is a float64 reference of one optimizer applied to one tensor.
type refState struct{ w, v, m []float64 }

func newParams(rng *rand.Rand, sizes []int) []*nn.Param {
	var ps []*nn.Param
	for i, n := range sizes {
		p := &nn.Param{Name: string(rune('a' + i)), W: tensor.New(n), G: tensor.New(n), Decay: i%2 == 0}
		for j := range p.W.Data {
			p.W.Data[j] = float32(rng.NormFloat64())
		}
		ps = append(ps, p)
	}
	return ps
}

func TestOptimizersMatchReference(t *testing.T) {
	sizes := []int{1, 3, 17, 129}
	type variant struct {
		name string
		opt  func() Optimizer
		ref  func(s *refState, g []float64, decay bool, lr float64, step int)
	}
	const mu, wd = 0.9, 0.01
	sgd := func(nesterov bool, momentum float64) func(s *refState, g []float64, decay bool, lr float64, step int) {
		return func(s *refState, g []float64, decay bool, lr float64, step int) {
			for j := range s.w {
				gj := g[j]
				if decay {
					gj += wd * s.w[j]
				}
				s.v[j] = momentum*s.v[j] + gj
				d := s.v[j]
				if nesterov {
					d = gj + momentum*s.v[j]
				}
				s.w[j] -= lr * d
			}
		}
	}
	variants := []variant{
		{"sgd", func() Optimizer { return &SGD{WeightDecay: wd} }, sgd(false, 0)},
		{"momentum", func() Optimizer { return &SGD{Momentum: mu, WeightDecay: wd} }, sgd(false, mu)},
		{"nesterov", func() Optimizer { return &SGD{Momentum: mu, Nesterov: true, WeightDecay: wd} }, sgd(true, mu)},
		{"adam", func() Optimizer { return &Adam{WeightDecay: wd} }, func(s *refState, g []float64, decay bool, lr float64, step int) {
			b1, b2, eps := 0.9, 0.999, 1e-8
			for j := range s.w {
				gj := g[j]
				if decay {
					gj += wd * s.w[j]
				}
				s.m[j] = b1*s.m[j] + (1-b1)*gj
				s.v[j] = b2*s.v[j] + (1-b2)*gj*gj
				mh := s.m[j] / (1 - math.Pow(b1, float64(step)))
				vh := s.v[j] / (1 - math.Pow(b2, float64(step)))
				s.w[j] -= lr * mh / (math.Sqrt(vh) + eps)
			}
		}},
	}
	for _, v := range variants {
		rng := rand.New(rand.NewPCG(11, 11))
		ps := newParams(rng, sizes)
		refs := make([]refState, len(ps))
		for i, p := range ps {
			refs[i] = refState{w: make([]float64, len(p.W.Data)), v: make([]float64, len(p.W.Data)), m: make([]float64, len(p.W.Data))}
			for j, x := range p.W.Data {
				refs[i].w[j] = float64(x)
			}
		}
		opt := v.opt()
		for step := 1; step <= 5; step++ {
			lr := 0.05 / float64(step)
			for i, p := range ps {
				g := make([]float64, len(p.G.Data))
				for j := range g {
					p.G.Data[j] = float32(rng.NormFloat64())
					g[j] = float64(p.G.Data[j])
				}
				v.ref(&refs[i], g, p.Decay, lr, step)
			}
			opt.Step(ps, lr)
		}
		for i, p := range ps {
			for j, x := range p.W.Data {
				if d := math.Abs(float64(x) - refs[i].w[j]); d > 1e-5*(1+math.Abs(refs[i].w[j])) {
					t.Fatalf("%s: param %d (size %d) [%d] = %v, reference %v", v.name, i, len(p.W.Data), j, x, refs[i].w[j])
				}
			}
		}
	}
}

func TestOptimizerParamMismatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ps := newParams(rng, []int{3, 4})
	opt := &SGD{Momentum: 0.5}
	opt.Step(ps, 0.1)
	defer func() {
		r := recover()
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, "train: sgd: ") {
			t.Errorf("panic %v, want a train: sgd: message", r)
		}
	}()
	opt.Step(ps[:1], 0.1)
}

func TestSchedules(t *testing.T) {
	tests := []struct {
		name string
		s    Schedule
		want []float64 // epochs 0, 1, 2, ...
	}{
		{"constant", Constant{0.1}, []float64{0.1, 0.1, 0.1}},
		{"step", Step{Base: 1, Every: 2, Gamma: 0.5}, []float64{1, 1, 0.5, 0.5, 0.25}},
		{"exp", Exponential{Base: 2, Gamma: 0.5}, []float64{2, 1, 0.5, 0.25}},
		{"cosine", Cosine{Base: 1, Epochs: 4}, []float64{1, (1 + math.Sqrt2/2) / 2, 0.5, (1 - math.Sqrt2/2) / 2}},
	}
	for _, tt := range tests {
		for e, want := range tt.want {
			if got := tt.s.LR(e); math.Abs(got-want) > 1e-12 {
				t.Errorf("%s: epoch %d lr %v, want %v", tt.name, e, got, want)
			}
		}
	}
	c := DefaultConfig()
	c.Schedule, c.Gamma, c.StepEvery = "step", 0.1, 3
	if got := c.NewSchedule().LR(3); math.Abs(got-0.01) > 1e-15 {
		t.Errorf("config step schedule at epoch 3: %v", got)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	tests := []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Epochs = 0 }, "epochs 0"},
		{func(c *Config) { c.Batch = -1 }, "batch -1"},
		{func(c *Config) { c.LR = math.NaN() }, "learning rate NaN"},
		{func(c *Config) { c.LR = 0 }, "learning rate 0"},
		{func(c *Config) { c.Optimizer = "rmsprop" }, `unknown optimizer "rmsprop"`},
		{func(c *Config) { c.Momentum = 1 }, "momentum 1"},
		{func(c *Config) { c.Momentum, c.Nesterov = 0, true }, "nesterov needs"},
		{func(c *Config) { c.Optimizer, c.Nesterov = "adam", true }, "nesterov applies to sgd"},
		{func(c *Config) { c.WeightDecay = -1 }, "weight decay -1"},
		{func(c *Config) { c.Schedule = "linear" }, `unknown schedule "linear"`},
		{func(c *Config) { c.Schedule, c.StepEvery = "step", 0 }, "step_every >= 1"},
		{func(c *Config) { c.Schedule, c.Gamma = "exp", 1.5 }, "exp schedule needs 0 < gamma <= 1"},
		{func(c *Config) { c.Patience = -2 }, "patience -2"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.edit(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "train: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want one containing %q", err, tt.want)
		}
	}
}

// TestSGDMomentumBits checks the vectorised, multi-threaded momentum step
// bit for bit against the float32 loop it replaces, for 1 and 2 tensor
// threads, on sizes with tails and one past the parallel split.
func TestSGDMomentumBits(t *testing.T) {
	sizes := []int{1, 17, 129, 300001}
	for _, threads := range []int{1, 2} {
		prev := tensor.SetThreads(threads)
		rng := rand.New(rand.NewPCG(21, 21))
		ps := newParams(rng, sizes)
		w := make([][]float32, len(ps))
		v := make([][]float32, len(ps))
		for i, p := range ps {
			w[i] = append([]float32(nil), p.W.Data...)
			v[i] = make([]float32, len(p.W.Data))
		}
		opt := &SGD{Momentum: 0.9, WeightDecay: 1e-3}
		for step := 0; step < 3; step++ {
			a := float32(0.05)
			for i, p := range ps {
				for j := range p.G.Data {
					p.G.Data[j] = float32(rng.NormFloat64())
				}
				wd := float32(0)
				if p.Decay {
					wd = 1e-3
				}
				for j := range w[i] {
					v[i][j] = float32(float32(0.9*v[i][j])+p.G.Data[j]) + float32(wd*w[i][j])
					w[i][j] -= float32(a * v[i][j])
				}
			}
			opt.Step(ps, 0.05)
		}
		tensor.SetThreads(prev)
		for i, p := range ps {
			for j, x := range p.W.Data {
				if math.Float32bits(x) != math.Float32bits(w[i][j]) {
					t.Fatalf("threads %d: param %d [%d] = %v, float32 loop %v", threads, i, j, x, w[i][j])
				}
			}
		}
	}
}
