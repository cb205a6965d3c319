package kernels

import (
	"fmt"
	"sync"
)

// gemvImpl holds the one-row kernel of an instruction set on PackW's
// layout: v4 computes C[1, 64] from one activation row and 4 consecutive
// panels pstride bytes apart (k4 steps each).
type gemvImpl struct {
	v4 func(x *uint8, w *int8, pstride uintptr, k4 uintptr, c *int32)
}

// gemvAsm maps kernel names to their one-row kernels (filled by the
// architecture's file).
var gemvAsm = map[string]gemvImpl{}

// GemvNative reports whether the selected kernel has a one-row kernel;
// Gemv runs Gemm on a padded 4-row block otherwise.
func GemvNative() bool {
	return selected().hasGemv
}

// Gemv computes one row, c[j] = sum_p x[p] * W[j, p] for j < Pad16(n),
// p < k, where wp is W packed by PackW: the first row of Gemm's result for
// a block whose first row is x, read with each weight loaded once instead
// of once per 4 rows. Columns n..Pad16(n)-1 come out zero. Preconditions
// (programming errors, panic): len(x) >= Pad4(k), len(c) >= Pad16(n),
// len(wp) == PackedLen(n, k), and the pair bound of Gemm's documentation;
// threads and pairMax are Gemm's.
func Gemv(threads, pairMax, n, k int, x []uint8, wp []int8, c []int32) {
	kp, np := Pad4(k), Pad16(n)/16
	switch {
	case len(wp) != PackedLen(n, k):
		panic(fmt.Sprintf("kernels: Gemv packed weights [%d, %d] need %d bytes, have %d", n, k, PackedLen(n, k), len(wp)))
	case len(x) < kp || len(c) < np*16:
		panic(fmt.Sprintf("kernels: Gemv [1, %d]x[%d, %d]: x has %d bytes, c %d ints, too short", k, k, n, len(x), len(c)))
	}
	if n == 0 {
		return
	}
	if kp == 0 {
		clear(c[:np*16])
		return
	}
	ker, s := current, selected()
	if !s.hasGemv {
		xp, cp := getUint8s(MR*kp), getInt32s(MR*np*16)
		xb, cb := (*xp)[:MR*kp], (*cp)[:MR*np*16]
		clear(xb)
		copy(xb, x[:kp])
		Gemm(threads, pairMax, MR, n, k, xb, kp, wp, cb, np*16)
		copy(c, cb[:np*16])
		putUint8s(xp)
		putInt32s(cp)
		return
	}
	groups := (np + 3) / 4
	workers := splitWorkers(threads, np*16*kp, groups)
	if workers == 1 {
		gemvRun(ker, s.gemv, kp/4, np, 0, groups, x, wp, c)
		return
	}
	j := gemvJobFree.Get().(*gemvJob)
	*j = gemvJob{ker: ker, g: s.gemv, k4: kp / 4, np: np, x: x, wp: wp, c: c}
	runSplit(j, groups, workers)
	*j = gemvJob{}
	gemvJobFree.Put(j)
}

// gemvJob is a Gemv call split over helpers (helpers.go).
type gemvJob struct {
	ker    impl
	g      gemvImpl
	k4, np int
	x      []uint8
	wp     []int8
	c      []int32
}

var gemvJobFree = sync.Pool{New: func() any { return new(gemvJob) }}

func (j *gemvJob) runGroups(q0, q1 int) { gemvRun(j.ker, j.g, j.k4, j.np, q0, q1, j.x, j.wp, j.c) }

// gemvRun computes the panel groups [q0, q1) (4 panels each); a group of
// fewer panels runs the 4-row kernel with all rows reading x (ldx 0).
func gemvRun(ker impl, g gemvImpl, k4, np, q0, q1 int, x []uint8, wp []int8, c []int32) {
	pstride := k4 * 64
	for q := q0; q < q1; q++ {
		p0, p1 := 4*q, min(4*q+4, np)
		if p1-p0 == 4 {
			g.v4(&x[0], &wp[p0*pstride], uintptr(pstride), uintptr(k4), &c[p0*16])
			continue
		}
		tb := getInt32s(MR * 16) // a stack array would escape
		tmp := (*tb)[:MR*16]
		for p := p0; p < p1; p++ {
			ker.narrow(&x[0], 0, &wp[p*pstride], uintptr(k4), &tmp[0], 16)
			copy(c[p*16:p*16+16], tmp[:16])
		}
		putInt32s(tb)
	}
}
