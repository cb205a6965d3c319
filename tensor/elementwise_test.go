package tensor

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestBiasAndSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 4, 1}, {2, 1, 129}} {
		n, k, hw := sz[0], sz[1], sz[2]
		// Rows: y [n, k].
		y := randSlice(rng, n*k)
		bias := randSlice(rng, k)
		want := append([]float32(nil), y...)
		for i := 0; i < n; i++ {
			for j := 0; j < k; j++ {
				want[i*k+j] += bias[j]
			}
		}
		AddBiasRows(y, bias, n, k)
		checkClose(t, "AddBiasRows", y, want, 1)
		sum := randSlice(rng, k) // overwritten
		SumRows(sum, y, n, k)
		for j := 0; j < k; j++ {
			var s float64
			for i := 0; i < n; i++ {
				s += float64(y[i*k+j])
			}
			if math.Abs(s-float64(sum[j])) > 1e-4*float64(n) {
				t.Fatalf("SumRows[%d] = %g, want %g", j, sum[j], s)
			}
		}
		// Channels: y [n, k, hw].
		yc := randSlice(rng, n*k*hw)
		wantc := append([]float32(nil), yc...)
		for i := range wantc {
			wantc[i] += bias[(i/hw)%k]
		}
		AddBiasChannels(yc, bias, n, k, hw)
		checkClose(t, "AddBiasChannels", yc, wantc, 1)
		SumChannels(sum, yc, n, k, hw)
		for c := 0; c < k; c++ {
			var s float64
			for i := range yc {
				if (i/hw)%k == c {
					s += float64(yc[i])
				}
			}
			if math.Abs(s-float64(sum[c])) > 1e-4*float64(n*hw) {
				t.Fatalf("SumChannels[%d] = %g, want %g", c, sum[c], s)
			}
		}
	}
}

func TestActivations(t *testing.T) {
	x := []float32{-3, -0.5, 0, 0.25, 2, 40, -40}
	dy := []float32{1, 2, 3, 4, 5, 6, 7}
	y := make([]float32, len(x))
	dx := make([]float32, len(x))

	ReLU(y, x)
	ReLUBackward(dx, dy, y)
	for i, v := range x {
		wy, wd := float32(0), float32(0)
		if v > 0 {
			wy, wd = v, dy[i]
		}
		if y[i] != wy || dx[i] != wd {
			t.Fatalf("ReLU(%g) = %g, grad %g; want %g, %g", v, y[i], dx[i], wy, wd)
		}
	}
	Sigmoid(y, x)
	SigmoidBackward(dx, dy, y)
	for i, v := range x {
		s := 1 / (1 + math.Exp(-float64(v)))
		if math.Abs(float64(y[i])-s) > 1e-6 || math.Abs(float64(dx[i])-float64(dy[i])*s*(1-s)) > 1e-6 {
			t.Fatalf("Sigmoid(%g) = %g, grad %g", v, y[i], dx[i])
		}
	}
	Tanh(y, x)
	TanhBackward(dx, dy, y)
	for i, v := range x {
		th := math.Tanh(float64(v))
		if math.Abs(float64(y[i])-th) > 1e-6 || math.Abs(float64(dx[i])-float64(dy[i])*(1-th*th)) > 1e-5 {
			t.Fatalf("Tanh(%g) = %g, grad %g", v, y[i], dx[i])
		}
	}
	// In place.
	z := append([]float32(nil), x...)
	ReLU(z, z)
	if z[0] != 0 || z[4] != 2 {
		t.Fatalf("in-place ReLU: %v", z)
	}
}

func TestVectorOps(t *testing.T) {
	y := []float32{1, 2, 3}
	Axpy(y, 2, []float32{1, 1, 1})
	Scale(y, 0.5)
	if y[0] != 1.5 || y[1] != 2 || y[2] != 2.5 {
		t.Fatalf("Axpy+Scale: %v", y)
	}
	if d := Dot(y, []float32{2, 0, 1}); d != 5.5 {
		t.Fatalf("Dot = %g", d)
	}
	if m := MaxAbs([]float32{1, -7, 3}); m != 7 {
		t.Fatalf("MaxAbs = %g", m)
	}
	Fill(y, 4)
	c := make([]float32, 3)
	Copy(c, y)
	if c[2] != 4 {
		t.Fatalf("Fill/Copy: %v", c)
	}
}

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		x    []float32
		want int
	}{
		{nil, -1}, {[]float32{3}, 0}, {[]float32{1, 5, 5, 2}, 1}, {[]float32{-2, -1, -3}, 1},
		{[]float32{nan, 1, 2}, 2}, {[]float32{1, nan, 0}, 0}, {[]float32{nan, nan}, 0},
	} {
		if got := Argmax(c.x); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.x, got, c.want)
		}
	}
}

func TestShortSlicePanics(t *testing.T) {
	defer func() {
		r := recover()
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, "tensor: ") {
			t.Fatalf("panic = %v, want a tensor: message", r)
		}
	}()
	AddBiasRows(make([]float32, 5), make([]float32, 3), 2, 3)
}
