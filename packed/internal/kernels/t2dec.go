package kernels

import "sync"

// GemmT2's decoded path (VNNI). From t2DecRows rows on, the T2 panels
// are decoded, 4 panels and t2DecGroups groups at a time, into PackW's
// byte layout holding u = code+1 ((b >> 2s) & 3 is step 4g+s, t2.go) in
// a small per-goroutine scratch that stays in L1 while a 4-row VPDPBUSD
// kernel runs over it for every row block, its sums starting at -sum x
// as the direct T2 kernels' do (see doc.go, "Kernel rule"). u = 0 past
// k, so the activations there never count.

// t2DecRows is the row count from which GemmT2 runs the decoded path
// (when the kernel has one), set for the host CPU by the architecture's
// file (t2DecRowsFor): on Intel below 16 rows the direct kernels win
// (BenchmarkGemmT2Paths, [m x 1024]x[1024 x 1024], direct / decoded /
// byte layout: 8 rows 256 / 244 / 179 G multiply-adds/s, 16 rows 259 /
// 295 / 263). A variable so that tests can move it.
var t2DecRows = 16

// t2DecGroups is the number of 16-wide groups of k decoded at a time:
// 32 groups (k = 512) of 4 panels are a 32 KiB block, in L1 with the
// activations' broadcasts.
var t2DecGroups = 32

// t2dec holds the decoded path's kernels of one instruction set.
type t2dec struct {
	// decode writes ng groups of one T2 panel as 4*ng steps of PackW's
	// layout holding u (256 bytes a group).
	decode func(dst *uint8, w *uint8, ng uintptr)
	// x64 computes C[4, 64] over 4 decoded panels pstride bytes apart,
	// ng groups (4*ng steps) each, starting row r at neg[r], or adding
	// to C if neg is nil.
	x64 func(x *uint8, ldx uintptr, w *uint8, pstride uintptr, ng uintptr, c *int32, ldc uintptr, neg *int32)
}

// t2DecAsm maps kernel names to their decoded-path kernels (filled by the
// architecture's file).
var t2DecAsm = map[string]t2dec{}

// t2DecodeGo is the portable decode (the reference of the assembly one).
func t2DecodeGo(dst []uint8, w []uint8, ng int) {
	for g := 0; g < ng; g++ {
		for s := 0; s < 4; s++ {
			for b := 0; b < 64; b++ {
				dst[g*256+s*64+b] = w[g*64+b] >> (2 * s) & 3
			}
		}
	}
}

var t2DecPool sync.Pool

// t2DecRun computes the panel groups [q0, q1) (4 panels each) for rows
// [0, m4) (m4 a multiple of 4) on the decoded path; g is the group count
// of a panel; neg holds the rows' -sum x. A partial group of panels runs
// t2run.
func t2DecRun(d t2dec, k t2impl, m4, g, np, q0, q1 int, x []uint8, ldx int, w2 []uint8, c []int32, ldc int, neg []int32) {
	pstride := g * 64 // T2 bytes a panel
	bg := min(t2DecGroups, g)
	sp, ok := t2DecPool.Get().(*[]uint8)
	if !ok || len(*sp) < 4*bg*256 {
		b := make([]uint8, 4*bg*256)
		sp = &b
	}
	buf := *sp
	for q := q0; q < q1; q++ {
		p0 := 4 * q
		if p0+4 > np {
			t2run(k, m4, g, np, q, q+1, x, ldx, w2, c, ldc, neg, 0) // whole row blocks: no one-row operands
			continue
		}
		for g0 := 0; g0 < g; g0 += bg {
			ng := min(bg, g-g0)
			bstride := ng * 256
			for j := 0; j < 4; j++ {
				blk := buf[j*bstride : (j+1)*bstride]
				d.decode(&blk[0], &w2[(p0+j)*pstride+g0*64], uintptr(ng))
			}
			for i := 0; i < m4; i += 4 {
				var start *int32 // first block: start at -sum x
				if g0 == 0 {
					start = &neg[i]
				}
				d.x64(&x[i*ldx+g0*16], uintptr(ldx), &buf[0], uintptr(bstride), uintptr(ng), &c[i*ldc+p0*16], uintptr(ldc), start)
			}
		}
	}
	t2DecPool.Put(sp)
}
