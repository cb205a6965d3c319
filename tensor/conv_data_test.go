package tensor

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// dataGeoms are geometries whose data gradient runs as a forward
// convolution (dataAsForward): "same" and fuller padding, square filters,
// odd sizes and channel counts (slivers inside and across output rows).
func dataGeoms() []ConvGeom {
	return []ConvGeom{
		{N: 3, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 2, C: 1, H: 28, W: 28, K: 32, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 1, C: 1, H: 1, W: 1, K: 1, R: 1, S: 1, Stride: 1},
		{N: 2, C: 3, H: 17, W: 3, K: 17, R: 3, S: 3, Stride: 1, Pad: 1},
		{N: 1, C: 17, H: 3, W: 17, K: 3, R: 3, S: 3, Stride: 1, Pad: 2},
		{N: 3, C: 129, H: 5, W: 7, K: 5, R: 1, S: 1, Stride: 1},
		{N: 1, C: 2, H: 9, W: 11, K: 7, R: 7, S: 7, Stride: 1, Pad: 5},
		{N: 2, C: 5, H: 2, W: 2, K: 3, R: 5, S: 5, Stride: 1, Pad: 3},
	}
}

// TestFlipFilters checks flipFilters against its definition.
func TestFlipFilters(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	for _, g := range []ConvGeom{{C: 3, K: 5, R: 3, S: 3}, {C: 1, K: 1, R: 1, S: 1}, {C: 2, K: 17, R: 7, S: 3}} {
		w := randSlice(rng, g.K*g.C*g.R*g.S)
		got := flipFilters([]float32{7}, w, g)
		for c := 0; c < g.C; c++ {
			for k := 0; k < g.K; k++ {
				for r := 0; r < g.R; r++ {
					for s := 0; s < g.S; s++ {
						want := w[((k*g.C+c)*g.R+g.R-1-r)*g.S+g.S-1-s]
						if v := got[((c*g.K+k)*g.R+r)*g.S+s]; v != want {
							t.Fatalf("%+v: wf[%d,%d,%d,%d] = %g, want %g", g, c, k, r, s, v, want)
						}
					}
				}
			}
		}
	}
}

// TestConvDataAsForward checks the data gradient in its forward form
// against the direct loops and against the im2col form, with every kernel
// and 1 and 2 threads, and that dataAsForward takes these geometries.
func TestConvDataAsForward(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(22, 22))
		var ws ConvWork
		for _, g := range dataGeoms() {
			for _, th := range []int{1, 2} {
				prev := SetThreads(th)
				name := fmt.Sprintf("%+v threads=%d", g, th)
				w := randSlice(rng, g.K*g.C*g.R*g.S)
				dy := randSlice(rng, g.N*g.K*g.OutH()*g.OutW())
				dx, dxr := randSlice(rng, g.N*g.C*g.H*g.W), make([]float32, g.N*g.C*g.H*g.W)
				ConvBackwardData(dx, dy, w, g, &ws)
				ConvBackwardDataRef(dxr, dy, w, g)
				checkClose(t, "backward data "+name, dx, dxr, g.K*g.R*g.S)
				convDataIm2col = true
				dxi := randSlice(rng, len(dx))
				ConvBackwardData(dxi, dy, w, g, &ws)
				convDataIm2col = false
				checkClose(t, "backward data im2col form "+name, dxi, dx, g.K*g.R*g.S)
				SetThreads(prev)
			}
		}
	})
}

// TestDataAsForwardChoice checks that the MNIST CNN's second layer runs
// its data gradient as a forward convolution (where the CPU has the
// pixel-major path), and the geometries the forward form must leave to the
// im2col form.
func TestDataAsForwardChoice(t *testing.T) {
	g := ConvGeom{N: 100, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2}
	want := ConvGeom{N: 100, C: 64, H: 14, W: 14, K: 32, R: 5, S: 5, Stride: 1, Pad: 2}
	if got, ok := g.dataAsForward(); hasConvPack(convKernel(196, 32).mr) && (!ok || got != want) {
		t.Errorf("%+v: dataAsForward = %+v, %v; want %+v, true", g, got, ok, want)
	}
	for _, g := range []ConvGeom{
		{N: 1, C: 1, H: 28, W: 28, K: 32, R: 5, S: 5, Stride: 1, Pad: 2}, // C = 1 pads badly
		{N: 1, C: 2, H: 9, W: 9, K: 3, R: 3, S: 3, Stride: 2, Pad: 1},    // stride
		{N: 1, C: 2, H: 9, W: 9, K: 3, R: 3, S: 5, Stride: 1, Pad: 2},    // not square
		{N: 1, C: 2, H: 9, W: 9, K: 3, R: 5, S: 5, Stride: 1, Pad: 1},    // less than "same"
		{N: 1, C: 2, H: 9, W: 9, K: 3, R: 3, S: 3, Stride: 1, Pad: 3},    // more than R-1
	} {
		if _, ok := g.dataAsForward(); ok {
			t.Errorf("%+v: dataAsForward took it", g)
		}
	}
}

// BenchmarkConvData times ConvBackwardData on the MNIST CNN's second layer
// (batch 100) in its forward form and in the im2col form, taking turns.
func BenchmarkConvData(b *testing.B) {
	g := ConvGeom{N: 100, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2}
	flops := 2 * float64(g.N*g.K*g.OutH()*g.OutW()*g.C*g.R*g.S)
	rng := rand.New(rand.NewPCG(1, 1))
	w := randSlice(rng, g.K*g.C*g.R*g.S)
	dy := randSlice(rng, g.N*g.K*g.OutH()*g.OutW())
	dx := make([]float32, g.N*g.C*g.H*g.W)
	for _, th := range []int{1, 2} {
		for _, im2col := range []bool{false, true} {
			name := "forward-form"
			if im2col {
				name = "im2col-form"
			}
			b.Run(fmt.Sprintf("%s/threads%d", name, th), func(b *testing.B) {
				var ws ConvWork
				prev := SetThreads(th)
				defer SetThreads(prev)
				convDataIm2col = im2col
				defer func() { convDataIm2col = false }()
				for b.Loop() {
					ConvBackwardData(dx, dy, w, g, &ws)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkConvKernels times the MNIST CNN's convolution passes (batch
// 100, both layers) with each AVX-512 kernel forced, so that convKernel's
// choice per shape can be checked on the machine at hand.
func BenchmarkConvKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, g := range []ConvGeom{
		{N: 100, C: 1, H: 28, W: 28, K: 32, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 100, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2},
	} {
		flops := 2 * float64(g.N*g.K*g.OutH()*g.OutW()*g.C*g.R*g.S)
		x := randSlice(rng, g.N*g.C*g.H*g.W)
		w := randSlice(rng, g.K*g.C*g.R*g.S)
		bias := randSlice(rng, g.K)
		dy := randSlice(rng, g.N*g.K*g.OutH()*g.OutW())
		y, dx, dw, db := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w)), make([]float32, g.K)
		for _, pass := range []struct {
			name string
			f    func(ws *ConvWork)
		}{
			{"forward", func(ws *ConvWork) { ConvForwardBias(y, x, w, bias, g, ws) }},
			{"data", func(ws *ConvWork) { ConvBackwardData(dx, dy, w, g, ws) }},
			{"filter", func(ws *ConvWork) { ConvBackwardFilterBias(dw, db, dy, x, g, ws) }},
		} {
			for _, name := range append([]string{"auto"}, Kernels()...) {
				if name != "auto" && !strings.HasPrefix(name, "avx512") {
					continue
				}
				b.Run(fmt.Sprintf("c%dk%d/%s/%s", g.C, g.K, pass.name, name), func(b *testing.B) {
					var ws ConvWork
					if name != "auto" {
						prev, err := SetKernel(name)
						if err != nil {
							b.Skip(err)
						}
						defer SetKernel(prev)
					}
					for b.Loop() {
						pass.f(&ws)
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
