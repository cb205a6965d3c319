package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// randProblem returns activations [m, ldx] and weights [n, k] drawn within
// the documented no-saturation bounds (xmax, wmax).
func randProblem(r *rand.Rand, m, n, k, ldx, xmax, wmax int) ([]uint8, []int8) {
	x := make([]uint8, m*ldx)
	for i := range x {
		x[i] = uint8(r.IntN(xmax + 1))
	}
	w := make([]int8, n*k)
	for i := range w {
		w[i] = int8(r.IntN(2*wmax+1) - wmax)
	}
	return x, w
}

func TestGemmMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	sizes := []struct{ m, n, k int }{
		{4, 1, 1}, {4, 3, 3}, {8, 17, 17}, {12, 16, 4}, {4, 64, 64}, {20, 65, 129},
		{100, 10, 1024}, {8, 129, 33}, {0, 5, 5}, {4, 7, 0}, {16, 200, 300}, {8, 300, 501}, // the last one is big enough for several goroutines
	}
	bounds := []struct{ xmax, wmax int }{{255, 1}, {255, 63}, {127, 127}}
	for _, name := range Available() {
		prev, err := Force(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, sz := range sizes {
			for _, b := range bounds {
				ldx := Pad4(sz.k) + 4*r.IntN(2)
				x, w := randProblem(r, sz.m, sz.n, sz.k, ldx, b.xmax, b.wmax)
				// Garbage in the k..ldx tail must not matter.
				for i := 0; i < sz.m; i++ {
					for p := sz.k; p < ldx; p++ {
						x[i*ldx+p] = 255
					}
				}
				ldc := Pad16(sz.n) + 16
				want := make([]int32, sz.m*ldc)
				GemmRef(sz.m, sz.n, sz.k, x, ldx, w, sz.k, want, ldc)
				wp := make([]int8, PackedLen(sz.n, sz.k))
				PackW(wp, w, sz.n, sz.k)
				got := make([]int32, sz.m*ldc)
				for i := range got {
					got[i] = -1
				}
				pairMax := 0
				if r.IntN(2) == 0 {
					pairMax = 2 * b.xmax * b.wmax // exact bound: int16 blocks as long as possible
				}
				Gemm(1+r.IntN(3)-1, pairMax, sz.m, sz.n, sz.k, x, ldx, wp, got, ldc)
				for i := 0; i < sz.m; i++ {
					for j := 0; j < Pad16(sz.n); j++ {
						wv := int32(0)
						if j < sz.n {
							wv = want[i*ldc+j]
						}
						if got[i*ldc+j] != wv {
							t.Fatalf("%s m=%d n=%d k=%d bounds=%v: c[%d,%d]=%d, want %d", name, sz.m, sz.n, sz.k, b, i, j, got[i*ldc+j], wv)
						}
					}
					for j := Pad16(sz.n); j < ldc; j++ {
						if got[i*ldc+j] != -1 {
							t.Fatalf("%s m=%d n=%d k=%d: wrote past column %d", name, sz.m, sz.n, sz.k, Pad16(sz.n))
						}
					}
				}
			}
		}
		if _, err := Force(prev); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVNNIFullRange checks the one kernel that must not saturate with full
// u8 x s8 operands.
func TestVNNIFullRange(t *testing.T) {
	prev, err := Force(NameVNNI)
	if err != nil {
		t.Skip(err)
	}
	defer Force(prev)
	r := rand.New(rand.NewPCG(3, 3))
	m, n, k := 8, 70, 131
	x, w := randProblem(r, m, n, k, Pad4(k), 255, 127)
	want := make([]int32, m*Pad16(n))
	GemmRef(m, n, k, x, Pad4(k), w, k, want, Pad16(n))
	wp := make([]int8, PackedLen(n, k))
	PackW(wp, w, n, k)
	got := make([]int32, m*Pad16(n))
	Gemm(0, 0, m, n, k, x, Pad4(k), wp, got, Pad16(n))
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if got[i*Pad16(n)+j] != want[i*Pad16(n)+j] {
				t.Fatalf("c[%d,%d]=%d, want %d", i, j, got[i*Pad16(n)+j], want[i*Pad16(n)+j])
			}
		}
	}
}

func TestForceUnknown(t *testing.T) {
	if _, err := Force("sse9"); err == nil {
		t.Fatal("Force accepted an unknown kernel")
	}
}

func TestGemmPanicsOnBadShape(t *testing.T) {
	defer func() {
		if e := recover(); e == nil {
			t.Fatal("no panic for m not a multiple of MR")
		}
	}()
	Gemm(0, 0, 3, 16, 4, make([]uint8, 12), 4, make([]int8, PackedLen(16, 4)), make([]int32, 48), 16)
}

// BenchmarkGemm runs the MLP hidden-layer shape (batch 100, 1024x1024) and
// the first layer (784 -> 1024) with every available kernel.
func BenchmarkGemm(b *testing.B) {
	shapes := []struct {
		class   string
		m, n, k int
	}{{"L1_100x784x1024", 100, 1024, 784}, {"L2_100x1024x1024", 100, 1024, 1024}, {"S_100x1024x10", 100, 10, 1024}}
	for _, name := range Available() {
		for _, s := range shapes {
			for _, s16 := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/%s_int16blocks%v", s.class, name, s16), func(b *testing.B) {
					prev, _ := Force(name)
					defer Force(prev)
					r := rand.New(rand.NewPCG(1, 1))
					x, w := randProblem(r, s.m, s.n, s.k, Pad4(s.k), 255, 1)
					wp := make([]int8, PackedLen(s.n, s.k))
					PackW(wp, w, s.n, s.k)
					c := make([]int32, s.m*Pad16(s.n))
					pairMax := 0
					if s16 {
						pairMax = 2 * 255 * 1
					}
					b.ResetTimer()
					for b.Loop() {
						Gemm(0, pairMax, s.m, s.n, s.k, x, Pad4(s.k), wp, c, Pad16(s.n))
					}
					b.ReportMetric(float64(2*s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
				})
			}
		}
	}
}

// wideGo is a 4-panel kernel built from the portable one: it lets this test
// exercise Gemm's 4-panel dispatch (used by VNNI) on any CPU.
func wideGo(x *uint8, ldx uintptr, w *int8, pstride uintptr, k4 uintptr, c *int32, ldc uintptr) {
	ws := unsafe.Slice(w, 3*int(pstride)+int(k4)*64)
	cs := unsafe.Slice(c, 3*int(ldc)+64)
	for q := 0; q < 4; q++ {
		kern4x16Go(x, ldx, &ws[q*int(pstride)], k4, &cs[q*16], ldc)
	}
}

func TestGemmWideDispatch(t *testing.T) {
	saved := current
	defer func() { current = saved }()
	current = impl{name: "go-wide", narrow: kern4x16Go, wide: wideGo}
	r := rand.New(rand.NewPCG(9, 9))
	for _, sz := range []struct{ m, n, k int }{{4, 64, 8}, {8, 65, 17}, {12, 129, 33}, {4, 200, 5}, {8, 300, 501}} {
		x, w := randProblem(r, sz.m, sz.n, sz.k, Pad4(sz.k), 255, 127)
		ldc := Pad16(sz.n)
		want := make([]int32, sz.m*ldc)
		GemmRef(sz.m, sz.n, sz.k, x, Pad4(sz.k), w, sz.k, want, ldc)
		wp := make([]int8, PackedLen(sz.n, sz.k))
		PackW(wp, w, sz.n, sz.k)
		for _, threads := range []int{1, 2} {
			got := make([]int32, sz.m*ldc)
			Gemm(threads, 0, sz.m, sz.n, sz.k, x, Pad4(sz.k), wp, got, ldc)
			for i := 0; i < sz.m; i++ {
				for j := 0; j < sz.n; j++ {
					if got[i*ldc+j] != want[i*ldc+j] {
						t.Fatalf("%v threads %d: c[%d,%d]=%d, want %d", sz, threads, i, j, got[i*ldc+j], want[i*ldc+j])
					}
				}
			}
		}
	}
}
