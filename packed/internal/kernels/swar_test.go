package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestSWARMatchesRef checks the pure-Go SWAR GEMM against GemmRef over odd
// sizes, both lane widths (a small pair bound selects 16-bit lanes, none
// or a large one 21-bit lanes), full-range operands, all-zero rows among
// live ones (skipped), and 1 and 2 goroutines.
func TestSWARMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	cases := []struct {
		xmax, wmax, pairMax int
	}{
		{255, 1, 2 * 255 * 1},   // ternary: 16-bit lanes, long blocks
		{255, 3, 2 * 255 * 3},   // 3-bit: 16-bit lanes
		{255, 63, 2 * 255 * 63}, // 21-bit lanes
		{127, 127, 2 * 127 * 127},
		{255, 128, 0}, // no promise: any uint8 x int8, including -128
	}
	for _, sz := range []struct{ m, n, k int }{
		{4, 1, 1}, {4, 3, 3}, {4, 17, 17}, {8, 129, 129}, {12, 16, 4}, {20, 65, 129},
		{64, 33, 300}, {100, 10, 1024}, {16, 300, 501},
	} {
		for _, tc := range cases {
			ldx := Pad4(sz.k) + 4*r.IntN(2)
			x, w := randProblem(r, sz.m, sz.n, sz.k, ldx, tc.xmax, tc.wmax)
			if tc.wmax == 128 {
				for i := range w {
					w[i] = int8(r.IntN(256) - 128)
				}
			}
			for i := 0; i < sz.m; i++ {
				if r.IntN(3) == 0 { // an all-zero row, but garbage in its k..ldx tail
					clear(x[i*ldx : i*ldx+sz.k])
				}
				for p := sz.k; p < ldx; p++ {
					x[i*ldx+p] = 255
				}
			}
			ldc := Pad16(sz.n) + 16
			want := make([]int32, sz.m*ldc)
			GemmRef(sz.m, sz.n, sz.k, x, ldx, w, sz.k, want, ldc)
			wp := make([]int8, PackedLen(sz.n, sz.k))
			PackW(wp, w, sz.n, sz.k)
			for _, threads := range []int{1, 2} {
				got := make([]int32, sz.m*ldc)
				for i := range got {
					got[i] = -7
				}
				gemmSWAR(threads, tc.pairMax, sz.m, sz.n, sz.k, x, ldx, wp, got, ldc)
				for i := 0; i < sz.m; i++ {
					for j := 0; j < ldc; j++ {
						wv := int32(-7)
						if j < sz.n {
							wv = want[i*ldc+j]
						} else if j < Pad16(sz.n) {
							wv = 0
						}
						if got[i*ldc+j] != wv {
							t.Fatalf("%v %+v threads %d: c[%d,%d] = %d, want %d", sz, tc, threads, i, j, got[i*ldc+j], wv)
						}
					}
				}
			}
		}
	}
}

// TestSWARLanes checks the block lengths: every decoded lane sum stays
// within its signed field.
func TestSWARLanes(t *testing.T) {
	for _, pm := range []int{0, 1, 2, 510, 1530, 3570, 16383, 16384, 32258, 32640, 65280} {
		lanes, bits, span := swarLanes(pm)
		if span < 4 || span%4 != 0 {
			t.Fatalf("pairMax %d: span %d", pm, span)
		}
		bound := pm
		if pm == 0 || pm > 2*255*128 {
			bound = 2 * 255 * 128
		}
		if int64(span/2)*int64(bound) >= int64(1)<<(bits-1) || lanes*int(bits) > 64 {
			t.Fatalf("pairMax %d: %d lanes of %d bits, span %d overflows", pm, lanes, bits, span)
		}
	}
}

// TestT2LUTLaneBound: the lookups summed in a 16-bit lane between two
// widenings (lutSpan blocks of lutGroups groups, 4 per group) stay below
// 2^16 at the largest entry, 4 activations of 255 times the digit 2.
func TestT2LUTLaneBound(t *testing.T) {
	if n := lutSpan * lutGroups * 4; n*4*255*2 > 0xffff {
		t.Fatalf("%d lookups of up to %d overflow a 16-bit lane", n, 4*255*2)
	}
}
