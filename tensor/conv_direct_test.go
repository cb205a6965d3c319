package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestConvDirectMatchesPacked checks the pixel-major forward that reads A
// straight from the padded image (forwardDirect) bit for bit against the
// packed path (packConvA and the same kernel), forward and data gradient
// (run as a forward convolution), over output rows of one and of several
// slivers, one and several K panels and B slivers, with and without
// padding. It fails when the direct path does not run where it should.
func TestConvDirectMatchesPacked(t *testing.T) {
	kern := findKernel("avx512-14x32")
	if kern == nil || !convDirectKernel(kern) {
		t.Skip("no direct convolution kernel on this CPU")
	}
	prev, err := SetKernel(kern.name)
	if err != nil {
		t.Fatal(err)
	}
	defer SetKernel(prev)
	rng := rand.New(rand.NewPCG(21, 21))
	var ws ConvWork
	for _, g := range []ConvGeom{
		{N: 2, C: 1, H: 28, W: 28, K: 32, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 3, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 2, C: 64, H: 14, W: 14, K: 32, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 1, C: 3, H: 3, W: 16, K: 96, R: 3, S: 3, Stride: 1, Pad: 0},
		{N: 1, C: 17, H: 1, W: 14, K: 32, R: 1, S: 1, Stride: 1},
	} {
		if !g.useDirect(kern) {
			t.Fatalf("%+v: direct path not taken", g)
		}
		directForwardCheck(t, rng, &ws, g, fmt.Sprintf("%+v", g))
	}
}

// TestConvDirectFilterMatchesPacked checks the transposed filter gradient
// that reads col straight from the padded image (filterDirect) bit for
// bit against col packed by im2col (the same kernel), with and without
// the bias gradient, for each kernel with a direct form (AVX-512 6×64r,
// AVX2 6×16, the latter also as on a CPU without AVX-512), over K panels
// that end inside an output row, several B slivers and a last sliver of
// fewer than 6 rows.
func TestConvDirectFilterMatchesPacked(t *testing.T) {
	prevK, prevAuto, prevPack := active.Load(), autoMode.Load(), hasPackAVX512
	defer func() { active.Store(prevK); autoMode.Store(prevAuto); hasPackAVX512 = prevPack }()
	ran := 0
	for _, kern := range kernels {
		for _, pack := range []bool{prevPack, false} {
			hasPackAVX512 = pack
			if !convDirectFilterKernel(kern) || pack == false && !useFMA {
				continue
			}
			ran++
			active.Store(kern)
			autoMode.Store(false)
			directFilterCheck(t, kern, fmt.Sprintf("%s hasPackAVX512=%v", kern.name, pack))
		}
	}
	if ran == 0 {
		t.Skip("no direct filter-gradient kernel on this CPU")
	}
}

// directFilterCheck runs TestConvDirectFilterMatchesPacked's comparisons
// with kern active.
func directFilterCheck(t *testing.T, kern *microKernel, what string) {
	rng := rand.New(rand.NewPCG(22, 22))
	var ws ConvWork
	for _, g := range []ConvGeom{
		{N: 3, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 2, C: 3, H: 5, W: 9, K: 64, R: 3, S: 3, Stride: 1, Pad: 1},
		{N: 3, C: 8, H: 20, W: 20, K: 128, R: 3, S: 3, Stride: 1, Pad: 1},
		{N: 1, C: 1, H: 1, W: 1, K: 64, R: 1, S: 1, Stride: 1},
	} {
		crs := g.C * g.R * g.S
		if !g.useDirectFilter(kern) || !filterTransposed(g, crs, g.K) {
			t.Fatalf("%s %+v: direct filter gradient not taken", what, g)
		}
		for _, th := range []int{1, 2} {
			prevT := SetThreads(th)
			name := fmt.Sprintf("%s %+v threads=%d", what, g, th)
			ohw := g.OutH() * g.OutW()
			x := randSlice(rng, g.N*g.C*g.H*g.W)
			dy := randSlice(rng, g.N*g.K*ohw)
			dw, dwp := make([]float32, g.K*crs), make([]float32, g.K*crs)
			db, dbp := make([]float32, g.K), make([]float32, g.K)
			ConvBackwardFilterBias(dw, db, dy, x, g, &ws)
			convPackAlways = true
			ConvBackwardFilterBias(dwp, dbp, dy, x, g, &ws)
			convPackAlways = false
			sameBits(t, "filter gradient "+name, dw, dwp)
			sameBits(t, "bias gradient "+name, db, dbp)
			ConvBackwardFilter(dw, dy, x, g, &ws)
			convPackAlways = true
			ConvBackwardFilter(dwp, dy, x, g, &ws)
			convPackAlways = false
			sameBits(t, "filter gradient without bias "+name, dw, dwp)
			dwr := make([]float32, len(dw))
			ConvBackwardFilterRef(dwr, dy, x, g)
			checkClose(t, "filter gradient vs reference "+name, dw, dwr, g.N*ohw)
			SetThreads(prevT)
		}
	}
}

// TestDirectFilterOr checks that auto mode takes the direct filter-gradient
// kernel over a first kernel that pads the MNIST CNN's second layer to
// more work (as 14×32 is first on Sapphire Rapids and Zen 4), and keeps a
// pinned kernel.
func TestDirectFilterOr(t *testing.T) {
	direct, emb := findKernel("avx512-6x64r"), findKernel("avx512-14x32")
	if direct == nil || emb == nil || !convDirectFilterKernel(direct) {
		t.Skip("no direct filter-gradient kernel on this CPU")
	}
	g := ConvGeom{N: 1, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2}
	crs := g.C * g.R * g.S
	prev, _ := SetKernel("auto")
	defer SetKernel(prev)
	best := active.Load()
	defer active.Store(best)
	active.Store(emb)
	if k := directFilterOr(emb, g, crs); k != direct {
		t.Errorf("auto mode: directFilterOr = %s, want %s", k.name, direct.name)
	}
	if k := directFilterOr(emb, ConvGeom{N: 1, C: 1, H: 28, W: 28, K: 32, R: 5, S: 5, Stride: 1, Pad: 2}, 25); k != emb {
		t.Errorf("K = 32: directFilterOr = %s, want %s", k.name, emb.name)
	}
	SetKernel(emb.name)
	if k := directFilterOr(emb, g, crs); k != emb {
		t.Errorf("pinned %s: directFilterOr = %s", emb.name, k.name)
	}
}

// TestDirectOr checks that auto mode leaves a kernel without a direct form
// for one with it that pads no more, where convDirectSwitch allows it,
// keeps a kernel that has one, and keeps a pinned kernel.
func TestDirectOr(t *testing.T) {
	plain, reg := findKernel("avx512-8x48r"), findKernel("avx512-6x64r")
	if plain == nil || reg == nil || convPixDirect(reg) == 0 {
		t.Skip("no direct convolution kernel on this CPU")
	}
	g := ConvGeom{N: 1, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2}
	work := func(k *microKernel) int { return roundUp(196, k.mr) * roundUp(64, k.nr) }
	prev, _ := SetKernel("auto")
	defer SetKernel(prev)
	k := directOr(plain, g)
	switch {
	case !convDirectSwitch() && k != plain:
		t.Errorf("directOr(%s) = %s without convDirectSwitch", plain.name, k.name)
	case convDirectSwitch() && (!g.useDirect(k) || work(k) > work(plain)):
		t.Errorf("directOr(%s) = %s: no direct form, or pads more", plain.name, k.name)
	}
	if k := directOr(reg, g); k != reg {
		t.Errorf("directOr(%s) = %s, want itself (it has a direct form)", reg.name, k.name)
	}
	SetKernel(plain.name)
	if autoMode.Load() {
		t.Fatalf("SetKernel(%s) left auto mode on", plain.name)
	}
	if k := directOr(plain, g); k != plain {
		t.Errorf("pinned %s: directOr = %s", plain.name, k.name)
	}
}

// TestConvPixDirectMatchesPacked checks the 6-row kernels' pixel-pointer
// direct forward (forwardPixDirect) bit for bit against the packed path
// with the same kernel, forward and data gradient, over slivers that span
// output rows, a last partial sliver, output channels that are not a
// multiple of nr, one and several K panels, 1 and 2 threads.
func TestConvPixDirectMatchesPacked(t *testing.T) {
	prevK, prevAuto := active.Load(), autoMode.Load()
	defer func() { active.Store(prevK); autoMode.Store(prevAuto) }()
	ran := 0
	for _, kern := range kernels {
		if convPixDirect(kern) == 0 {
			continue
		}
		ran++
		active.Store(kern)
		autoMode.Store(false)
		rng := rand.New(rand.NewPCG(24, 24))
		var ws ConvWork
		for _, g := range []ConvGeom{
			{N: 3, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2},
			{N: 2, C: 1, H: 28, W: 28, K: 32, R: 5, S: 5, Stride: 1, Pad: 2},
			{N: 2, C: 5, H: 7, W: 9, K: 17, R: 3, S: 3, Stride: 1, Pad: 1},
			{N: 1, C: 3, H: 1, W: 1, K: 70, R: 1, S: 1, Stride: 1},
			{N: 2, C: 64, H: 9, W: 11, K: 129, R: 3, S: 3, Stride: 1, Pad: 1},
		} {
			if !g.useDirect(kern) {
				t.Fatalf("%s %+v: direct path not taken", kern.name, g)
			}
			directForwardCheck(t, rng, &ws, g, fmt.Sprintf("%s %+v", kern.name, g))
		}
	}
	if ran == 0 {
		t.Skip("no pixel-pointer direct kernel on this CPU")
	}
}

// directForwardCheck compares the forward and the data gradient of g with
// the direct paths against convPackAlways (bit for bit) and the forward
// against the reference loops, on 1 and 2 threads.
func directForwardCheck(t *testing.T, rng *rand.Rand, ws *ConvWork, g ConvGeom, what string) {
	t.Helper()
	for _, th := range []int{1, 2} {
		prevT := SetThreads(th)
		name := fmt.Sprintf("%s threads=%d", what, th)
		crs, ohw := g.C*g.R*g.S, g.OutH()*g.OutW()
		x := randSlice(rng, g.N*g.C*g.H*g.W)
		w := randSlice(rng, g.K*crs)
		bias := randSlice(rng, g.K)
		y, yp := make([]float32, g.N*g.K*ohw), make([]float32, g.N*g.K*ohw)
		ConvForwardBias(y, x, w, bias, g, ws)
		convPackAlways = true
		ConvForwardBias(yp, x, w, bias, g, ws)
		convPackAlways = false
		sameBits(t, "forward "+name, y, yp)
		yr := make([]float32, len(y))
		ConvForwardRef(yr, x, w, g)
		AddBiasChannels(yr, bias, g.N, g.K, ohw)
		checkClose(t, "forward vs reference "+name, y, yr, crs)

		dy := randSlice(rng, len(y))
		dx, dxp := make([]float32, len(x)), make([]float32, len(x))
		ConvBackwardData(dx, dy, w, g, ws)
		convPackAlways = true
		ConvBackwardData(dxp, dy, w, g, ws)
		convPackAlways = false
		sameBits(t, "data gradient "+name, dx, dxp)
		SetThreads(prevT)
	}
}
