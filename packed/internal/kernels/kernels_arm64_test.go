//go:build arm64 && !purego

package kernels

import (
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestArm64Available: every arm64 CPU has the NEON kernel; the SDOT one
// exactly when the CPU reports FEAT_DotProd, and then it is selected.
// The log line names the kernels (scripts/arm64-check.sh reads it).
func TestArm64Available(t *testing.T) {
	got := Available()
	t.Logf("kernels: %v selected %s", got, Selected())
	if !slices.Contains(got, NameNEON) {
		t.Errorf("Available() = %v lacks %s", got, NameNEON)
	}
	if slices.Contains(got, NameDotProd) != cpu.ARM64.HasASIMDDP {
		t.Errorf("Available() = %v, HasASIMDDP %v", got, cpu.ARM64.HasASIMDDP)
	}
	if want := got[len(got)-1]; Selected() != want {
		t.Errorf("Selected() = %s, want %s", Selected(), want)
	}
}

// TestDotProdFullRange: the SDOT kernel needs no pair bound: full u8 x s8
// operands, odd sizes.
func TestDotProdFullRange(t *testing.T) {
	prev, err := Force(NameDotProd)
	if err != nil {
		t.Skip(err)
	}
	defer Force(prev)
	r := rand.New(rand.NewPCG(5, 5))
	for _, sz := range []struct{ m, n, k int }{{4, 1, 1}, {4, 3, 3}, {8, 17, 17}, {8, 129, 129}, {12, 70, 1031}} {
		x := make([]uint8, sz.m*Pad4(sz.k))
		for i := range x {
			x[i] = uint8(r.IntN(256))
		}
		w := make([]int8, sz.n*sz.k)
		for i := range w {
			w[i] = int8(r.IntN(256) - 128)
		}
		ldc := Pad16(sz.n)
		want := make([]int32, sz.m*ldc)
		GemmRef(sz.m, sz.n, sz.k, x, Pad4(sz.k), w, sz.k, want, ldc)
		wp := make([]int8, PackedLen(sz.n, sz.k))
		PackW(wp, w, sz.n, sz.k)
		got := make([]int32, sz.m*ldc)
		Gemm(1, 0, sz.m, sz.n, sz.k, x, Pad4(sz.k), wp, got, ldc)
		for i := 0; i < sz.m; i++ {
			for j := 0; j < sz.n; j++ {
				if got[i*ldc+j] != want[i*ldc+j] {
					t.Fatalf("%v: c[%d,%d] = %d, want %d", sz, i, j, got[i*ldc+j], want[i*ldc+j])
				}
			}
		}
	}
}
