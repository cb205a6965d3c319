package tensor

import (
	"fmt"
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

// ewSpecial returns n random values in [-1, 1) with zeros of both signs,
// NaNs and infinities sprinkled in, so the fast kernels are checked on the
// IEEE corner cases too.
func ewSpecial(rng *rand.Rand, n int) []float32 {
	s := randSlice(rng, n)
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40}
	for i := range s {
		if rng.IntN(8) == 0 {
			s[i] = special[rng.IntN(len(special))]
		}
	}
	return s
}

// sameBits fails unless got and want are bit-identical.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %g (%#x), want %g (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestElementwiseFastPaths checks the assembly and parallel element-wise
// kernels bit for bit against the reference loops, over odd lengths
// (tails), lengths past the parallel threshold, 1 and 2 threads, with and
// without assembly, in place and out of place.
func TestElementwiseFastPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	sizes := []int{0, 1, 3, 7, 8, 17, 31, 33, 129, 1000, ewParallelMin + 13, 3*ewParallelMin + 5}
	prevT := SetThreads(2)
	defer SetThreads(prevT)
	prevA := useAVX2
	defer func() { useAVX2 = prevA }()
	for _, asm := range []bool{false, prevA} {
		useAVX2 = asm
		for _, threads := range []int{1, 2} {
			SetThreads(threads)
			for _, n := range sizes {
				name := func(op string) string { return fmt.Sprintf("%s n=%d threads=%d asm=%v", op, n, threads, asm) }
				x, y, g := ewSpecial(rng, n), ewSpecial(rng, n), ewSpecial(rng, n)

				want := make([]float32, n)
				reluRef(want, x)
				got := make([]float32, n+1) // longer destination is allowed
				ReLU(got, x)
				sameBits(t, name("ReLU"), got[:n], want)
				inPlace := append([]float32(nil), x...)
				ReLU(inPlace, inPlace)
				sameBits(t, name("ReLU in place"), inPlace, want)

				reluBackwardRef(want, g, y)
				ReLUBackward(got, g, y)
				sameBits(t, name("ReLUBackward"), got[:n], want)
				inPlace = append(inPlace[:0], g...)
				ReLUBackward(inPlace, inPlace, y)
				sameBits(t, name("ReLUBackward in place"), inPlace, want)

				mulRef(want, x, y)
				Mul(got, x, y)
				sameBits(t, name("Mul"), got[:n], want)

				// SGD on finite values (the special ones too would only
				// test NaN propagation, covered above).
				w, v, gr := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
				ww, wv := append([]float32(nil), w...), append([]float32(nil), v...)
				for j := range ww { // the plain loop, written out once more
					wv[j] = float32(float32(0.9*wv[j])+gr[j]) + float32(1e-4*ww[j])
					ww[j] -= float32(0.05 * wv[j])
				}
				SGDMomentum(w, v, gr, 0.05, 0.9, 1e-4)
				sameBits(t, name("SGDMomentum w"), w, ww)
				sameBits(t, name("SGDMomentum v"), v, wv)
			}
		}
	}
}

func TestSGDMomentumLengths(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.HasPrefix(fmt.Sprint(r), "tensor: SGDMomentum") {
			t.Fatalf("panic %v, want a tensor: SGDMomentum length panic", r)
		}
	}()
	SGDMomentum(make([]float32, 3), make([]float32, 3), make([]float32, 2), 1, 0.9, 0)
}

func TestElementwiseNoAllocs(t *testing.T) {
	prev := SetThreads(2)
	defer SetThreads(prev)
	n := 2 * ewParallelMin
	w, v, g := make([]float32, n), make([]float32, n), make([]float32, n)
	SGDMomentum(w, v, g, 0.1, 0.9, 0)
	if a := testing.AllocsPerRun(10, func() {
		SGDMomentum(w, v, g, 0.1, 0.9, 0)
		ReLU(w, v)
		ReLUBackward(w, v, g)
		Mul(w, v, g)
	}); a != 0 {
		t.Fatalf("element-wise kernels allocate %v times per call", a)
	}
}

// BenchmarkElementwise times the element-wise kernels at the MLP
// activation size (100x1024) and the largest MLP weight (1024x1024).
func BenchmarkElementwise(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{100 * 1024, 1024 * 1024} {
		x, y, z := randSlice(rng, n), randSlice(rng, n), make([]float32, n)
		v := make([]float32, n)
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"relu", func() { ReLU(z, x) }},
			{"relu-ref", func() { reluRef(z, x) }},
			{"relu-backward", func() { ReLUBackward(z, y, x) }},
			{"relu-backward-ref", func() { reluBackwardRef(z, y, x) }},
			{"mul", func() { Mul(z, x, y) }},
			{"mul-ref", func() { mulRef(z, x, y) }},
			{"sgd-momentum", func() { SGDMomentum(z, v, x, 1e-9, 0.9, 0) }},
			{"sgd-momentum-ref", func() { sgdMomentumRef(z, v, x, 1e-9, 0.9, 0) }},
		} {
			b.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(b *testing.B) {
				for range b.N {
					c.f()
				}
				b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
		}
	}
}

// TestMaxPool2x2 checks MaxPool2x2 (assembly rows with overlapping last
// blocks, Go rows) against the window loop bit for bit, on odd sizes, with
// many ties (values from a small set, both zeros) and NaNs.
func TestMaxPool2x2(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	prev := useAVX2
	defer func() { useAVX2 = prev }()
	vals := []float32{-1, 0, float32(math.Copysign(0, -1)), 0.5, 2, float32(math.NaN()), float32(math.Inf(-1))}
	for _, asm := range []bool{false, prev} {
		useAVX2 = asm
		for _, sz := range [][3]int{{1, 2, 2}, {3, 3, 5}, {2, 28, 28}, {5, 14, 14}, {1, 4, 17}, {2, 7, 33}, {1, 2, 64}, {3, 5, 40}, {1, 2, 8}, {2, 3, 11}, {1, 6, 12}} {
			planes, h, w := sz[0], sz[1], sz[2]
			x := make([]float32, planes*h*w)
			for i := range x {
				if rng.IntN(2) == 0 {
					x[i] = vals[rng.IntN(len(vals))]
				} else {
					x[i] = rng.Float32()
				}
			}
			n := planes * (h / 2) * (w / 2)
			y, arg := randSlice(rng, n), make([]int32, n)
			yr, argr := make([]float32, n), make([]int32, n)
			MaxPool2x2(y, arg, x, planes, h, w)
			maxPool2x2Ref(yr, argr, x, planes, h, w)
			name := fmt.Sprintf("MaxPool2x2 %v asm=%v", sz, asm)
			sameBits(t, name, y, yr)
			for i := range arg {
				if arg[i] != argr[i] {
					t.Fatalf("%s: arg[%d] = %d, want %d", name, i, arg[i], argr[i])
				}
			}
		}
	}
}

// BenchmarkMaxPool2x2 times MaxPool2x2 against the reference window loop
// on the MNIST CNN pooling sizes (batch 100).
func BenchmarkMaxPool2x2(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, sz := range [][3]int{{100 * 32, 28, 28}, {100 * 64, 14, 14}} {
		planes, h, w := sz[0], sz[1], sz[2]
		x := randSlice(rng, planes*h*w)
		ReLU(x, x) // pooled inputs follow a ReLU: many ties at 0
		n := planes * (h / 2) * (w / 2)
		y, arg := make([]float32, n), make([]int32, n)
		for _, k := range []struct {
			name string
			f    func()
		}{
			{"fast", func() { MaxPool2x2(y, arg, x, planes, h, w) }},
			{"ref", func() { maxPool2x2Ref(y, arg, x, planes, h, w) }},
		} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", k.name, planes, h, w), func(b *testing.B) {
				for range b.N {
					k.f()
				}
				b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds()/1e6, "Mwindows/s")
			})
		}
	}
}

// TestDropout checks Dropout (assembly and Go) bit for bit against the
// per-element definition, over odd lengths and edge thresholds, in place
// and out of place.
func TestDropout(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 17))
	prev := useAVX2
	defer func() { useAVX2 = prev }()
	for _, asm := range []bool{false, prev} {
		useAVX2 = asm
		for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 17, 129, 1000} {
			for _, th := range []uint32{0, 1, 13107, 32768, 65535, 65536} {
				x := ewSpecial(rng, n)
				bits := make([]uint64, (n+3)/4)
				for i := range bits {
					bits[i] = rng.Uint64()
				}
				scale := float32(1 / (1 - float64(th)/65536))
				if th == 65536 {
					scale = 3
				}
				wantY, wantM := make([]float32, n), make([]float32, n)
				for i := range x {
					u := uint32(bits[i/4]>>(16*(i%4))) & 0xffff
					if u >= th {
						wantM[i] = scale
					}
					wantY[i] = x[i] * wantM[i]
				}
				y, m := randSlice(rng, n), randSlice(rng, n)
				Dropout(y, m, x, bits, th, scale)
				name := fmt.Sprintf("Dropout n=%d thresh=%d asm=%v", n, th, asm)
				sameBits(t, name+" y", y, wantY)
				sameBits(t, name+" m", m, wantM)
				Dropout(x, m, x, bits, th, scale)
				sameBits(t, name+" in place", x, wantY)
			}
		}
	}
}
