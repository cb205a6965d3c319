package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestConvPackT8 checks convPackT8 against its definition for segment
// lengths around the 8-pixel groups, several row strides and scattered
// tap offsets, and that it writes nothing outside its n rows of 8 lanes.
func TestConvPackT8(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	xb := randSlice(rng, 300)
	offs := []int32{0, 1, 2, 17, 40, 41, 99, 250 - 40}
	for _, ldd := range []int{8, 12, 14, 16, 28} {
		for _, base := range []int{0, 3} {
			for n := 1; n <= 33; n++ {
				dst := make([]float32, (n+1)*ldd+8)
				for i := range dst {
					dst[i] = -7
				}
				convPackT8(dst[3:], ldd, xb, base, offs, n)
				for k, v := range dst {
					want := float32(-7)
					if k >= 3 {
						if j, i := (k-3)/ldd, (k-3)%ldd; j < n && i < 8 {
							want = xb[base+int(offs[i])+j]
						}
					}
					if v != want {
						t.Fatalf("ldd %d base %d n %d: dst[%d] = %g, want %g", ldd, base, n, k, v, want)
					}
				}
			}
		}
	}
}

// filterGeoms are stride-1 geometries for the filter gradient packed from
// the padded image: the MNIST CNN's layers, output widths below, at and
// across the 8-pixel groups and the K panels, odd sizes, no padding.
func filterGeoms() []ConvGeom {
	return []ConvGeom{
		{N: 3, C: 1, H: 28, W: 28, K: 32, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 5, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 1, C: 1, H: 1, W: 1, K: 1, R: 1, S: 1, Stride: 1},
		{N: 2, C: 3, H: 17, W: 17, K: 17, R: 3, S: 3, Stride: 1, Pad: 1},
		{N: 2, C: 17, H: 5, W: 3, K: 129, R: 1, S: 1, Stride: 1},
		{N: 1, C: 2, H: 9, W: 7, K: 8, R: 7, S: 3, Stride: 1, Pad: 3},
		{N: 2, C: 5, H: 29, W: 31, K: 3, R: 2, S: 4, Stride: 1},
	}
}

// TestPackConvATMatchesPrepackA checks, bit for bit, that packConvAT
// packs what prepackA packs from the explicit col (A slivers of mr rows)
// and what prepackB packs from col^T (B slivers of nr columns), with its
// row of ones, for every kernel it serves, with and without the bias row.
func TestPackConvATMatchesPrepackA(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 32))
	checked := 0
	for _, kern := range kernels {
		for _, g := range filterGeoms() {
			for _, filterT := range []bool{true, false} {
				if !g.usePackT(kern, filterT) {
					continue
				}
				for _, bias := range []bool{false, true} {
					name := fmt.Sprintf("%s %+v filterT=%v bias=%v", kern.name, g, filterT, bias)
					checkPackConvAT(t, rng, name, g, kern, filterT, bias)
					checked++
				}
			}
		}
	}
	if (hasPackAVX512 || useFMA) && checked == 0 {
		t.Fatal("no kernel packs the filter gradient from the padded image")
	}
	t.Logf("%d packings checked", checked)
}

// checkPackConvAT packs col of a random image both ways (see
// TestPackConvATMatchesPrepackA) and compares the bits; B-form packs take
// at most kern.nc taps (runFilterPackT packs convFilterBCols at a time).
func checkPackConvAT(t *testing.T, rng *rand.Rand, name string, g ConvGeom, kern *microKernel, filterT, bias bool) {
	t.Helper()
	x := randSlice(rng, g.C*g.H*g.W)
	ohw, crs := g.OutH()*g.OutW(), g.C*g.R*g.S
	m := crs
	if bias {
		m++
	}
	col := make([]float32, m*ohw)
	im2colRef(col[:crs*ohw], x, g)
	for i := crs * ohw; i < len(col); i++ {
		col[i] = 1
	}
	w := packTWidth(kern, filterT)
	var want []float32
	if filterT {
		want = prepackA(kern, nil, false, col, ohw, m, ohw)
	} else {
		m = min(m, kern.nc)
		want = prepackB(kern, nil, true, col, ohw, ohw, m)
	}
	fx := convFilterBuf(nil, g)
	n := g.C * (g.H + 2*g.Pad) * (g.W + 2*g.Pad)
	copy(fx, padImage(nil, x, g))
	for i := range fx[n*3:] {
		fx[n*3+i] = float32(i) // slack: whatever it holds
	}
	toffs := convFilterOffsets(nil, convTapOffsets(nil, g), m, w, g)
	garbage := aligned(nil, len(want))
	for i := range garbage {
		garbage[i] = 7
	}
	got := packConvAT(garbage, fx, toffs, g, kern, w)
	sameBits(t, name, got[:len(want)], want)
}

// TestConvFilterPackT checks the filter gradient packed from the padded
// image against the direct loops and against the im2col form, with every
// kernel and 1 and 2 threads, with and without the bias gradient.
func TestConvFilterPackT(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(33, 33))
		var ws ConvWork
		for _, g := range filterGeoms() {
			for _, th := range []int{1, 2} {
				prev := SetThreads(th)
				name := fmt.Sprintf("%+v threads=%d", g, th)
				ohw := g.OutH() * g.OutW()
				x := randSlice(rng, g.N*g.C*g.H*g.W)
				dy := randSlice(rng, g.N*g.K*ohw)
				nw := g.K * g.C * g.R * g.S
				dw, dwr := randSlice(rng, nw), make([]float32, nw)
				ConvBackwardFilter(dw, dy, x, g, &ws)
				ConvBackwardFilterRef(dwr, dy, x, g)
				checkClose(t, "backward filter "+name, dw, dwr, g.N*ohw)
				dwb, db := randSlice(rng, nw), randSlice(rng, g.K)
				ConvBackwardFilterBias(dwb, db, dy, x, g, &ws)
				sameBits(t, "ConvBackwardFilterBias dw "+name, dwb, dw)
				convFilterIm2col = true
				dwi, dbi := randSlice(rng, nw), randSlice(rng, g.K)
				ConvBackwardFilterBias(dwi, dbi, dy, x, g, &ws)
				convFilterIm2col = false
				checkClose(t, "im2col form dw "+name, dwi, dw, g.N*ohw)
				checkClose(t, "im2col form db "+name, dbi, db, g.N*ohw)
				SetThreads(prev)
			}
		}
	})
}

// BenchmarkConvFilter times ConvBackwardFilterBias on the MNIST CNN's
// layers (batch 100) with A packed from the padded image and through
// im2col, taking turns.
func BenchmarkConvFilter(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, g := range []ConvGeom{
		{N: 100, C: 1, H: 28, W: 28, K: 32, R: 5, S: 5, Stride: 1, Pad: 2},
		{N: 100, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2},
	} {
		flops := 2 * float64(g.N*g.K*g.OutH()*g.OutW()*g.C*g.R*g.S)
		x := randSlice(rng, g.N*g.C*g.H*g.W)
		dy := randSlice(rng, g.N*g.K*g.OutH()*g.OutW())
		dw, db := make([]float32, g.K*g.C*g.R*g.S), make([]float32, g.K)
		for _, th := range []int{1, 2} {
			for _, im2col := range []bool{false, true} {
				name := "packed"
				if im2col {
					name = "im2col"
				}
				b.Run(fmt.Sprintf("c%dk%d/%s/threads%d", g.C, g.K, name, th), func(b *testing.B) {
					var ws ConvWork
					prev := SetThreads(th)
					defer SetThreads(prev)
					convFilterIm2col = im2col
					defer func() { convFilterIm2col = false }()
					for b.Loop() {
						ConvBackwardFilterBias(dw, db, dy, x, g, &ws)
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
