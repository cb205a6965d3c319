package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/resq-dev/resq/tensor"
)

// Gradient checks: every layer's Backward against central finite
// differences of L = Σ r·y for a fixed random r (so dL/dy = r).
//
// Tolerance: the forward runs in float32, so L (a sum of ≲10³ terms of
// order 1) carries a rounding error of about 1e-5; with step h = 1e-2 that
// contributes ~1e-3/2 to the difference quotient, and the truncation error
// of the central difference is O(h²·L''') ≈ 1e-4 for these smooth layers.
// We accept |analytic - numeric| <= 1e-2·max(1, |analytic|, |numeric|)
// which catches every indexing or transpose mistake (those give O(1)
// errors) with a wide margin over the noise. Kinks (ReLU at 0, MaxPool
// ties) are kept farther than h from every input by construction.

const (
	gcStep = 1e-2
	gcTol  = 2e-3
)

func randTensor(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64())
	}
	return t
}

// awayFromZero pushes every element to |v| >= 0.1 (ReLU kink safety).
func awayFromZero(t *tensor.Tensor) {
	for i, v := range t.Data {
		if v >= 0 && v < 0.1 {
			t.Data[i] = v + 0.1
		} else if v < 0 && v > -0.1 {
			t.Data[i] = v - 0.1
		}
	}
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func near(a, n float64) bool {
	return math.Abs(a-n) <= gcTol*math.Max(1, math.Max(math.Abs(a), math.Abs(n)))
}

// gradCheck compares l's analytic input and param gradients with central
// differences; params are perturbed through Value() (so Q when set).
func gradCheck(t *testing.T, name string, l Layer, x *tensor.Tensor, train bool, rng *rand.Rand) {
	t.Helper()
	y := l.Forward(x, train)
	r := randTensor(rng, y.Shape...)
	loss := func() float64 { return dot64(r.Data, l.Forward(x, train).Data) }
	l.Forward(x, train)
	dxT := l.Backward(r)
	var dx []float32
	if dxT != nil {
		if !slices.Equal(dxT.Shape, x.Shape) {
			t.Fatalf("%s: dx shape %v, input %v", name, dxT.Shape, x.Shape)
		}
		dx = append([]float32(nil), dxT.Data...)
	}
	grads := make([][]float32, len(l.Params()))
	for i, p := range l.Params() {
		grads[i] = append([]float32(nil), p.G.Data...)
	}
	check := func(what string, v []float32, g []float32) {
		bad := 0
		for i := range v {
			old := v[i]
			v[i] = old + gcStep
			lp := loss()
			v[i] = old - gcStep
			lm := loss()
			v[i] = old
			num := (lp - lm) / (2 * gcStep)
			if !near(float64(g[i]), num) {
				if bad < 5 {
					t.Errorf("%s: d/d%s[%d]: analytic %.6g, numeric %.6g", name, what, i, g[i], num)
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d %s gradients off", name, bad, len(v), what)
		}
	}
	if dx != nil {
		check("x", x.Data, dx)
	}
	for i, p := range l.Params() {
		check(p.Name, p.Value().Data, grads[i])
	}
}

func initParams(rng *rand.Rand, l Layer) {
	for _, p := range l.Params() {
		for i := range p.W.Data {
			p.W.Data[i] = float32(rng.NormFloat64() * 0.5)
		}
	}
}

func TestGradDense(t *testing.T) {
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 2}, {17, 3, 7}, {4, 33, 9}} {
		n, in, out := sz[0], sz[1], sz[2]
		rng := rand.New(rand.NewPCG(uint64(n), uint64(in)))
		d := NewDense(in, out)
		initParams(rng, d)
		gradCheck(t, fmt.Sprintf("dense %v", sz), d, randTensor(rng, n, in), true, rng)
	}
}

// TestGradDenseQuantized sets Q and checks that Forward uses it and that the
// weight gradient is taken with respect to it.
func TestGradDenseQuantized(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	d := NewDense(5, 3)
	initParams(rng, d)
	q := tensor.New(3, 5)
	for i, w := range d.W.W.Data { // a crude ternary quantization of W
		switch {
		case w > 0.3:
			q.Data[i] = 0.5
		case w < -0.3:
			q.Data[i] = -0.5
		}
	}
	d.W.Q = q
	x := randTensor(rng, 4, 5)
	y := d.Forward(x, false)
	for i := 0; i < 4; i++ {
		for j := 0; j < 3; j++ {
			want := float64(d.B.W.Data[j]) + dot64(x.Data[i*5:i*5+5], q.Data[j*5:j*5+5])
			if math.Abs(float64(y.Data[i*3+j])-want) > 1e-5 {
				t.Fatalf("y[%d,%d] = %v, want x*Qᵀ+b = %v", i, j, y.Data[i*3+j], want)
			}
		}
	}
	gradCheck(t, "dense with Q", d, x, true, rng)
	// The float weights must not have been touched.
	if d.W.Value() != q {
		t.Fatal("Value() is not Q")
	}
}

func TestGradConv(t *testing.T) {
	cases := []struct{ n, c, h, w, k, r, stride, pad int }{
		{1, 1, 1, 1, 1, 1, 1, 0},
		{2, 3, 5, 4, 2, 3, 1, 1},
		{3, 2, 7, 7, 3, 5, 2, 2},
		{1, 1, 6, 5, 4, 2, 1, 0},
		{2, 2, 4, 4, 3, 1, 1, 0}, // pointwise
	}
	for _, c := range cases {
		rng := rand.New(rand.NewPCG(uint64(c.n*31+c.c), uint64(c.h)))
		l := NewConv2D(c.c, c.k, c.r, c.r, c.stride, c.pad)
		initParams(rng, l)
		gradCheck(t, fmt.Sprintf("conv %+v", c), l, randTensor(rng, c.n, c.c, c.h, c.w), true, rng)
	}
}

func TestGradMaxPool(t *testing.T) {
	for _, c := range []struct{ n, ch, h, w, k, s int }{{1, 1, 2, 2, 2, 2}, {2, 3, 5, 5, 2, 2}, {1, 2, 7, 6, 3, 2}, {2, 1, 4, 5, 2, 1}} {
		rng := rand.New(rand.NewPCG(uint64(c.h), uint64(c.w)))
		x := tensor.New(c.n, c.ch, c.h, c.w)
		// Distinct values 0.1 apart (> 2h): no ties within a window.
		perm := rng.Perm(len(x.Data))
		for i, p := range perm {
			x.Data[i] = 0.1 * float32(p)
		}
		gradCheck(t, fmt.Sprintf("maxpool %+v", c), NewMaxPool(c.k, c.s), x, true, rng)
	}
}

func TestGradActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, l := range []Layer{&ReLU{}, &Sigmoid{}, &Tanh{}} {
		x := randTensor(rng, 3, 17)
		awayFromZero(x)
		gradCheck(t, l.Kind(), l, x, true, rng)
	}
}

func TestGradFlatten(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	gradCheck(t, "flatten", &Flatten{}, randTensor(rng, 2, 3, 2, 5), true, rng)
}

func TestGradBatchNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, shape := range [][]int{{4, 3, 2, 3}, {5, 7}, {2, 1, 3, 1}} {
		for _, train := range []bool{true, false} {
			b := NewBatchNorm(shape[1])
			initParams(rng, b)
			for i := range b.RunVar.Data {
				b.RunMean.Data[i] = float32(rng.NormFloat64())
				b.RunVar.Data[i] = float32(0.5 + rng.Float64())
			}
			gradCheck(t, fmt.Sprintf("batchnorm %v train=%v", shape, train), b, randTensor(rng, shape...), train, rng)
		}
	}
}

func TestGradSoftmaxCE(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	var s SoftmaxCE
	z := randTensor(rng, 5, 7)
	labels := []int32{0, 6, 3, 3, 1}
	s.Forward(z, labels)
	g := append([]float32(nil), s.Backward().Data...)
	for i := range z.Data {
		old := z.Data[i]
		z.Data[i] = old + gcStep
		lp := s.Forward(z, labels)
		z.Data[i] = old - gcStep
		lm := s.Forward(z, labels)
		z.Data[i] = old
		if num := (lp - lm) / (2 * gcStep); math.Abs(num-float64(g[i])) > 1e-4 {
			t.Errorf("dlogits[%d]: analytic %v, numeric %v", i, g[i], num)
		}
	}
}

// TestMaxPool2x2 compares the unrolled 2×2 stride-2 path with the
// definition over odd sizes (trailing row/column dropped).
func TestMaxPool2x2(t *testing.T) {
	for _, sz := range [][4]int{{1, 1, 2, 2}, {2, 3, 5, 7}, {3, 2, 17, 16}, {1, 1, 3, 3}} {
		rng := rand.New(rand.NewPCG(uint64(sz[2]), uint64(sz[3])))
		x := randTensor(rng, sz[:]...)
		y := NewMaxPool(2, 2).Forward(x, true)
		n, c, h, w := sz[0], sz[1], sz[2], sz[3]
		oh, ow := h/2, w/2
		for pl := 0; pl < n*c; pl++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					m := float32(math.Inf(-1))
					for r := 0; r < 2; r++ {
						for s := 0; s < 2; s++ {
							m = max(m, x.Data[pl*h*w+(2*i+r)*w+2*j+s])
						}
					}
					if got := y.Data[(pl*oh+i)*ow+j]; got != m {
						t.Fatalf("%v: y[%d,%d,%d] = %v, want %v", sz, pl, i, j, got, m)
					}
				}
			}
		}
	}
}
