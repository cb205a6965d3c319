package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// withKernel runs f once per available micro-kernel.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, name := range Kernels() {
		t.Run(name, func(t *testing.T) {
			prev, err := SetKernel(name)
			if err != nil {
				t.Fatal(err)
			}
			defer SetKernel(prev)
			f(t)
		})
	}
}

// closeEnough compares with a tolerance scaled by k (summation order differs).
func checkClose(t *testing.T, what string, got, want []float32, k int) {
	t.Helper()
	tol := 1e-5 * float64(k+1)
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.Abs(g-w) > tol*(1+math.Abs(w)) {
			t.Fatalf("%s: element %d = %g, want %g (tol %g)", what, i, g, w, tol)
		}
	}
}

type gemmCase struct {
	m, n, k          int
	transA, transB   bool
	alpha, beta      float32
	padA, padB, padC int // extra leading-dimension slack
}

func gemmCases() []gemmCase {
	sizes := [][3]int{
		{1, 1, 1}, {1, 17, 3}, {17, 1, 5}, {1, 1, 300}, {3, 5, 7}, {13, 31, 17},
		{14, 32, 1}, {15, 33, 2}, {28, 16, 9}, {6, 16, 4}, {7, 17, 129},
		{37, 129, 61}, {129, 37, 3}, {2, 3, 1031}, {100, 70, 50}, {64, 200, 513},
		{131, 67, 400}, {257, 5, 19},
	}
	var cs []gemmCase
	ab := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, 0}, {0.7, -1}}
	for i, s := range sizes {
		for tr := 0; tr < 4; tr++ {
			x := ab[(i+tr)%len(ab)]
			cs = append(cs, gemmCase{
				m: s[0], n: s[1], k: s[2], transA: tr&1 != 0, transB: tr&2 != 0,
				alpha: x[0], beta: x[1], padA: (i * 3) % 5, padB: (i + tr) % 4, padC: i % 3,
			})
		}
	}
	return cs
}

func runGemmCase(t *testing.T, rng *rand.Rand, c gemmCase, threads int) {
	t.Helper()
	ar, ac := c.m, c.k
	if c.transA {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.transB {
		br, bc = c.n, c.k
	}
	lda, ldb, ldc := ac+c.padA, bc+c.padB, c.n+c.padC
	a := randSlice(rng, (ar-1)*lda+ac)
	b := randSlice(rng, (br-1)*ldb+bc)
	c0 := randSlice(rng, (c.m-1)*ldc+c.n)
	if c.beta == 0 {
		for i := range c0 {
			c0[i] = float32(math.NaN())
		}
	}
	want := append([]float32(nil), c0...)
	got := append([]float32(nil), c0...)
	GemmRef(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, want, ldc)
	gemmN(threads, c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, got, ldc)
	// Padding columns of C must be untouched.
	for i := 0; i < c.m; i++ {
		for j := c.n; j < ldc && i*ldc+j < len(c0); j++ {
			o, g := c0[i*ldc+j], got[i*ldc+j]
			if o != g && !(o != o && g != g) {
				t.Fatalf("%+v: padding C[%d,%d] changed from %g to %g", c, i, j, o, g)
			}
			want[i*ldc+j], got[i*ldc+j] = 0, 0
		}
	}
	checkClose(t, fmt.Sprintf("%+v threads=%d", c, threads), got, want, c.k)
}

func TestGemmMatchesRef(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 1))
		for _, c := range gemmCases() {
			for _, th := range []int{1, 2, 3} {
				runGemmCase(t, rng, c, th)
			}
		}
	})
}

// TestGemmBlockEdges uses sizes that cross the KC/MC/NC blocking of each
// kernel, so the multi-panel paths (load after the first K panel, several
// M blocks and N panels) are exercised.
func TestGemmBlockEdges(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		k := active.Load()
		rng := rand.New(rand.NewPCG(2, 2))
		cases := []gemmCase{
			{m: k.mc + 3, n: 9, k: k.kc + 5, alpha: 1, beta: 0},
			{m: 5, n: k.nc + k.nr + 1, k: 2*k.kc + 1, transB: true, alpha: 1.5, beta: 0.5},
			{m: k.mc*2 + 1, n: k.nr + 1, k: k.kc + 1, transA: true, alpha: 1, beta: 1},
			// B slivers packed by the first row block and reused by
			// the next two, untransposed and transposed.
			{m: 2*k.mc + k.mr + 1, n: 3*k.nr + 1, k: k.kc + 7, alpha: 0.5, beta: 1},
			{m: 2*k.mc + 1, n: 2 * k.nr, k: 2*k.kc + 3, transB: true, alpha: 1, beta: 0},
		}
		if testing.Short() {
			cases = cases[:1]
		}
		for _, c := range cases {
			runGemmCase(t, rng, c, 2)
		}
	})
}

func TestGemmZeroSizes(t *testing.T) {
	c := []float32{float32(math.NaN()), 5}
	Gemm(false, false, 1, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
	if c[0] != 0 || c[1] != 0 {
		t.Fatalf("k=0 beta=0: C = %v, want zeros", c)
	}
	c = []float32{3, 5}
	Gemm(false, false, 1, 2, 0, 1, nil, 1, nil, 2, 2, c, 2)
	if c[0] != 6 || c[1] != 10 {
		t.Fatalf("k=0 beta=2: C = %v, want [6 10]", c)
	}
	Gemm(false, false, 0, 0, 3, 1, nil, 3, nil, 1, 0, nil, 1) // must not panic
}

func TestGemmPanicsOnShortSlice(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic for short A")
		}
		if s, ok := r.(string); !ok || s[:7] != "tensor:" {
			t.Fatalf("panic %v does not start with tensor:", r)
		}
	}()
	Gemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
}

func TestSetKernel(t *testing.T) {
	if _, err := SetKernel("no-such-kernel"); err == nil {
		t.Fatal("SetKernel accepted an unknown name")
	}
	prev, err := SetKernel("generic")
	if err != nil {
		t.Fatal(err)
	}
	if Kernel() != "generic" {
		t.Fatalf("Kernel() = %q after SetKernel(generic)", Kernel())
	}
	SetKernel(prev)
	if ks := Kernels(); ks[len(ks)-1] != "generic" {
		t.Fatalf("Kernels() = %v, want generic last", ks)
	}
}

// TestPickKernelAnyShape checks auto mode's shape rule with stand-ins for
// both kernels: a second kernel marked altAnyShape is used for C split by
// rows too, an unmarked one only for C split by columns, each only where
// it pads to under altGain of the best kernel's work.
func TestPickKernelAnyShape(t *testing.T) {
	prev, _ := SetKernel("auto")
	defer SetKernel(prev)
	prevBest, prevAlt := active.Load(), altKernel
	defer func() { active.Store(prevBest); altKernel = prevAlt }()
	best := &microKernel{name: "best-6x64", mr: 6, nr: 64}
	active.Store(best)
	padded := func(k *microKernel, m, n int) float64 {
		return float64((m + k.mr - 1) / k.mr * k.mr * ((n + k.nr - 1) / k.nr * k.nr))
	}
	for _, anyShape := range []bool{false, true} {
		alt := &microKernel{name: "alt-8x48", mr: 8, nr: 48, altAnyShape: anyShape}
		altKernel = alt
		for _, s := range [][2]int{{100, 1024}, {128, 784}, {100, 784}, {1024, 784}, {1024, 1024}, {784, 128}, {1, 1}, {17, 129}, {129, 17}} {
			m, n := s[0], s[1]
			want := best
			if (m <= n || anyShape) && padded(alt, m, n) < altGain*padded(best, m, n) {
				want = alt
			}
			if got := pickKernel(m, n); got != want {
				t.Errorf("anyShape=%v: pickKernel(%d, %d) = %s, want %s", anyShape, m, n, got.name, want.name)
			}
		}
		// The Zen 5 pair at the training shapes (see archAltKernel).
		if got := pickKernel(1024, 784); (got == alt) != anyShape {
			t.Errorf("anyShape=%v: pickKernel(1024, 784) = %s", anyShape, got.name)
		}
		if got := pickKernel(128, 784); got != alt {
			t.Errorf("pickKernel(128, 784) = %s, want %s", got.name, alt.name)
		}
		if got := pickKernel(100, 1024); got != best {
			t.Errorf("pickKernel(100, 1024) = %s, want %s", got.name, best.name)
		}
	}
}

// TestPickKernelIntelPair checks the Intel pair of archAltKernel at the
// training shapes: 6×64 where C is split by columns and it pads to under
// 0.99 of the work, 14×32 for the large-M and square products.
func TestPickKernelIntelPair(t *testing.T) {
	prev, _ := SetKernel("auto")
	defer SetKernel(prev)
	prevBest, prevAlt := active.Load(), altKernel
	defer func() { active.Store(prevBest); altKernel = prevAlt }()
	best := &microKernel{name: "best-14x32", mr: 14, nr: 32}
	alt := &microKernel{name: "alt-6x64", mr: 6, nr: 64, altGain: 0.99}
	active.Store(best)
	altKernel = alt
	for _, tc := range []struct {
		m, n int
		want *microKernel
	}{
		{100, 1024, alt}, {128, 1024, alt}, {100, 784, alt}, {128, 784, alt},
		{1024, 784, best}, {1024, 1024, best}, {96, 64, best},
	} {
		if got := pickKernel(tc.m, tc.n); got != tc.want {
			t.Errorf("pickKernel(%d, %d) = %s, want %s", tc.m, tc.n, got.name, tc.want.name)
		}
	}
}

func TestSetThreads(t *testing.T) {
	orig := SetThreads(3)
	defer SetThreads(orig)
	if Threads() != 3 {
		t.Fatalf("Threads() = %d after SetThreads(3)", Threads())
	}
	if p := SetThreads(0); p != 3 {
		t.Fatalf("SetThreads returned %d, want 3", p)
	}
	if Threads() < 1 {
		t.Fatalf("default Threads() = %d", Threads())
	}
}

func TestKernelsSelfTest(t *testing.T) {
	if len(droppedKernels) > 0 {
		t.Fatalf("kernels dropped at init: %v", droppedKernels)
	}
	broken := &microKernel{name: "broken", mr: 3, nr: 2, fn: func(k int, a, b, c []float32, ldc int, alpha float32, load bool) {
		microGeneric3x2(k, a, b, c, ldc, alpha, load)
		c[ldc+1]++
	}}
	ok, dropped := selfTested([]*microKernel{genericKernel, broken})
	if len(ok) != 1 || ok[0] != genericKernel || len(dropped) != 1 {
		t.Fatalf("selfTested kept %d kernels, dropped %v", len(ok), dropped)
	}
}

// tightOperands returns random operands for an m×n×k Gemm with the
// transposes of tr (bit 0: A, bit 1: B) and no leading-dimension slack.
func tightOperands(rng *rand.Rand, tr, m, n, k int) (transA, transB bool, a []float32, lda int, b []float32, ldb int) {
	transA, transB = tr&1 != 0, tr&2 != 0
	lda, ldb = k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	return transA, transB, randSlice(rng, m*k), lda, randSlice(rng, k*n), ldb
}

// TestGemmPrepacked checks gemmSerial on operands packed whole by prepackA
// and prepackB against the same call packing panel by panel: the results
// must be bitwise equal (same panels, same order of operations). The
// blocking is shrunk so that several M blocks, K panels and N blocks occur
// at small sizes.
func TestGemmPrepacked(t *testing.T) {
	for _, base := range kernels {
		kern := *base
		kern.kc, kern.mc, kern.nc = 8, 2*kern.mr, 2*kern.nr
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 3))
			for _, s := range [][3]int{{1, 1, 1}, {3, 17, 5}, {17, 3, 29}, {2*kern.mr + 1, 5*kern.nr + 3, 17}, {29, 2*kern.nr - 1, 33}} {
				m, n, k := s[0], s[1], s[2]
				for tr := 0; tr < 4; tr++ {
					transA, transB, a, lda, b, ldb := tightOperands(rng, tr, m, n, k)
					c0 := randSlice(rng, m*n)
					want := append([]float32(nil), c0...)
					gemmSerial(&kern, nil, nil, transA, transB, m, n, k, 1.5, a, lda, b, ldb, 0.5, want, n)
					ref := append([]float32(nil), c0...)
					GemmRef(transA, transB, m, n, k, 1.5, a, lda, b, ldb, 0.5, ref, n)
					checkClose(t, fmt.Sprintf("%dx%dx%d tr=%d serial", m, n, k, tr), want, ref, k)
					preA := prepackA(&kern, nil, transA, a, lda, m, k)
					preB := prepackB(&kern, nil, transB, b, ldb, k, n)
					for _, v := range []struct {
						name       string
						preA, preB []float32
					}{{"preA", preA, nil}, {"preB", nil, preB}, {"both", preA, preB}} {
						got := append([]float32(nil), c0...)
						gemmSerial(&kern, v.preA, v.preB, transA, transB, m, n, k, 1.5, a, lda, b, ldb, 0.5, got, n)
						for i := range got {
							if got[i] != want[i] {
								t.Fatalf("%dx%dx%d tr=%d %s: C[%d] = %g, want %g (bitwise)", m, n, k, tr, v.name, i, got[i], want[i])
							}
						}
					}
				}
			}
		})
	}
}

// TestGemmThreadsBitwise checks that a parallel Gemm, whose goroutines
// claim chunks of C in whatever order they run, gives bitwise the result of
// one goroutine, for both split directions (N >= M and M > N).
func TestGemmThreadsBitwise(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(4, 4))
		for _, s := range [][3]int{{37, 300, 129}, {300, 37, 129}, {129, 129, 64}} {
			m, n, k := s[0], s[1], s[2]
			for tr := 0; tr < 4; tr++ {
				transA, transB, a, lda, b, ldb := tightOperands(rng, tr, m, n, k)
				want := make([]float32, m*n)
				gemmN(1, transA, transB, m, n, k, 1, a, lda, b, ldb, 0, want, n)
				for _, th := range []int{2, 3, 5} {
					for _, limit := range []int{maxPrepack, 0} { // 0: no prepacking
						prev := maxPrepack
						maxPrepack = limit
						got := make([]float32, m*n)
						gemmN(th, transA, transB, m, n, k, 1, a, lda, b, ldb, 0, got, n)
						maxPrepack = prev
						for i := range got {
							if got[i] != want[i] {
								t.Fatalf("%dx%dx%d tr=%d threads=%d maxPrepack=%d: C[%d] = %g, want %g (bitwise, threads=1)", m, n, k, tr, th, limit, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}

// TestGemmEdgeKernels runs every kernel with edge kernels on C of one full
// register block plus a partial one (rows 1..mr, a range of columns), so
// that each edge kernel computes, straight into C or through the scratch
// tile: the results must be bitwise those of the same kernel without edge
// kernels, and close to GemmRef.
func TestGemmEdgeKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	ks := []int{1, 3, 17, 129}
	for _, kern := range kernels {
		if len(kern.edges) == 0 {
			continue
		}
		whole := *kern
		whole.edges = nil
		t.Run(kern.name, func(t *testing.T) {
			cols := []int{1, 7, 8, 9, 16, 17, 31, 32, 33, 47, 48, 63}
			n := 0
			for rows := 1; rows <= kern.mr; rows++ {
				for _, nw := range cols {
					if nw > kern.nr || rows == kern.mr && nw == kern.nr {
						continue
					}
					// Row edges run the full width: they cover
					// every partial block short of rows.
					if rows < kern.mr && kern.edgeFor(rows, nw) == nil {
						t.Fatalf("no edge kernel covers %dx%d", rows, nw)
					}
					m, nn, k := kern.mr+rows, kern.nr+nw, ks[n%len(ks)]
					tr := n % 4
					n++
					transA, transB, a, lda, b, ldb := tightOperands(rng, tr, m, nn, k)
					c0 := randSlice(rng, m*nn)
					got := append([]float32(nil), c0...)
					want := append([]float32(nil), c0...)
					ref := append([]float32(nil), c0...)
					gemmSerial(kern, nil, nil, transA, transB, m, nn, k, 1.5, a, lda, b, ldb, 0.5, got, nn)
					gemmSerial(&whole, nil, nil, transA, transB, m, nn, k, 1.5, a, lda, b, ldb, 0.5, want, nn)
					GemmRef(transA, transB, m, nn, k, 1.5, a, lda, b, ldb, 0.5, ref, nn)
					what := fmt.Sprintf("%dx%dx%d tr=%d", m, nn, k, tr)
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%s: element %d = %g with edge kernels, %g without", what, i, got[i], want[i])
						}
					}
					checkClose(t, what, got, ref, k)
				}
			}
		})
	}
}
