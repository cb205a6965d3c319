package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestT2DecodeIsPackW: the decoded T2 panels are PackW's layout of the
// same codes plus 1 for k positions below k, and 0 from k on (to
// Pad16(k)), with the Go and the assembly decoders.
func TestT2DecodeIsPackW(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	decoders := map[string]func(dst []uint8, src []uint8, ng int){"go": t2DecodeGo}
	if d, ok := t2DecAsm[NameVNNI]; ok && hasVNNI() {
		decoders["asm"] = func(dst []uint8, src []uint8, ng int) { d.decode(&dst[0], &src[0], uintptr(ng)) }
	}
	for _, s := range []struct{ n, k int }{{1, 1}, {3, 3}, {17, 17}, {16, 16}, {33, 129}, {10, 784}, {64, 1024}} {
		_, w := randProblem(r, 1, s.n, s.k, s.k, 255, 1)
		w2 := make([]uint8, T2Len(s.n, s.k))
		PackT2(w2, w, s.n, s.k)
		wp := make([]int8, PackedLen(s.n, s.k))
		PackW(wp, w, s.n, s.k)
		g, kp := Pad16(s.k)/16, Pad4(s.k)
		for name, decode := range decoders {
			for p := 0; p < Pad16(s.n)/16; p++ {
				got := make([]uint8, g*256)
				decode(got, w2[p*g*64:(p+1)*g*64], g)
				want := make([]uint8, g*256)
				for i := range want {
					if q := i/64*4 + i%4; q < s.k {
						want[i] = uint8(wp[p*kp*16+i] + 1)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s n=%d k=%d panel %d: decoded T2 differs from PackW + 1", name, s.n, s.k, p)
				}
			}
		}
	}
}

// TestGemmT2DecodedMatchesRef runs GemmT2's decoded path (from 1 row on,
// several block lengths of k) and the direct one around the threshold
// against GemmRef, on odd shapes, garbage past k in the rows, and one and
// two threads.
func TestGemmT2DecodedMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	prevRows, prevGroups := t2DecRows, t2DecGroups
	defer func() { t2DecRows, t2DecGroups = prevRows, prevGroups }()
	nks := []struct{ n, k int }{{1, 1}, {3, 3}, {17, 17}, {64, 64}, {65, 129}, {129, 33}, {10, 1024}, {256, 784}, {130, 300}}
	for _, name := range Available() {
		prev, err := Force(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, cfg := range []struct{ rows, groups int }{{1, 1}, {1, 3}, {1, 16}, {T2MinBytesRows, 16}, {1 << 30, 16}} {
			t2DecRows, t2DecGroups = cfg.rows, cfg.groups
			for _, m := range []int{1, 3, 4, 7, 8, 9, 17, 129} {
				for _, s := range nks {
					if m > 17 && s.n*s.k > 1<<16 {
						continue
					}
					ldx := Pad16(s.k) + 16*r.IntN(2)
					x, w := randProblem(r, m, s.n, s.k, ldx, 255, 1)
					for i := 0; i < m; i++ {
						for p := s.k; p < ldx; p++ {
							x[i*ldx+p] = uint8(r.IntN(256))
						}
					}
					checkT2(t, 1+r.IntN(2), m, s.n, s.k, ldx, x, w)
				}
			}
		}
		// Two goroutines over the decoded path (8M multiply-adds and up).
		t2DecRows, t2DecGroups = prevRows, prevGroups
		x, w := randProblem(r, 100, 320, 784, 784+16, 255, 1)
		checkT2(t, 2, 100, 320, 784, 784+16, x, w)
		Force(prev)
	}
}

// BenchmarkGemmT2Paths times the three ways to compute m rows of a
// ternary layer, taking turns call by call over 4 layers (so that PackW's
// 1-byte codes stream from L3, as in a network) and keeping each one's
// fastest call: GemmT2's direct kernels, its decoded path (VNNI) and Gemm
// on PackW's layout with the ternary pair bound. One thread.
func BenchmarkGemmT2Paths(b *testing.B) {
	prevRows := t2DecRows
	defer func() { t2DecRows = prevRows }()
	for _, sz := range []struct{ m, n, k int }{{8, 1024, 1024}, {16, 1024, 1024}, {52, 1024, 1024}, {100, 1024, 784}, {100, 1024, 1024}, {100, 2048, 2048}} {
		m, n, k := sz.m, sz.n, sz.k
		r := rand.New(rand.NewPCG(5, 5))
		x, _ := randProblem(r, Pad4(m), n, k, Pad16(k), 255, 1)
		const layers = 4
		var w2s [layers][]uint8
		var wps [layers][]int8
		for l := range layers {
			_, w := randProblem(r, 1, n, k, k, 255, 1)
			w2s[l] = make([]uint8, T2Len(n, k))
			PackT2(w2s[l], w, n, k)
			wps[l] = make([]int8, PackedLen(n, k))
			PackW(wps[l], w, n, k)
		}
		c := make([]int32, Pad4(m)*n)
		for _, name := range Available()[1:] {
			prev, _ := Force(name)
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, name), func(b *testing.B) {
				paths := []struct {
					name string
					run  func(l int)
				}{
					{"direct", func(l int) { t2DecRows = 1 << 30; GemmT2(1, m, n, k, x, Pad16(k), w2s[l], c, n) }},
					{"decoded", func(l int) { t2DecRows = 1; GemmT2(1, m, n, k, x, Pad16(k), w2s[l], c, n) }},
					{"bytes", func(l int) { Gemm(1, 2*255, Pad4(m), n, k, x, Pad16(k), wps[l], c, n) }},
				}
				best := make([]time.Duration, len(paths))
				l := 0
				for b.Loop() {
					for i, p := range paths {
						start := time.Now()
						p.run(l)
						if d := time.Since(start); best[i] == 0 || d < best[i] {
							best[i] = d
						}
					}
					l = (l + 1) % layers
				}
				for i, p := range paths {
					b.ReportMetric(float64(m*n*k)/best[i].Seconds()/1e9, p.name+"-GMAC/s")
				}
			})
			Force(prev)
		}
	}
}
