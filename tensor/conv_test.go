package tensor

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func convGeoms() []ConvGeom {
	var gs []ConvGeom
	for i, rs := range []int{3, 5, 1} {
		for _, stride := range []int{1, 2} {
			for _, pad := range []int{0, 1, 2} {
				g := ConvGeom{N: 1 + (i+stride+pad)%3, C: 1 + (pad+i)%3*2, H: 7 + pad, W: 9 - stride, K: 3 + i + stride, R: rs, S: rs, Stride: stride, Pad: pad}
				if g.Check() == nil {
					gs = append(gs, g)
				}
			}
		}
	}
	gs = append(gs, ConvGeom{N: 2, C: 3, H: 5, W: 11, K: 4, R: 3, S: 5, Stride: 2, Pad: 1}, // non-square
		ConvGeom{N: 3, C: 1, H: 13, W: 13, K: 17, R: 5, S: 5, Stride: 1, Pad: 2},
		// C*R*S = 333 and K = 151: several K panels and M blocks of the
		// prepacked weights (forward and data gradient).
		ConvGeom{N: 2, C: 37, H: 5, W: 6, K: 151, R: 3, S: 3, Stride: 1, Pad: 1})
	return gs
}

func TestConvMatchesRef(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 3))
		var ws ConvWork // reused across geometries
		for _, g := range convGeoms() {
			for _, th := range []int{1, 2} {
				prev := SetThreads(th)
				name := fmt.Sprintf("%+v threads=%d", g, th)
				oh, ow := g.OutH(), g.OutW()
				x := randSlice(rng, g.N*g.C*g.H*g.W)
				w := randSlice(rng, g.K*g.C*g.R*g.S)
				dy := randSlice(rng, g.N*g.K*oh*ow)
				crs := g.C * g.R * g.S

				y, yr := randSlice(rng, len(dy)), make([]float32, len(dy))
				ConvForward(y, x, w, g, &ws)
				ConvForwardRef(yr, x, w, g)
				checkClose(t, "forward "+name, y, yr, crs)

				dx, dxr := randSlice(rng, len(x)), make([]float32, len(x))
				ConvBackwardData(dx, dy, w, g, &ws)
				ConvBackwardDataRef(dxr, dy, w, g)
				checkClose(t, "backward data "+name, dx, dxr, g.K*crs)

				dw, dwr := randSlice(rng, len(w)), make([]float32, len(w))
				ConvBackwardFilter(dw, dy, x, g, &ws)
				ConvBackwardFilterRef(dwr, dy, x, g)
				checkClose(t, "backward filter "+name, dw, dwr, g.N*oh*ow)
				SetThreads(prev)
			}
		}
	})
}

// TestIm2colAdjoint checks <Im2col(x), c> == <x, Col2im(c)>.
func TestIm2colAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, g := range convGeoms() {
		oh, ow := g.OutH(), g.OutW()
		x := randSlice(rng, g.C*g.H*g.W)
		c := randSlice(rng, g.C*g.R*g.S*oh*ow)
		col := make([]float32, len(c))
		Im2col(col, x, g)
		dx := make([]float32, len(x))
		Col2im(dx, c, g)
		l, r := Dot(col, c), Dot(x, dx)
		if d := l - r; d > 1e-3 || d < -1e-3 {
			t.Fatalf("%+v: <im2col x, c> = %g, <x, col2im c> = %g", g, l, r)
		}
	}
}

func TestConvGeomCheck(t *testing.T) {
	bad := []ConvGeom{
		{N: 1, C: 1, H: 3, W: 3, K: 1, R: 5, S: 5, Stride: 1},
		{N: 1, C: 1, H: 3, W: 3, K: 1, R: 3, S: 3, Stride: 0},
		{N: 0, C: 1, H: 3, W: 3, K: 1, R: 3, S: 3, Stride: 1},
		{N: 1, C: 1, H: 3, W: 3, K: 1, R: 3, S: 3, Stride: 1, Pad: -1},
	}
	for _, g := range bad {
		if err := g.Check(); err == nil || !strings.HasPrefix(err.Error(), "tensor: ") {
			t.Errorf("%+v: Check() = %v, want a tensor: error", g, err)
		}
	}
	g := ConvGeom{N: 1, C: 1, H: 14, W: 14, K: 1, R: 5, S: 5, Stride: 2, Pad: 2}
	if g.OutH() != 7 || g.OutW() != 7 {
		t.Fatalf("OutH, OutW = %d, %d, want 7, 7", g.OutH(), g.OutW())
	}
}

func TestConvSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	prev := SetThreads(1)
	defer SetThreads(prev)
	g := ConvGeom{N: 2, C: 3, H: 8, W: 8, K: 4, R: 3, S: 3, Stride: 1, Pad: 1}
	rng := rand.New(rand.NewPCG(5, 5))
	x := randSlice(rng, g.N*g.C*g.H*g.W)
	w := randSlice(rng, g.K*g.C*g.R*g.S)
	y := make([]float32, g.N*g.K*g.OutH()*g.OutW())
	var ws ConvWork
	ConvForward(y, x, w, g, &ws)
	n := testing.AllocsPerRun(10, func() { ConvForward(y, x, w, g, &ws) })
	if n > 0 {
		t.Fatalf("ConvForward allocates %v times per call in steady state", n)
	}
}

func TestParallelSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	prev := SetThreads(2)
	defer SetThreads(prev)
	rng := rand.New(rand.NewPCG(8, 8))
	a, b, c := randSlice(rng, 96*80), randSlice(rng, 80*96), make([]float32, 96*96)
	gemm := func() { Gemm(false, true, 96, 96, 80, 1, a, 80, b, 80, 0, c, 96) }
	gemm()
	if n := testing.AllocsPerRun(20, gemm); n > 0 {
		t.Errorf("2-thread Gemm allocates %v times per call", n)
	}
	g := ConvGeom{N: 4, C: 3, H: 8, W: 8, K: 4, R: 3, S: 3, Stride: 1, Pad: 1}
	x := randSlice(rng, g.N*g.C*g.H*g.W)
	w := randSlice(rng, g.K*g.C*g.R*g.S)
	y := make([]float32, g.N*g.K*g.OutH()*g.OutW())
	dw := make([]float32, len(w))
	var ws ConvWork
	conv := func() { ConvForward(y, x, w, g, &ws); ConvBackwardFilter(dw, y, x, g, &ws) }
	conv()
	if n := testing.AllocsPerRun(20, conv); n > 0 {
		t.Errorf("2-thread conv allocates %v times per call", n)
	}
}

// TestIm2colFastMatchesRef checks the stride-1 fast paths of Im2col and
// Col2im bit for bit against the reference loops, on the conv test
// geometries plus "same"-padded ones (OW == W, the contiguous-copy path)
// of odd sizes, with the outputs pre-filled with garbage.
func TestIm2colFastMatchesRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	gs := append(convGeoms(),
		ConvGeom{N: 1, C: 1, H: 28, W: 28, K: 1, R: 5, S: 5, Stride: 1, Pad: 2},
		ConvGeom{N: 1, C: 3, H: 17, W: 3, K: 1, R: 3, S: 3, Stride: 1, Pad: 1},
		ConvGeom{N: 1, C: 2, H: 1, W: 1, K: 1, R: 3, S: 3, Stride: 1, Pad: 1},
		ConvGeom{N: 1, C: 2, H: 2, W: 9, K: 1, R: 7, S: 7, Stride: 1, Pad: 3},
		ConvGeom{N: 1, C: 3, H: 5, W: 4, K: 1, R: 3, S: 5, Stride: 1, Pad: 2},
		ConvGeom{N: 1, C: 2, H: 3, W: 3, K: 1, R: 3, S: 3, Stride: 1, Pad: 4})
	for _, g := range gs {
		if g.Check() != nil {
			t.Fatalf("bad test geometry %+v", g)
		}
		n := g.C * g.R * g.S * g.OutH() * g.OutW()
		x := randSlice(rng, g.C*g.H*g.W)
		col, colRef := randSlice(rng, n), make([]float32, n)
		Im2col(col, x, g)
		im2colRef(colRef, x, g)
		sameBits(t, fmt.Sprintf("Im2col %+v", g), col, colRef)

		c := randSlice(rng, n)
		dx, dxRef := randSlice(rng, len(x)), make([]float32, len(x))
		Col2im(dx, c, g)
		col2imRef(dxRef, c, g)
		sameBits(t, fmt.Sprintf("Col2im %+v", g), dx, dxRef)
		col2imScratch(dx, append([]float32(nil), c...), g)
		sameBits(t, fmt.Sprintf("col2imScratch %+v", g), dx, dxRef)
	}
}

// TestConvForwardBias checks ConvForwardBias bit for bit against
// ConvForward followed by AddBiasChannels, for 1 and 2 threads.
func TestConvForwardBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var ws ConvWork
	for _, g := range convGeoms() {
		for _, th := range []int{1, 2} {
			prev := SetThreads(th)
			x := randSlice(rng, g.N*g.C*g.H*g.W)
			w := randSlice(rng, g.K*g.C*g.R*g.S)
			bias := randSlice(rng, g.K)
			n := g.N * g.K * g.OutH() * g.OutW()
			y, want := randSlice(rng, n), make([]float32, n)
			ConvForward(want, x, w, g, &ws)
			AddBiasChannels(want, bias, g.N, g.K, g.OutH()*g.OutW())
			ConvForwardBias(y, x, w, bias, g, &ws)
			sameBits(t, fmt.Sprintf("ConvForwardBias %+v threads=%d", g, th), y, want)
			SetThreads(prev)
		}
	}
}

// BenchmarkIm2col times Im2col/Col2im against the reference loops on the
// per-image geometries of the MNIST CNN (32c5 on 28×28, 64c5 on 14×14,
// "same" padding).
func BenchmarkIm2col(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		name string
		g    ConvGeom
	}{
		{"c1-28x28-k5", ConvGeom{N: 1, C: 1, H: 28, W: 28, K: 32, R: 5, S: 5, Stride: 1, Pad: 2}},
		{"c32-14x14-k5", ConvGeom{N: 1, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2}},
	} {
		g := c.g
		n := g.C * g.R * g.S * g.OutH() * g.OutW()
		x, col := randSlice(rng, g.C*g.H*g.W), randSlice(rng, n)
		offs, rows := convTapOffsets(nil, g), convRowOffsets(nil, g)
		xp := padImage(nil, x, g)
		for _, k := range []struct {
			name string
			f    func()
		}{
			{"im2col", func() { Im2col(col, x, g) }},
			{"im2col-ref", func() { im2colRef(col, x, g) }},
			{"col2im", func() { Col2im(x, col, g) }},
			{"col2im-scratch", func() { col2imScratch(x, col, g) }},
			{"col2im-ref", func() { col2imRef(x, col, g) }},
			{"im2col-padded", func() { im2colPadded(col, padImage(xp, x, g), offs, rows, g) }},
			{"col2im-padded", func() { col2imPadded(x, col, g.OutH()*g.OutW(), xp, offs, rows, g) }},
		} {
			b.Run(k.name+"/"+c.name, func(b *testing.B) {
				for range b.N {
					k.f()
				}
				b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
		}
	}
}

// TestConvThreadsBitIdentical checks that every convolution kernel gives
// the same bits for 1, 2 and 3 threads (the filter gradient is reduced
// over fixed image ranges, not per thread).
func TestConvThreadsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	g := ConvGeom{N: 7, C: 3, H: 9, W: 9, K: 5, R: 3, S: 3, Stride: 1, Pad: 1}
	x := randSlice(rng, g.N*g.C*g.H*g.W)
	w := randSlice(rng, g.K*g.C*g.R*g.S)
	dy := randSlice(rng, g.N*g.K*g.OutH()*g.OutW())
	var want [3][]float32
	for _, th := range []int{1, 2, 3} {
		prev := SetThreads(th)
		var ws ConvWork
		y, dx, dw := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))
		ConvForward(y, x, w, g, &ws)
		ConvBackwardData(dx, dy, w, g, &ws)
		ConvBackwardFilter(dw, dy, x, g, &ws)
		SetThreads(prev)
		if th == 1 {
			want = [3][]float32{y, dx, dw}
			continue
		}
		sameBits(t, fmt.Sprintf("forward threads=%d", th), y, want[0])
		sameBits(t, fmt.Sprintf("backward data threads=%d", th), dx, want[1])
		sameBits(t, fmt.Sprintf("backward filter threads=%d", th), dw, want[2])
	}
}
