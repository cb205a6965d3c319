package kernels

import "sync"

// GemmT2's decoded path (VNNI). From t2DecRows rows on, the T2 panels
// are decoded, 4 panels and t2DecGroups groups at a time, into PackW's
// signed byte layout in a small per-goroutine scratch ((b >> 2s) & 3 - 1
// is step 4g+s, t2.go) that stays in L1 while the byte layout's 4-row
// kernel runs over it for every row block (see doc.go, "Kernel rule").

// t2DecRows is the row count from which GemmT2 runs the decoded path
// (when the kernel has one): below it the direct kernels win (8 rows of
// [1024x1024]: direct 257, decoded 220-238, byte layout 201 G
// multiply-adds/s; 16 rows: 259, 270-287, 273). A variable so that tests
// can move it.
var t2DecRows = 16

// t2DecGroups is the number of 16-wide groups of k decoded at a time:
// 32 groups (k = 512) of 4 panels are a 32 KiB block, in L1 with the
// activations' broadcasts.
var t2DecGroups = 32

// t2dec holds the decoded path's kernels of one instruction set.
type t2dec struct {
	// decode writes ng groups of one T2 panel as 4*ng steps of PackW's
	// layout (256 bytes a group).
	decode func(dst *int8, w *uint8, ng uintptr)
	// x64 computes C[4, 64] over 4 decoded panels pstride bytes apart,
	// ng groups (4*ng steps) each, adding to C if acc != 0.
	x64 func(x *uint8, ldx uintptr, w *int8, pstride uintptr, ng uintptr, c *int32, ldc uintptr, acc uintptr)
}

// t2DecAsm maps kernel names to their decoded-path kernels (filled by the
// architecture's file).
var t2DecAsm = map[string]t2dec{}

// t2DecodeGo is the portable decode (the reference of the assembly one).
func t2DecodeGo(dst []int8, w []uint8, ng int) {
	for g := 0; g < ng; g++ {
		for s := 0; s < 4; s++ {
			for b := 0; b < 64; b++ {
				dst[g*256+s*64+b] = int8(w[g*64+b]>>(2*s)&3) - 1
			}
		}
	}
}

// t2DecPad zeroes the decoded codes of k positions k..Pad16(k)-1 in the
// decoded last group last [256] of a panel (T2 holds u = 0 there, which
// decodes to -1).
func t2DecPad(last []int8, k int) {
	for q := k % 16; q > 0 && q < 16; q++ {
		for j := 0; j < 16; j++ {
			last[(q/4)*64+j*4+q%4] = 0
		}
	}
}

var t2DecPool sync.Pool

// t2DecRun computes the panel groups [q0, q1) (4 panels each) for rows
// [0, m4) (m4 a multiple of 4) on the decoded path; g is the group count
// of a panel. A partial group of panels runs t2run (neg holds the rows'
// -sum x).
func t2DecRun(d t2dec, k t2impl, m4, kk, g, np, q0, q1 int, x []uint8, ldx int, w2 []uint8, c []int32, ldc int, neg []int32) {
	pstride := g * 64 // T2 bytes a panel
	bg := min(t2DecGroups, g)
	sp, ok := t2DecPool.Get().(*[]int8)
	if !ok || len(*sp) < 4*bg*256 {
		b := make([]int8, 4*bg*256)
		sp = &b
	}
	buf := *sp
	for q := q0; q < q1; q++ {
		p0 := 4 * q
		if p0+4 > np {
			t2run(k, m4, g, np, q, q+1, x, ldx, w2, c, ldc, neg)
			continue
		}
		for g0 := 0; g0 < g; g0 += bg {
			ng := min(bg, g-g0)
			bstride := ng * 256
			for j := 0; j < 4; j++ {
				blk := buf[j*bstride : (j+1)*bstride]
				d.decode(&blk[0], &w2[(p0+j)*pstride+g0*64], uintptr(ng))
				if g0+ng == g {
					t2DecPad(blk[(ng-1)*256:], kk)
				}
			}
			acc := uintptr(0)
			if g0 > 0 {
				acc = 1
			}
			for i := 0; i < m4; i += 4 {
				d.x64(&x[i*ldx+g0*16], uintptr(ldx), &buf[0], uintptr(bstride), uintptr(ng), &c[i*ldc+p0*16], uintptr(ldc), acc)
			}
		}
	}
	t2DecPool.Put(sp)
}
