package train

import (
	"fmt"
	"math"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// Optimizer updates the float weights W of params from their gradients G.
// It keeps per-param state (velocities, moments) indexed by position in
// params, allocated on the first Step: every later Step must pass the same
// params in the same order. Step allocates nothing after the first call.
type Optimizer interface {
	Step(params []*nn.Param, lr float64)
}

// SGD is stochastic gradient descent with optional momentum, Nesterov
// momentum and L2 weight decay, in the PyTorch formulation:
//
//	g = G + WeightDecay*W   (WeightDecay only for params with Decay)
//	v = Momentum*v + g
//	W -= lr * (g + Momentum*v)   Nesterov
//	W -= lr * v                  otherwise
//
// With Momentum 0 it is plain SGD and keeps no state.
type SGD struct {
	Momentum    float64
	Nesterov    bool
	WeightDecay float64

	vel [][]float32 // one velocity per param, allocated on the first Step
}

// Step applies one update with learning rate lr.
func (o *SGD) Step(params []*nn.Param, lr float64) {
	if o.Momentum != 0 {
		o.vel = ensureState(o.vel, params, "sgd")
	}
	mu := float32(o.Momentum)
	for i, p := range params {
		w, g := p.W.Data, p.G.Data
		if len(g) != len(w) {
			panic(fmt.Sprintf("train: sgd: param %q: gradient %v does not match weights %v", p.Name, p.G.Shape, p.W.Shape))
		}
		g = g[:len(w)]
		wd := float32(0)
		if p.Decay {
			wd = float32(o.WeightDecay)
		}
		a := float32(lr)
		switch {
		case o.Momentum == 0:
			for j := range w {
				w[j] -= a * (g[j] + wd*w[j])
			}
		case o.Nesterov:
			v := o.vel[i][:len(w)]
			for j := range w {
				gj := g[j] + wd*w[j]
				v[j] = mu*v[j] + gj
				w[j] -= a * (gj + mu*v[j])
			}
		default:
			// v = mu*v + g + wd*w; w -= a*v, vectorised and split over
			// tensor.Threads() (element-wise, so bit-identical for any
			// thread count).
			tensor.SGDMomentum(w, o.vel[i][:len(w)], g, a, mu, wd)
		}
	}
}

// Adam is the Adam optimiser (Kingma and Ba, 2015) with bias correction.
// WeightDecay is added to the gradient (L2, as PyTorch's Adam), only for
// params with Decay. Zero Beta1, Beta2 or Eps take the defaults 0.9, 0.999
// and 1e-8.
type Adam struct {
	Beta1, Beta2, Eps float64
	WeightDecay       float64

	m, v [][]float32
	t    int // steps taken
}

// Step applies one update with learning rate lr.
func (o *Adam) Step(params []*nn.Param, lr float64) {
	b1, b2, eps := o.Beta1, o.Beta2, o.Eps
	if b1 == 0 {
		b1 = 0.9
	}
	if b2 == 0 {
		b2 = 0.999
	}
	if eps == 0 {
		eps = 1e-8
	}
	o.m = ensureState(o.m, params, "adam")
	o.v = ensureState(o.v, params, "adam")
	o.t++
	// Fold the bias corrections into the step size and epsilon.
	c1 := 1 - math.Pow(b1, float64(o.t))
	c2 := 1 - math.Pow(b2, float64(o.t))
	a := float32(lr * math.Sqrt(c2) / c1)
	e := float32(eps * math.Sqrt(c2))
	fb1, fb2 := float32(b1), float32(b2)
	for i, p := range params {
		w, g := p.W.Data, p.G.Data
		if len(g) != len(w) {
			panic(fmt.Sprintf("train: adam: param %q: gradient %v does not match weights %v", p.Name, p.G.Shape, p.W.Shape))
		}
		wd := float32(0)
		if p.Decay {
			wd = float32(o.WeightDecay)
		}
		g = g[:len(w)]
		m, v := o.m[i][:len(w)], o.v[i][:len(w)]
		for j := range w {
			gj := g[j] + wd*w[j]
			m[j] = fb1*m[j] + (1-fb1)*gj
			v[j] = fb2*v[j] + (1-fb2)*gj*gj
			w[j] -= a * m[j] / (float32(math.Sqrt(float64(v[j]))) + e)
		}
	}
}

// ensureState allocates one zeroed slice per param on the first call and
// checks on later calls that params still match it.
func ensureState(s [][]float32, params []*nn.Param, who string) [][]float32 {
	if s == nil {
		s = make([][]float32, len(params))
		for i, p := range params {
			s[i] = make([]float32, len(p.W.Data))
		}
		return s
	}
	if len(s) != len(params) {
		panic(fmt.Sprintf("train: %s: Step with %d params, state was made for %d", who, len(params), len(s)))
	}
	for i, p := range params {
		if len(s[i]) != len(p.W.Data) {
			panic(fmt.Sprintf("train: %s: param %d (%q) has %d weights, state was made for %d", who, i, p.Name, len(p.W.Data), len(s[i])))
		}
	}
	return s
}

// Schedule gives the learning rate of each epoch (0-based).
type Schedule interface {
	LR(epoch int) float64
}

// Constant keeps the learning rate fixed.
type Constant struct{ Base float64 }

// LR returns Base.
func (s Constant) LR(int) float64 { return s.Base }

// Step multiplies the learning rate by Gamma every Every epochs:
// Base * Gamma^floor(epoch/Every).
type Step struct {
	Base  float64
	Every int
	Gamma float64
}

// LR returns the rate of epoch.
func (s Step) LR(epoch int) float64 {
	return s.Base * math.Pow(s.Gamma, float64(epoch/max(s.Every, 1)))
}

// Exponential multiplies the learning rate by Gamma every epoch.
type Exponential struct {
	Base, Gamma float64
}

// LR returns Base * Gamma^epoch.
func (s Exponential) LR(epoch int) float64 { return s.Base * math.Pow(s.Gamma, float64(epoch)) }

// Cosine anneals the learning rate from Base at epoch 0 towards 0 at epoch
// Epochs (half a cosine period): Base * (1 + cos(pi*epoch/Epochs)) / 2. The
// last epoch (Epochs-1) still trains with a small positive rate.
type Cosine struct {
	Base   float64
	Epochs int
}

// LR returns the rate of epoch.
func (s Cosine) LR(epoch int) float64 {
	return s.Base * (1 + math.Cos(math.Pi*float64(epoch)/float64(max(s.Epochs, 1)))) / 2
}
