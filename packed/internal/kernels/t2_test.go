package kernels

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
)

// checkT2 runs GemmT2 on x [m, ldx] and the ternary w [n, k] and compares
// every column up to Pad16(n) (and the untouched ones past it) with GemmRef.
func checkT2(t *testing.T, threads, m, n, k, ldx int, x []uint8, w []int8) {
	t.Helper()
	ldc := Pad16(n) + 16
	want := make([]int32, m*ldc)
	GemmRef(m, n, k, x, ldx, w, k, want, ldc)
	w2 := make([]uint8, T2Len(n, k))
	PackT2(w2, w, n, k)
	got := make([]int32, m*ldc)
	for i := range got {
		got[i] = -7
	}
	GemmT2(threads, m, n, k, x, ldx, w2, got, ldc)
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			wv := int32(-7)
			switch {
			case j < n:
				wv = want[i*ldc+j]
			case j < Pad16(n):
				wv = 0
			}
			if got[i*ldc+j] != wv {
				t.Fatalf("%s threads=%d m=%d n=%d k=%d ldx=%d: c[%d,%d]=%d, want %d", Selected(), threads, m, n, k, ldx, i, j, got[i*ldc+j], wv)
			}
		}
	}
}

func TestGemmT2MatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	ms := []int{1, 2, 3, 4, 5, 8, 17}
	nks := []struct{ n, k int }{
		{1, 1}, {3, 3}, {17, 17}, {16, 16}, {64, 64}, {65, 129}, {129, 33}, {10, 1024}, {200, 300}, {1, 129}, {1040, 4096}, // the last one splits over goroutines from 2 rows on
	}
	for _, name := range Available() {
		prev, err := Force(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			for _, s := range nks {
				if m > 2 && s.n*s.k >= 1<<22 {
					continue // the big shape once or twice is enough
				}
				ldx := Pad16(s.k) + 16*r.IntN(2)
				x, w := randProblem(r, m, s.n, s.k, ldx, 255, 1)
				// Whatever lies past k in a row must not matter.
				for i := 0; i < m; i++ {
					for p := s.k; p < ldx; p++ {
						x[i*ldx+p] = uint8(r.IntN(256))
					}
				}
				threads := 1 + r.IntN(2)
				if m*s.n*s.k >= 1<<23 {
					threads = 2
				}
				checkT2(t, threads, m, s.n, s.k, ldx, x, w)
			}
		}
		Force(prev)
	}
}

// TestGemmT2Extremes: all activations 255 or 0 against all +1 or all -1
// codes fill the AVX2 kernels' int16 blocks to their bounds (the one-row
// kernel's sums of x-128 reach -32768 with x = 0 and code +1); big enough
// shapes run several goroutines.
func TestGemmT2Extremes(t *testing.T) {
	for _, name := range Available() {
		prev, _ := Force(name)
		for _, c := range []int8{1, -1, 0} {
			for _, sz := range []struct{ m, n, k, x int }{{1, 130, 2048, 255}, {1, 130, 2048, 0}, {7, 64, 1024, 255}, {7, 64, 1024, 0}, {100, 256, 784, 255}} {
				x := make([]uint8, sz.m*Pad16(sz.k))
				for i := range x {
					x[i] = uint8(sz.x)
				}
				w := make([]int8, sz.n*sz.k)
				for i := range w {
					w[i] = c
				}
				t.Run(fmt.Sprintf("%s/code%d/x%d/%dx%dx%d", name, c, sz.x, sz.m, sz.n, sz.k), func(t *testing.T) {
					checkT2(t, 0, sz.m, sz.n, sz.k, Pad16(sz.k), x, w)
				})
			}
		}
		Force(prev)
	}
}

func TestPackT2RejectsNonTernary(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("PackT2 accepted code 2")
		}
	}()
	PackT2(make([]uint8, T2Len(1, 4)), []int8{0, 1, 2, -1}, 1, 4)
}

func TestGemmT2PanicsOnShortRowStride(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("GemmT2 accepted ldx < Pad16(k)")
		}
	}()
	GemmT2(1, 1, 1, 17, make([]uint8, 32), 20, make([]uint8, T2Len(1, 17)), make([]int32, 16), 16)
}

// TestPackT2Totals: after the panels PackT2 stores every column's sum of
// u = code+1 (k for a padded column) as little-endian int32.
func TestPackT2Totals(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	for _, s := range []struct{ n, k int }{{1, 1}, {3, 17}, {17, 3}, {16, 16}, {129, 65}} {
		_, w := randProblem(r, 1, s.n, s.k, Pad16(s.k), 255, 1)
		w2 := make([]uint8, T2Len(s.n, s.k))
		PackT2(w2, w, s.n, s.k)
		tail := w2[T2Tail(s.n, s.k):]
		if len(tail) != 4*Pad16(s.n) {
			t.Fatalf("n=%d k=%d: %d tail bytes, want %d", s.n, s.k, len(tail), 4*Pad16(s.n))
		}
		for j := 0; j < Pad16(s.n); j++ {
			want := s.k
			if j < s.n {
				want = 0
				for q := 0; q < s.k; q++ {
					want += int(w[j*s.k+q]) + 1
				}
			}
			got := int(binary.LittleEndian.Uint32(tail[4*j:]))
			if got != want {
				t.Fatalf("n=%d k=%d: column %d total %d, want %d", s.n, s.k, j, got, want)
			}
		}
	}
}

// BenchmarkGemvT2 is the ternary GEMV [1x2048]x[2048x2048] on one and
// two threads, against the byte layout's one-row Gemv on the same codes,
// and on one thread against its Gemm (which pads to 4 rows).
func BenchmarkGemvT2(b *testing.B) {
	const n, k = 2048, 2048
	r := rand.New(rand.NewPCG(5, 5))
	x, w := randProblem(r, 4, n, k, k, 255, 1)
	w2 := make([]uint8, T2Len(n, k))
	PackT2(w2, w, n, k)
	wp := make([]int8, PackedLen(n, k))
	PackW(wp, w, n, k)
	c := make([]int32, 4*n)
	gmacs := func(b *testing.B) {
		b.ReportMetric(float64(n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
	}
	for _, name := range Available() {
		prev, _ := Force(name)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("t2_%s/threads=%d", name, threads), func(b *testing.B) {
				for b.Loop() {
					GemmT2(threads, 1, n, k, x, k, w2, c, n)
				}
				gmacs(b)
			})
			b.Run(fmt.Sprintf("gemv_%s/threads=%d", name, threads), func(b *testing.B) {
				for b.Loop() {
					Gemv(threads, 2*255, n, k, x, wp, c)
				}
				gmacs(b)
			})
		}
		b.Run("byte_"+name, func(b *testing.B) {
			for b.Loop() {
				Gemm(1, 2*255, 4, n, k, x, k, wp, c, n)
			}
			gmacs(b)
		})
		Force(prev)
	}
}

// BenchmarkGemmT2Batch is [100x1024]x[1024x1024] on one and two threads, T2 against
// the 8-bit layout on the same ternary codes.
func BenchmarkGemmT2Batch(b *testing.B) {
	const m, n, k = 100, 1024, 1024
	r := rand.New(rand.NewPCG(5, 5))
	x, w := randProblem(r, m, n, k, k, 255, 1)
	w2 := make([]uint8, T2Len(n, k))
	PackT2(w2, w, n, k)
	wp := make([]int8, PackedLen(n, k))
	PackW(wp, w, n, k)
	c := make([]int32, m*n)
	for _, name := range Available()[1:] {
		prev, _ := Force(name)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("t2_%s/threads=%d", name, threads), func(b *testing.B) {
				for b.Loop() {
					GemmT2(threads, m, n, k, x, k, w2, c, n)
				}
				b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
			b.Run(fmt.Sprintf("byte_%s/threads=%d", name, threads), func(b *testing.B) {
				for b.Loop() {
					Gemm(threads, 2*255, m, n, k, x, k, wp, c, n)
				}
				b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
		Force(prev)
	}
}
