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
		ConvGeom{N: 3, C: 1, H: 13, W: 13, K: 17, R: 5, S: 5, Stride: 1, Pad: 2})
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
