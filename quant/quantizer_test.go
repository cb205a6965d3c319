package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// dists are the weight distributions the tests draw from.
var dists = []struct {
	name string
	gen  func(r *rand.Rand, n int) []float32
}{
	{"uniform", func(r *rand.Rand, n int) []float32 {
		return fill(n, func() float64 { return 2*r.Float64() - 1 })
	}},
	{"gaussian", func(r *rand.Rand, n int) []float32 {
		return fill(n, func() float64 { return 0.05 * r.NormFloat64() })
	}},
	{"laplace", func(r *rand.Rand, n int) []float32 {
		return fill(n, func() float64 { return 0.1 * r.ExpFloat64() * sign(r) })
	}},
	{"heavy", func(r *rand.Rand, n int) []float32 { // Student t with 2 degrees of freedom
		return fill(n, func() float64 {
			z, n1, n2 := r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
			return z / math.Sqrt((n1*n1+n2*n2)/2+1e-12)
		})
	}},
	{"outliers", func(r *rand.Rand, n int) []float32 {
		w := fill(n, func() float64 { return r.NormFloat64() })
		for i := 0; i < 1+n/100; i++ {
			w[r.IntN(n)] = float32(50 * r.NormFloat64())
		}
		return w
	}},
	{"sparse", func(r *rand.Rand, n int) []float32 {
		return fill(n, func() float64 {
			if r.IntN(3) > 0 {
				return 0
			}
			return r.NormFloat64()
		})
	}},
	{"few-values", func(r *rand.Rand, n int) []float32 {
		vals := []float64{-0.3, 0.1, 0.1, 0.25, 0.7}
		return fill(n, func() float64 { return vals[r.IntN(len(vals))] })
	}},
	{"all-zero", func(r *rand.Rand, n int) []float32 { return make([]float32, n) }},
}

func fill(n int, f func() float64) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(f())
	}
	return w
}

func sign(r *rand.Rand) float64 {
	if r.IntN(2) == 0 {
		return -1
	}
	return 1
}

// errRef is the L2 error of step d computed directly in float64 (the
// oracle's arithmetic, independent of the solver's prefix sums).
func errRef(w []float32, d float64, qmax int) float64 {
	var e float64
	for _, v := range w {
		x := float64(v)
		k := math.Min(math.Floor(math.Abs(x)/d+0.5), float64(qmax))
		q := math.Copysign(k*d, x)
		e += (q - x) * (q - x)
	}
	return e
}

// bruteStep is the brute-force oracle: a fine grid over (0, 2*max|w|]
// (linear and logarithmic), then the fixed-point refinement
// z = clip(round(w/D)), D = sum(w z)/sum(z z) from the 40 best grid points.
func bruteStep(w []float32, qmax int) (float64, float64) {
	var amax float64
	for _, v := range w {
		amax = math.Max(amax, math.Abs(float64(v)))
	}
	if amax == 0 {
		return 0, 0
	}
	type cand struct{ d, e float64 }
	var cs []cand
	const g = 3000
	for i := 1; i <= g; i++ {
		d := 2 * amax * float64(i) / g
		cs = append(cs, cand{d, errRef(w, d, qmax)})
		dl := amax / float64(qmax) * math.Pow(2, -12+float64(i)*(13+math.Log2(float64(qmax)))/g)
		cs = append(cs, cand{dl, errRef(w, dl, qmax)})
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if a.e < b.e {
			return -1
		} else if a.e > b.e {
			return 1
		}
		return 0
	})
	best := cs[0]
	for _, c := range cs[:40] {
		d := c.d
		for range 100 {
			var swz, szz float64
			for _, v := range w {
				x := float64(v)
				z := math.Copysign(math.Min(math.Floor(math.Abs(x)/d+0.5), float64(qmax)), x)
				swz += x * z
				szz += z * z
			}
			if szz == 0 {
				break
			}
			nd := swz / szz
			if nd == d {
				break
			}
			d = nd
		}
		if e := errRef(w, d, qmax); e < best.e {
			best = cand{d, e}
		}
	}
	return best.d, best.e
}

// TestL2MatchesBruteForce checks both L2 paths (exact sweep and grid search)
// against the brute-force oracle on small tensors of every distribution.
func TestL2MatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	sizes := []int{1, 2, 3, 17, 129, 600}
	if testing.Short() {
		sizes = []int{1, 3, 17, 129}
	}
	for _, dist := range dists {
		for _, n := range sizes {
			for _, bits := range []int{2, 3, 4, 5, 8} {
				w := dist.gen(r, n)
				q := Quantizer{Bits: bits}
				qmax := q.QMax()
				_, eb := bruteStep(w, qmax)
				var saa float64
				for _, v := range w {
					saa += float64(v) * float64(v)
				}
				for _, path := range []string{"step", "exact", "search"} {
					var s solver
					s.prepare(w)
					var d float64
					switch {
					case len(s.a) == 0:
						d = 0
					case path == "step":
						d = float64(q.Step(w))
					case path == "exact":
						d, _ = s.exact(qmax)
					default:
						d, _ = s.search(qmax)
					}
					e := errRef(w, float64(float32(d)), qmax)
					if len(s.a) == 0 {
						e = saa
					}
					if math.IsNaN(e) || math.IsNaN(eb) || math.IsInf(e, 0) {
						t.Fatalf("%s n=%d bits=%d %s: non-finite error %g (brute force %g)", dist.name, n, bits, path, e, eb)
					}
					if e > eb*(1+1e-5)+1e-9*saa {
						t.Errorf("%s n=%d bits=%d %s: error %.9g at D=%g, brute force %.9g", dist.name, n, bits, path, e, d, eb)
					}
				}
			}
		}
	}
}

// TestSearchMatchesExact compares the grid search with the exact sweep on
// tensors too large for brute force: with the default refinement window it
// must find the global minimum; with a window forced narrow (the regime of
// layers with millions of weights at high bit widths) it may land in a
// neighbouring ripple of the error curve, within 0.5%.
func TestSearchMatchesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	n := 20000
	if testing.Short() {
		n = 4000
	}
	defer func(l int) { windowLimit = l }(windowLimit)
	check := func(w []float32, bits int, tol float64, what string) {
		var s solver
		s.prepare(w)
		qmax := (1<<bits - 2) / 2
		de, ee := s.exact(qmax)
		ds, es := s.search(qmax)
		if es > ee*(1+tol) {
			t.Errorf("%s bits=%d: search error %.12g at D=%g, exact %.12g at D=%g", what, bits, es, ds, ee, de)
		}
		if ee > es*(1+1e-9) {
			t.Errorf("%s bits=%d: exact error %.12g at D=%g worse than search %.12g at D=%g", what, bits, ee, de, es, ds)
		}
	}
	for _, dist := range dists[:6] {
		for _, bits := range []int{2, 3, 4, 6, 8} {
			check(dist.gen(r, n), bits, 1e-9, dist.name)
		}
	}
	// Narrow windows: 20000 weights with a third of a breakpoint per weight
	// in each window, about the ratio of a 784x1024 layer at 8 bits.
	windowLimit = 20000
	for _, dist := range dists[:3] {
		for _, bits := range []int{6, 8} {
			check(dist.gen(r, 20000), bits, 5e-3, dist.name+" narrow")
		}
	}
}

// TestQuantizerProperties checks the level structure of Apply and Codes for
// every rule and bit width.
func TestQuantizerProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, dist := range dists {
		for _, rule := range []Rule{L2, MaxAbs, TWN, Pow2} {
			for bits := MinBits; bits <= MaxBits; bits++ {
				q := Quantizer{Bits: bits, Rule: rule}
				if q.Validate() != nil {
					continue
				}
				w := dist.gen(r, 257)
				qmax := q.QMax()
				if want := (1<<bits - 1 - 1) / 2; qmax != want {
					t.Fatalf("bits %d: QMax %d, want %d", bits, qmax, want)
				}
				d := q.Step(w)
				if d < 0 || math.IsNaN(float64(d)) || math.IsInf(float64(d), 0) {
					t.Fatalf("%s %v bits=%d: bad step %g", dist.name, rule, bits, d)
				}
				if rule == Pow2 && d > 0 {
					if fr, _ := math.Frexp(float64(d)); fr != 0.5 {
						t.Errorf("%s pow2 bits=%d: step %g not a power of two", dist.name, bits, d)
					}
				}
				qw := make([]float32, len(w))
				q.Apply(qw, w, d)
				codes := make([]int8, len(w))
				Codes(codes, w, d, qmax)
				seen := map[int8]bool{}
				for i, v := range qw {
					c := codes[i]
					seen[c] = true
					if int(c) < -qmax || int(c) > qmax {
						t.Fatalf("%s %v bits=%d: code %d outside -%d..%d", dist.name, rule, bits, c, qmax, qmax)
					}
					if v != float32(c)*d {
						t.Fatalf("%s %v bits=%d: Q(w)=%g is not code %d * step %g", dist.name, rule, bits, v, c, d)
					}
					if d > 0 && math.Abs(float64(w[i])) <= (float64(qmax)+0.5)*float64(d) {
						// D/2 up to float32 rounding of |w|/D and of code*D.
						if diff := math.Abs(float64(w[i] - v)); diff > float64(d)/2*(1+1e-6)+math.Abs(float64(w[i]))*0x1p-21 {
							t.Fatalf("%s %v bits=%d: |w-Q(w)| = %g > D/2 = %g for w=%g", dist.name, rule, bits, diff, d/2, w[i])
						}
					}
				}
				qq := make([]float32, len(w))
				q.Apply(qq, qw, d)
				if !slices.Equal(qq, qw) {
					t.Fatalf("%s %v bits=%d: Q(Q(w)) != Q(w)", dist.name, rule, bits)
				}
			}
		}
	}
}

// TestCodesCoverRange checks that the codes reach exactly -qmax..qmax on a
// ramp wider than the range.
func TestCodesCoverRange(t *testing.T) {
	for bits := MinBits; bits <= MaxBits; bits++ {
		q := Quantizer{Bits: bits}
		qmax := q.QMax()
		w := make([]float32, 4*qmax+9)
		for i := range w {
			w[i] = float32(i-len(w)/2) * 0.75
		}
		codes := make([]int8, len(w))
		Codes(codes, w, 1, qmax)
		lo, hi := slices.Min(codes), slices.Max(codes)
		if int(lo) != -qmax || int(hi) != qmax {
			t.Errorf("bits %d: codes span %d..%d, want %d..%d", bits, lo, hi, -qmax, qmax)
		}
		if got := 1<<bits - 1; 2*qmax+1 != got {
			t.Errorf("bits %d: %d levels, want %d", bits, 2*qmax+1, got)
		}
	}
}

func TestTernaryLevels(t *testing.T) {
	q := Quantizer{Bits: 2}
	w := []float32{-2, -0.6, -0.5, -0.4, 0, 0.4, 0.5, 0.6, 2}
	got := make([]float32, len(w))
	q.Apply(got, w, 1)
	want := []float32{-1, -1, -1, 0, 0, 0, 1, 1, 1}
	if !slices.Equal(got, want) {
		t.Errorf("ternary Apply = %v, want %v", got, want)
	}
}

func TestStepSpecialCases(t *testing.T) {
	tests := []struct {
		name string
		q    Quantizer
		w    []float32
		want float32
	}{
		{"empty", Quantizer{Bits: 2}, nil, 0},
		{"all-zero", Quantizer{Bits: 3}, []float32{0, 0, 0}, 0},
		{"single", Quantizer{Bits: 2}, []float32{-0.5}, 0.5},
		{"single-3bit", Quantizer{Bits: 3}, []float32{0.9}, 0.9}, // 0.9/k is exact for k=1..3; the sweep keeps the largest
		{"maxabs", Quantizer{Bits: 3, Rule: MaxAbs}, []float32{0.3, -0.6}, 0.2},
		{"twn", Quantizer{Bits: 2, Rule: TWN}, []float32{1, -1, 0.1, 0}, 1}, // thr 0.7*0.525, mean of {1,1}
		{"nan-ignored", Quantizer{Bits: 2}, []float32{float32(math.NaN()), 0.5, float32(math.Inf(-1))}, 0.5},
		{"pow2", Quantizer{Bits: 2, Rule: Pow2}, []float32{0.3, -0.3}, 0.25},
	}
	for _, tc := range tests {
		if got := tc.q.Step(tc.w); math.Abs(float64(got-tc.want)) > 1e-6*float64(tc.want) {
			t.Errorf("%s: Step = %g, want %g", tc.name, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		q       Quantizer
		wantErr string
	}{
		{Quantizer{Bits: 2}, ""},
		{Quantizer{Bits: 8, Rule: Pow2}, ""},
		{Quantizer{Bits: 9}, "quant: bits 9 out of range 2..8"},
		{Quantizer{Bits: 1}, "quant: bits 1 out of range 2..8"},
		{Quantizer{Bits: 3, Rule: TWN}, "quant: rule twn is ternary only"},
		{Quantizer{Bits: 3, Rule: Rule(7)}, "quant: unknown rule 7"},
	}
	for _, tc := range tests {
		err := tc.q.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tc.q, err)
		case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)):
			t.Errorf("%+v: error %v, want prefix %q", tc.q, err, tc.wantErr)
		}
	}
	for _, name := range []string{"", "l2", "MaxAbs", "twn", "pow2"} {
		if _, err := ParseRule(name); err != nil {
			t.Errorf("ParseRule(%q): %v", name, err)
		}
	}
	if _, err := ParseRule("log"); err == nil {
		t.Error("ParseRule(log): no error")
	}
}

func TestStepRowsMatchesStep(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	rows, cols := 5, 33
	w := fill(rows*cols, func() float64 { return r.NormFloat64() * float64(1+r.IntN(4)) })
	q := Quantizer{Bits: 3, PerChannel: true}
	steps := make([]float32, rows)
	q.StepRows(steps, w)
	got := make([]float32, len(w))
	q.ApplyRows(got, w, steps)
	for i := range rows {
		row := w[i*cols : (i+1)*cols]
		if s := q.Step(row); s != steps[i] {
			t.Fatalf("row %d: StepRows %g, Step %g", i, steps[i], s)
		}
		want := make([]float32, cols)
		q.Apply(want, row, steps[i])
		if !slices.Equal(want, got[i*cols:(i+1)*cols]) {
			t.Fatalf("row %d: ApplyRows differs from Apply", i)
		}
	}
}

func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 3, 17, 129, 5000} {
		keys := make([]uint32, n)
		for i := range keys {
			keys[i] = r.Uint32() >> uint(r.IntN(20))
		}
		want := slices.Clone(keys)
		slices.Sort(want)
		radixSort(keys, make([]uint32, n))
		if !slices.Equal(keys, want) {
			t.Fatalf("n=%d: radixSort wrong", n)
		}
	}
}

func TestL2Error(t *testing.T) {
	w := []float32{0.4, -1.2, 3}
	// step 1, qmax 1: Q = {0, -1, 1}; errors 0.16 + 0.04 + 4
	if e := L2Error(w, 1, 1); math.Abs(e-4.2) > 1e-6 {
		t.Errorf("L2Error = %g, want 4.2", e)
	}
}

func ExampleQuantizer() {
	w := []float32{0.9, -0.35, 0.05, -1.1, 0.4, 0.6}
	q := Quantizer{Bits: 2} // ternary, L2-optimal step
	d := q.Step(w)
	qw := make([]float32, len(w))
	q.Apply(qw, w, d)
	codes := make([]int8, len(w))
	Codes(codes, w, d, q.QMax())
	fmt.Printf("step %.4f\ncodes %v\nQ(w) %.4f\n", d, codes, qw)
	// Output:
	// step 0.8667
	// codes [1 0 0 -1 0 1]
	// Q(w) [0.8667 0.0000 0.0000 -0.8667 0.0000 0.8667]
}

func benchWeights(n int) []float32 {
	r := rand.New(rand.NewPCG(9, 9))
	return fill(n, func() float64 { return 0.03 * r.NormFloat64() })
}

func BenchmarkStep(b *testing.B) {
	w := benchWeights(784 * 1024)
	for _, bits := range []int{2, 3, 4, 8} {
		b.Run(fmt.Sprintf("784x1024/bits=%d", bits), func(b *testing.B) {
			q := Quantizer{Bits: bits}
			var s solver
			for b.Loop() {
				s.step(q, w)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/step")
		})
	}
}

func BenchmarkApply(b *testing.B) {
	w := benchWeights(784 * 1024)
	dst := make([]float32, len(w))
	q := Quantizer{Bits: 2}
	b.Run("784x1024", func(b *testing.B) {
		for b.Loop() {
			q.Apply(dst, w, 0.03)
		}
		b.ReportMetric(float64(len(w))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gweights/s")
	})
}

// TestApplyKernelMatchesGo checks the vector kernel (when this CPU has one)
// against the portable loop, bit for bit, over odd sizes and special values.
func TestApplyKernelMatchesGo(t *testing.T) {
	defer func(w int) { vecWidth = w }(vecWidth)
	t.Logf("vector widths on this CPU: %v", vecWidths())
	r := rand.New(rand.NewPCG(6, 6))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		0.5, -0.5, 1.5, -2.5, 1e30, -1e30, 1e-40, -1e-40, 3.4e38}
	for _, n := range []int{1, 3, 16, 17, 129, 1000} {
		for _, step := range []float32{1, 0.0371, 1e-3, 7} {
			for _, qmax := range []float32{1, 3, 127, 255} {
				w := make([]float32, n)
				for i := range w {
					if r.IntN(4) == 0 {
						w[i] = specials[r.IntN(len(specials))]
					} else {
						w[i] = float32(r.NormFloat64()) * step * qmax / 2
					}
				}
				want := make([]float32, n)
				applyGo(want, w, step, qmax)
				for _, vw := range vecWidths() {
					vecWidth = vw
					got := make([]float32, n)
					apply(got, w, step, qmax)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("width %d n=%d step=%g qmax=%g: w[%d]=%g gives %g, Go %g", vw, n, step, qmax, i, w[i], got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestPow2IsBestPowerOfTwo checks Pow2 against every power of two in a
// wide range, by the oracle's error.
func TestPow2IsBestPowerOfTwo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, dist := range dists[:7] {
		for _, bits := range []int{2, 3, 5, 8} {
			w := dist.gen(r, 200)
			q := Quantizer{Bits: bits, Rule: Pow2}
			d := q.Step(w)
			e := errRef(w, float64(d), q.QMax())
			for x := -60; x <= 20; x++ {
				if ex := errRef(w, math.Ldexp(1, x), q.QMax()); ex < e*(1-1e-12) {
					t.Errorf("%s bits=%d: pow2 step %g has error %g, 2^%d has %g", dist.name, bits, d, e, x, ex)
				}
			}
		}
	}
}

// TestTWNMatchesDefinition recomputes the TWN scale directly.
func TestTWNMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, dist := range dists[:6] {
		w := dist.gen(r, 300)
		var mean float64
		for _, v := range w {
			mean += math.Abs(float64(v))
		}
		mean /= float64(len(w))
		var sum float64
		n := 0
		for _, v := range w {
			if a := math.Abs(float64(v)); a > 0.7*mean {
				sum += a
				n++
			}
		}
		want := float32(sum / float64(n))
		if got := (Quantizer{Bits: 2, Rule: TWN}).Step(w); got != want {
			t.Errorf("%s: TWN step %g, want %g", dist.name, got, want)
		}
	}
}

// TestTWNThreshold checks the TWN mapping against its definition: a weight
// maps to sign(w)*alpha when |w| > 0.7*mean|w| and to 0 otherwise, where
// alpha is the mean |w| above the threshold (not the rounding threshold
// alpha/2 of the uniform quantizer), and TernaryCodes agrees with it.
func TestTWNThreshold(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	q := Quantizer{Bits: 2, Rule: TWN}
	for _, dist := range dists[:6] {
		for _, n := range []int{1, 3, 17, 129, 1000} {
			w := dist.gen(r, n)
			var mean float64
			for _, v := range w {
				mean += math.Abs(float64(v))
			}
			thr := float32(0.7 * mean / float64(n))
			if got := q.Threshold(w); math.Abs(float64(got-thr)) > 1e-6*float64(thr) {
				t.Fatalf("%s n=%d: threshold %g, want %g", dist.name, n, got, thr)
			}
			thr = q.Threshold(w)
			alpha := q.Step(w)
			qw := make([]float32, n)
			q.ApplyThreshold(qw, w, alpha, thr)
			codes := make([]int8, n)
			if thr > 0 {
				TernaryCodes(codes, w, thr)
			}
			for i, v := range w {
				var want float32
				var c int8
				switch {
				case v > thr:
					want, c = alpha, 1
				case v < -thr:
					want, c = -alpha, -1
				}
				if qw[i] != want || codes[i] != c || float32(c)*alpha != qw[i] {
					t.Fatalf("%s n=%d: w=%g thr=%g alpha=%g: Q=%g code %d, want %g, %d", dist.name, n, v, thr, alpha, qw[i], codes[i], want, c)
				}
			}
		}
	}
	if got := (Quantizer{Bits: 3}).Threshold([]float32{1, 2}); got != 0 {
		t.Errorf("l2 threshold %g, want 0 (rounding at D/2)", got)
	}
}

// TestSweepRadixMatchesHeap checks the radix-ordered sweep against the
// heap-merged one (the fallback for tensors of 2^24 weights or more).
func TestSweepRadixMatchesHeap(t *testing.T) {
	defer func(v bool) { radixSweep = v }(radixSweep)
	r := rand.New(rand.NewPCG(10, 10))
	for _, dist := range dists[:7] {
		for _, n := range []int{1, 17, 1000, 5000} {
			for _, bits := range []int{2, 3, 5, 8} {
				w := dist.gen(r, n)
				var s solver
				s.prepare(w)
				if len(s.a) == 0 {
					continue
				}
				qmax := (1<<bits - 2) / 2
				lo, hi, _, _ := s.bracket(qmax)
				radixSweep = true
				dr, er := s.sweep(qmax, lo, hi)
				radixSweep = false
				dh, eh := s.sweep(qmax, lo, hi)
				if math.Abs(er-eh) > 1e-9*eh+1e-15 {
					t.Errorf("%s n=%d bits=%d: radix sweep error %.12g at %g, heap %.12g at %g", dist.name, n, bits, er, dr, eh, dh)
				}
			}
		}
	}
}
