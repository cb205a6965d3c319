package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// pixGeoms are stride-1 geometries for the pixel-major paths: the MNIST
// CNN's layers, output widths that are and are not multiples of the
// kernels' mr (slivers inside one output row and across rows), odd sizes.
func pixGeoms() []ConvGeom {
	return []ConvGeom{
		{N: 2, C: 1, H: 28, W: 28, K: 32, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 3, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 1, C: 1, H: 1, W: 1, K: 1, R: 1, S: 1, Stride: 1},
		{N: 3, C: 3, H: 17, W: 17, K: 17, R: 3, S: 3, Stride: 1, Pad: 1},
		{N: 1, C: 3, H: 3, W: 17, K: 3, R: 3, S: 1, Stride: 1, Pad: 0},
		{N: 2, C: 17, H: 5, W: 3, K: 129, R: 1, S: 1, Stride: 1},
		{N: 2, C: 2, H: 9, W: 7, K: 8, R: 7, S: 3, Stride: 1, Pad: 3},
	}
}

// im2colT returns col^T [OH*OW, CRS] of image x by the reference im2col.
func im2colT(x []float32, g ConvGeom) []float32 {
	ohw, crs := g.OutH()*g.OutW(), g.C*g.R*g.S
	col := make([]float32, crs*ohw)
	im2colRef(col, x, g)
	t := make([]float32, len(col))
	for p := 0; p < crs; p++ {
		for q := 0; q < ohw; q++ {
			t[q*crs+p] = col[p*ohw+q]
		}
	}
	return t
}

// TestPackConvAMatchesPrepackA checks, bit for bit, that packConvA packs
// from the padded image what prepackA packs from the explicit col^T, for
// every kernel with a sliver packer, over the pixel-major geometries.
func TestPackConvAMatchesPrepackA(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, kern := range kernels {
		for _, g := range pixGeoms() {
			if !hasConvPix(kern.mr, g.OutW()) {
				continue
			}
			x := randSlice(rng, g.C*g.H*g.W)
			ohw, crs := g.OutH()*g.OutW(), g.C*g.R*g.S
			want := prepackA(kern, nil, false, im2colT(x, g), crs, ohw, crs)
			xp := padImage(nil, x, g)
			garbage := aligned(nil, len(want))
			for i := range garbage {
				garbage[i] = 7
			}
			got := packConvA(garbage, xp, convTapOffsets(nil, g), g, kern)
			sameBits(t, fmt.Sprintf("%s %+v", kern.name, g), got, want)
		}
	}
}

// TestConvPixMatchesRef checks the convolutions on the pixel-major
// geometries against the direct loops, with every kernel and 1 and 2
// threads, and ConvBackwardFilterBias: dw bit for bit ConvBackwardFilter's,
// db against the plain per-channel sum of dy.
func TestConvPixMatchesRef(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(12, 12))
		var ws ConvWork
		for _, g := range pixGeoms() {
			for _, th := range []int{1, 2} {
				prev := SetThreads(th)
				name := fmt.Sprintf("%+v threads=%d", g, th)
				ohw, crs := g.OutH()*g.OutW(), g.C*g.R*g.S
				x := randSlice(rng, g.N*g.C*g.H*g.W)
				w := randSlice(rng, g.K*crs)
				bias := randSlice(rng, g.K)
				dy := randSlice(rng, g.N*g.K*ohw)

				y, yr := randSlice(rng, len(dy)), make([]float32, len(dy))
				ConvForwardBias(y, x, w, bias, g, &ws)
				ConvForwardRef(yr, x, w, g)
				AddBiasChannels(yr, bias, g.N, g.K, ohw)
				checkClose(t, "forward "+name, y, yr, crs)

				dw, dwr := randSlice(rng, len(w)), make([]float32, len(w))
				ConvBackwardFilter(dw, dy, x, g, &ws)
				ConvBackwardFilterRef(dwr, dy, x, g)
				checkClose(t, "backward filter "+name, dw, dwr, g.N*ohw)

				dwb, db := randSlice(rng, len(w)), randSlice(rng, g.K)
				ConvBackwardFilterBias(dwb, db, dy, x, g, &ws)
				sameBits(t, "ConvBackwardFilterBias dw "+name, dwb, dw)
				dbr := make([]float32, g.K)
				for n := 0; n < g.N; n++ {
					for k := 0; k < g.K; k++ {
						for _, v := range dy[(n*g.K+k)*ohw : (n*g.K+k+1)*ohw] {
							dbr[k] += v
						}
					}
				}
				checkClose(t, "ConvBackwardFilterBias db "+name, db, dbr, g.N*ohw)
				SetThreads(prev)
			}
		}
	})
}

// TestConvBiasThreadsBitIdentical checks that ConvForwardBias and
// ConvBackwardFilterBias give the same bits for 1, 2 and 3 threads.
func TestConvBiasThreadsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	g := ConvGeom{N: 7, C: 3, H: 17, W: 17, K: 16, R: 5, S: 5, Stride: 1, Pad: 2}
	ohw := g.OutH() * g.OutW()
	x := randSlice(rng, g.N*g.C*g.H*g.W)
	w := randSlice(rng, g.K*g.C*g.R*g.S)
	bias := randSlice(rng, g.K)
	dy := randSlice(rng, g.N*g.K*ohw)
	var want [3][]float32
	for _, th := range []int{1, 2, 3} {
		prev := SetThreads(th)
		var ws ConvWork
		y, dw, db := make([]float32, len(dy)), make([]float32, len(w)), make([]float32, g.K)
		ConvForwardBias(y, x, w, bias, g, &ws)
		ConvBackwardFilterBias(dw, db, dy, x, g, &ws)
		SetThreads(prev)
		if th == 1 {
			want = [3][]float32{y, dw, db}
			continue
		}
		sameBits(t, fmt.Sprintf("forward threads=%d", th), y, want[0])
		sameBits(t, fmt.Sprintf("filter threads=%d", th), dw, want[1])
		sameBits(t, fmt.Sprintf("bias threads=%d", th), db, want[2])
	}
}

// TestIm2colPaddedMatchesRef checks im2colPadded and col2imPadded bit for
// bit against the reference loops on the stride-1 geometries, outputs
// pre-filled with garbage.
func TestIm2colPaddedMatchesRef(t *testing.T) {
	if !hasConvPack(16) {
		t.Skip("no masked-move kernels on this CPU")
	}
	rng := rand.New(rand.NewPCG(14, 14))
	gs := append(pixGeoms(),
		ConvGeom{N: 1, C: 3, H: 17, W: 33, K: 1, R: 3, S: 5, Stride: 1, Pad: 2},
		ConvGeom{N: 1, C: 2, H: 3, W: 3, K: 1, R: 3, S: 3, Stride: 1, Pad: 4},
		ConvGeom{N: 1, C: 2, H: 9, W: 17, K: 1, R: 3, S: 3, Stride: 1})
	for _, g := range gs {
		if !g.usePadded() {
			continue
		}
		n := g.C * g.R * g.S * g.OutH() * g.OutW()
		x := randSlice(rng, g.C*g.H*g.W)
		offs, rows := convTapOffsets(nil, g), convRowOffsets(nil, g)
		col, colRef := randSlice(rng, n), make([]float32, n)
		im2colPadded(col, padImage(nil, x, g), offs, rows, g)
		im2colRef(colRef, x, g)
		sameBits(t, fmt.Sprintf("im2colPadded %+v", g), col, colRef)

		c := randSlice(rng, n)
		dx, dxRef := randSlice(rng, len(x)), make([]float32, len(x))
		col2imPadded(dx, c, g.OutH()*g.OutW(), randSlice(rng, 5), offs, rows, g)
		col2imRef(dxRef, c, g)
		sameBits(t, fmt.Sprintf("col2imPadded %+v", g), dx, dxRef)
	}
}

// TestConvKernel checks convKernel's choice: the active kernel when one is
// set, and in auto mode never more padded work than the active kernel's
// and only a kernel of its family or altKernel.
func TestConvKernel(t *testing.T) {
	// A kernel whose name is not auto mode's (without a second kernel,
	// auto mode is named after kernels[0]).
	set := kernels[len(kernels)-1]
	prev, err := SetKernel(set.name)
	if err != nil {
		t.Fatal(err)
	}
	if k := convKernel(784, 32); k != set {
		t.Errorf("with %s set: convKernel = %s", set.name, k.name)
	}
	SetKernel("auto")
	defer SetKernel(prev)
	kern := active.Load()
	for _, s := range [][2]int{{784, 32}, {196, 64}, {26, 32}, {801, 64}, {800, 392}, {1, 1}, {17, 129}} {
		k := convKernel(s[0], s[1])
		work := func(k *microKernel) int {
			return (s[0] + k.mr - 1) / k.mr * k.mr * ((s[1] + k.nr - 1) / k.nr * k.nr)
		}
		if work(k) > work(kern) {
			t.Errorf("%v: convKernel = %s pads to %d, more than %s's %d", s, k.name, work(k), kern.name, work(kern))
		}
		if k != altKernel && familyOf(k.name) != familyOf(kern.name) {
			t.Errorf("%v: convKernel = %s, not of %s's family", s, k.name, kern.name)
		}
	}
}

// TestConvFilterWithoutAVX512Pack checks the filter gradient's other
// orientation (dw = dy * col^T, taken on CPUs without the AVX-512 sliver
// packers) against the direct loops and the bias gradient's plain sum.
func TestConvFilterWithoutAVX512Pack(t *testing.T) {
	prev := hasPackAVX512
	hasPackAVX512 = false
	defer func() { hasPackAVX512 = prev }()
	rng := rand.New(rand.NewPCG(16, 16))
	var ws ConvWork
	for _, g := range pixGeoms() {
		ohw, crs := g.OutH()*g.OutW(), g.C*g.R*g.S
		x := randSlice(rng, g.N*g.C*g.H*g.W)
		dy := randSlice(rng, g.N*g.K*ohw)
		dw, dwr, db := randSlice(rng, g.K*crs), make([]float32, g.K*crs), randSlice(rng, g.K)
		ConvBackwardFilterBias(dw, db, dy, x, g, &ws)
		ConvBackwardFilterRef(dwr, dy, x, g)
		checkClose(t, fmt.Sprintf("filter %+v", g), dw, dwr, g.N*ohw)
		dw2 := randSlice(rng, g.K*crs)
		ConvBackwardFilter(dw2, dy, x, g, &ws)
		sameBits(t, fmt.Sprintf("filter with and without db %+v", g), dw2, dw)
		dbr := make([]float32, g.K)
		for n := 0; n < g.N; n++ {
			for k := 0; k < g.K; k++ {
				for _, v := range dy[(n*g.K+k)*ohw : (n*g.K+k+1)*ohw] {
					dbr[k] += v
				}
			}
		}
		checkClose(t, fmt.Sprintf("bias %+v", g), db, dbr, g.N*ohw)
	}
}
