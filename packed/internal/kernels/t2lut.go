package kernels

import (
	"encoding/binary"
	"runtime"
	"sync"
)

// The pure-Go T2 kernel looks sums up instead of multiplying (as T-MAC
// does). In the T2 layout, byte t of column j in group g holds the digits
// u in {0, 1, 2} of the four weights at k = 16g+4s+t, s = 0..3, two bits
// each: it is an index into a table of the 3^4 = 81 sums
//
//	T_gt[d0 + 4*d1 + 16*d2 + 64*d3] = sum_s d_s * x[16g+4s+t]
//
// built once per activation row (81 additions) and shared by every output
// column, which then needs one lookup per 4 weights. Four rows share one
// lookup: a table entry is a 64-bit word of four 16-bit lanes, one per row
// (a lane is at most 4*255*2 = 2040, so 32 lookups fit a lane, unsigned).
// Tables are built for lutGroups groups at a time (16 tables of 256 words,
// 32 KiB: about one L1 cache), the column sums of two such blocks are
// kept as 64-bit words and then widened into the int32 outputs.

// lutGroups is the number of 16-weight groups one block of tables covers.
const lutGroups = 4

// lutSpan is the number of blocks whose lookups a lane holds before it is
// widened: 2 blocks of lutGroups*4 lookups of at most 2040.
const lutSpan = 2

type lutScratch struct {
	tabs [lutGroups * 4][256]uint64
	acc  []uint64 // [Pad16(n)] four rows' lane sums per column
	xs   []uint64 // [Pad16(k)] four rows' activations per k, one lane each
}

var lutPool sync.Pool // *lutScratch

func init() { t2Go.gemm = t2LUT }

// t2LUT is GemmT2 for the pure-Go kernel (arguments checked by GemmT2).
func t2LUT(threads, m, n, k int, x []uint8, ldx int, w2 []uint8, c []int32, ldc int, neg []int32) {
	np := Pad16(n) / 16
	workers := threads
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if work := m * np * 16 * Pad16(k); work < 1<<20 || workers < 2 {
		workers = 1
	}
	if workers = min(workers, np); workers == 1 {
		t2LUTPanels(0, np, m, n, k, x, ldx, w2, c, ldc, neg) // no closure to allocate
		return
	}
	parallel(workers, np, func(p0, p1 int) {
		t2LUTPanels(p0, p1, m, n, k, x, ldx, w2, c, ldc, neg)
	})
}

// t2LUTPanels computes panels [p0, p1) of every row, four rows at a time.
func t2LUTPanels(p0, p1, m, n, k int, x []uint8, ldx int, w2 []uint8, c []int32, ldc int, neg []int32) {
	s, _ := lutPool.Get().(*lutScratch)
	if s == nil {
		s = new(lutScratch)
	}
	kq, g := Pad16(k), Pad16(k)/16
	if cap(s.acc) < Pad16(n) || cap(s.xs) < kq {
		s.acc, s.xs = make([]uint64, Pad16(n)), make([]uint64, kq)
	}
	acc, xs := s.acc[:Pad16(n)], s.xs[:kq]
	for r0 := 0; r0 < m; r0 += 4 {
		rows := min(4, m-r0)
		clear(xs)
		for l := 0; l < rows; l++ {
			for q, v := range x[(r0+l)*ldx : (r0+l)*ldx+k] {
				xs[q] |= uint64(v) << (16 * l)
			}
			for j := p0 * 16; j < p1*16; j++ {
				c[(r0+l)*ldc+j] = neg[r0+l]
			}
		}
		clear(acc[p0*16 : p1*16])
		for b, g0 := 0, 0; g0 < g; b, g0 = b+1, g0+lutGroups {
			gb := min(lutGroups, g-g0)
			s.build(xs[16*g0 : 16*(g0+gb)])
			for p := p0; p < p1; p++ {
				lutPanel(&s.tabs, acc[p*16:p*16+16], w2[p*g*64+g0*64:p*g*64+(g0+gb)*64])
			}
			if b%lutSpan == lutSpan-1 || g0+gb >= g {
				widen(c[r0*ldc:], ldc, rows, acc, p0*16, p1*16)
			}
		}
	}
	lutPool.Put(s)
}

// build fills tables 4*gl+t (gl < len(xs)/16, t < 4) with the sums of
// the activations xs[16*gl+4*s+t], s = 0..3, as in the comment above.
// Entries with a digit 3 are never read (T2 digits are 0..2).
func (s *lutScratch) build(xs []uint64) {
	for gl := 0; gl < len(xs)/16; gl++ {
		for t := 0; t < 4; t++ {
			tab := &s.tabs[4*gl+t]
			x0, x1, x2, x3 := xs[16*gl+t], xs[16*gl+4+t], xs[16*gl+8+t], xs[16*gl+12+t]
			var s3 uint64
			for d3 := 0; d3 < 3; d3++ {
				s2 := s3
				for d2 := 0; d2 < 3; d2++ {
					s1 := s2
					for d1 := 0; d1 < 3; d1++ {
						i := uint8(d3<<6 | d2<<4 | d1<<2)
						tab[i] = s1
						tab[i+1] = s1 + x0
						tab[i+2] = s1 + 2*x0
						s1 += x1
					}
					s2 += x2
				}
				s3 += x3
			}
		}
	}
}

// lutPanel adds to acc[jj] (the 16 columns of one panel) the lookups of
// the groups in w (64 bytes per group, at most lutGroups groups).
func lutPanel(tabs *[lutGroups * 4][256]uint64, acc []uint64, w []uint8) {
	acc = acc[:16]
	if len(w) == 64*lutGroups {
		for jj := range acc {
			v0 := binary.LittleEndian.Uint32(w[jj*4:])
			v1 := binary.LittleEndian.Uint32(w[64+jj*4:])
			v2 := binary.LittleEndian.Uint32(w[128+jj*4:])
			v3 := binary.LittleEndian.Uint32(w[192+jj*4:])
			acc[jj] += tabs[0][uint8(v0)] + tabs[1][uint8(v0>>8)] + tabs[2][uint8(v0>>16)] + tabs[3][uint8(v0>>24)] +
				tabs[4][uint8(v1)] + tabs[5][uint8(v1>>8)] + tabs[6][uint8(v1>>16)] + tabs[7][uint8(v1>>24)] +
				tabs[8][uint8(v2)] + tabs[9][uint8(v2>>8)] + tabs[10][uint8(v2>>16)] + tabs[11][uint8(v2>>24)] +
				tabs[12][uint8(v3)] + tabs[13][uint8(v3>>8)] + tabs[14][uint8(v3>>16)] + tabs[15][uint8(v3>>24)]
		}
		return
	}
	for gl := 0; gl < len(w)/64; gl++ {
		t := tabs[4*gl : 4*gl+4]
		for jj := range acc {
			v := binary.LittleEndian.Uint32(w[64*gl+jj*4:])
			acc[jj] += t[0][uint8(v)] + t[1][uint8(v>>8)] + t[2][uint8(v>>16)] + t[3][uint8(v>>24)]
		}
	}
}

// widen adds the four 16-bit lanes of acc[j0:j1] to rows 0..rows-1 of c
// (stride ldc) and clears acc.
func widen(c []int32, ldc, rows int, acc []uint64, j0, j1 int) {
	for l := 0; l < rows; l++ {
		row := c[l*ldc+j0 : l*ldc+j1]
		sh := uint(16 * l)
		for j, a := range acc[j0:j1] {
			row[j] += int32(a >> sh & 0xffff)
		}
	}
	clear(acc[j0:j1])
}
