package kernels

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The T2 layout holds ternary codes c in {-1, 0, +1} four to a byte as the
// unsigned u = c+1 in {0, 1, 2} (see doc.go, "Ternary layout"):
//
//	panel p (columns 16p .. 16p+15), group g (k = 16g .. 16g+15):
//	    T[p*G*64 + g*64 + j*4 + t] bits 2s..2s+1 = u[16p+j, 16g+4s+t]
//
// with G = Pad16(k)/16. (byte >> 2s) & 3 over the 64 bytes of a group is
// the 64-byte step 4g+s of PackW's layout with u in place of c. Padded
// columns hold u = 1 (code 0) for q < k, and every q >= k holds u = 0, so
// the activations there are never multiplied by anything but zero. The
// kernels compute sum x*u and start each row's sums at -sum_q x[q], which
// makes the result sum x*c exactly. After the panels, at T2Tail(n, k),
// come the column totals U[j] = sum_q u[j, q] (k for a padded column) as
// Pad16(n) little-endian int32: a kernel that multiplies x-128 instead of
// x (the AVX2 GEMV) puts 128*U[j] back.

// T2Len returns the number of bytes PackT2 writes for an [n, k] matrix.
func T2Len(n, k int) int { return T2Tail(n, k) + 4*Pad16(n) }

// T2Tail returns the offset of the column totals in the T2 layout.
func T2Tail(n, k int) int { return Pad16(n) * Pad16(k) / 4 }

// PackT2 packs the row-major ternary codes w [n, k] into the T2 layout.
// dst must have T2Len(n, k) bytes; it is fully overwritten. It panics on a
// code outside -1..1 (a programming error: only ternary layers use it).
func PackT2(dst []uint8, w []int8, n, k int) {
	if len(w) < n*k || len(dst) != T2Len(n, k) {
		panic(fmt.Sprintf("kernels: PackT2 [%d, %d] needs src %d and dst %d bytes, have %d and %d", n, k, n*k, T2Len(n, k), len(w), len(dst)))
	}
	clear(dst)
	g := Pad16(k) / 16
	tail := dst[T2Tail(n, k):]
	for j := 0; j < Pad16(n); j++ {
		base := (j/16)*g*64 + (j%16)*4
		tot := uint32(0)
		for q := 0; q < k; q++ {
			u := 1
			if j < n {
				c := w[j*k+q]
				if c < -1 || c > 1 {
					panic(fmt.Sprintf("kernels: PackT2: code %d at [%d, %d] is not ternary", c, j, q))
				}
				u = int(c) + 1
			}
			tot += uint32(u)
			dst[base+(q/16)*64+q%4] |= uint8(u) << (2 * (q % 16 / 4))
		}
		binary.LittleEndian.PutUint32(tail[4*j:], tot)
	}
}

// t2impl holds the T2 kernels of one instruction set. x4 computes C[4, 16]
// for 4 activation rows (stride ldx) and one panel of g groups, starting
// row r's sums at neg[r]; x4w does 4 consecutive panels pstride bytes
// apart (C[4, 64]); v4 is x4w for one row (C[1, 64]), or nil. inner > 0
// bounds the groups the AVX2 kernels add in int16 before widening.
type t2impl struct {
	x4  func(x *uint8, ldx uintptr, w *uint8, g uintptr, c *int32, ldc uintptr, neg *int32, inner uintptr)
	x4w func(x *uint8, ldx uintptr, w *uint8, pstride uintptr, g uintptr, c *int32, ldc uintptr, neg *int32, inner uintptr)
	v4  func(x *uint8, w *uint8, pstride uintptr, g uintptr, c *int32, neg int32, inner uintptr)
	// vn, when set, replaces v4 for 1 to 4 panels (the count in its
	// seventh argument): a layer of fewer than 64 columns runs it too. It
	// reads the row as bcast writes it and starts column j at neg +
	// 128*tot[j] (tot: the panels' column totals, T2Tail).
	vn func(xs *uint8, w *uint8, pstride uintptr, g uintptr, c *int32, neg int32, panels uintptr, tot *int32)
	// bcast writes vn's row operand: dst[32q+b] = x[4q+b%4] XOR 0x80 (x-128
	// as int8, the signed operand of VPMADDUBSW) for nq quads, a multiple
	// of 4; a row of Pad16(k) bytes takes 8*Pad16(k).
	bcast func(dst *uint8, x *uint8, nq uintptr)
	// inner is the int16 block length in groups (0: no int16 sums).
	inner int
	// sum32 returns the sum of n32*32 bytes, or is nil.
	sum32 func(b *uint8, n32 int) uint32
	// gemm, when set, replaces GemmT2's panel loop entirely (called after
	// the checks with m, n, k > 0 and neg [m+3] the rows' -sum x).
	gemm func(threads, m, n, k int, x []uint8, ldx int, w2 []uint8, c []int32, ldc int, neg []int32)
}

// t2Asm maps kernel names to their assembly T2 kernels (filled by the
// architecture's file).
var t2Asm = map[string]t2impl{}

var t2Go = t2impl{x4: t2x4Go}

// T2Native reports whether the selected kernel has a fast T2 path (an
// assembly one, or a whole-GEMM kernel for the pure-Go kernel); callers
// keep PackW's layout and Gemm otherwise.
func T2Native() bool {
	return selected().t2Fast
}

// T2MinBytesRows is the row count from which the AVX2 kernel computes a
// ternary layer faster from PackW's layout (Gemm with the ternary pair
// bound) than from T2; the VNNI kernel decodes T2 instead (t2dec.go).
// See doc.go, "Kernel rule".
const T2MinBytesRows = 8

// T2Rows reports whether GemmT2 is the faster way to compute m rows of a
// ternary layer with the selected kernel, rather than Gemm on PackW's
// layout: always with a kernel that has a decoded path (VNNI) or no
// assembly T2 kernels (the pure-Go LUT), below T2MinBytesRows rows with
// the other assembly kernels (AVX2), never without T2Native.
func T2Rows(m int) bool {
	switch s := selected(); {
	case !s.t2Fast:
		return false
	case s.hasDec:
		return true
	case s.t2Asm:
		return m < T2MinBytesRows
	}
	return true
}

// GemmT2 computes c[i*ldc+j] = sum_p x[i*ldx+p] * W[j, p] for i < m,
// j < Pad16(n), p < k, where w2 is the ternary W packed by PackT2(w2, W,
// n, k): exactly Gemm's result on the same codes. Columns n..Pad16(n)-1
// come out zero. Any m is allowed (rows beyond the last multiple of 4 run
// a one-row kernel; from 16 rows the VNNI kernel decodes blocks of T2
// first, t2dec.go); ldx >= Pad16(k), ldc >= Pad16(n); activations may be
// any uint8 (the sums are exact with every kernel). threads bounds the
// goroutines as for Gemm. Bad shapes panic (programming errors).
func GemmT2(threads, m, n, k int, x []uint8, ldx int, w2 []uint8, c []int32, ldc int) {
	kq, np := Pad16(k), Pad16(n)/16
	switch {
	case m < 0 || ldx < kq || ldc < np*16:
		panic(fmt.Sprintf("kernels: GemmT2 [%d, %d]x[%d, %d]: ldx %d < %d or ldc %d < %d", m, k, k, n, ldx, kq, ldc, np*16))
	case len(w2) != T2Len(n, k):
		panic(fmt.Sprintf("kernels: GemmT2 packed weights [%d, %d] need %d bytes, have %d", n, k, T2Len(n, k), len(w2)))
	case m > 0 && (len(x) < (m-1)*ldx+kq || len(c) < (m-1)*ldc+np*16):
		panic(fmt.Sprintf("kernels: GemmT2 [%d, %d]: x has %d bytes, c has %d ints, too short", m, n, len(x), len(c)))
	}
	if m == 0 || n == 0 {
		return
	}
	if kq == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+np*16])
		}
		return
	}
	s := selected()
	ker, d, dec := s.t2, s.dec, s.hasDec
	m4 := 0 // rows [0, m4) run the decoded path
	if dec && m >= t2DecRows {
		m4 = m &^ 3
	}
	nb := getInt32s(m + 3)
	neg := (*nb)[:0]
	for i := 0; i < m; i++ {
		neg = append(neg, -int32(ker.sumBytes(x[i*ldx:i*ldx+k])))
	}
	neg = append(neg, 0, 0, 0)
	defer putInt32s(nb)
	if ker.gemm != nil {
		ker.gemm(threads, m, n, k, x, ldx, w2, c, ldc, neg)
		return
	}
	groups := (np + 3) / 4
	workers := splitWorkers(threads, m*np*16*kq, groups)
	id := t2Calls.Add(1)
	if workers == 1 {
		t2part(d, ker, m, m4, kq/16, np, 0, groups, x, ldx, w2, c, ldc, neg, id)
		return
	}
	j := t2JobFree.Get().(*t2Job)
	*j = t2Job{d: d, ker: ker, m: m, m4: m4, g: kq / 16, np: np, x: x, ldx: ldx, w2: w2, c: c, ldc: ldc, neg: neg, id: id}
	runSplit(j, groups, workers)
	*j = t2Job{}
	t2JobFree.Put(j)
}

// t2Job is a GemmT2 call split over helpers (helpers.go).
type t2Job struct {
	d            t2dec
	ker          t2impl
	m, m4, g, np int
	x            []uint8
	ldx          int
	w2           []uint8
	c            []int32
	ldc          int
	neg          []int32
	id           uint64 // the call's number (t2Calls)
}

// t2Calls numbers GemmT2's calls, so that a goroutine writes a call's
// one-row operands once however many chunks it runs (t2run).
var t2Calls atomic.Uint64

var t2JobFree = sync.Pool{New: func() any { return new(t2Job) }}

func (j *t2Job) runGroups(q0, q1 int) {
	t2part(j.d, j.ker, j.m, j.m4, j.g, j.np, q0, q1, j.x, j.ldx, j.w2, j.c, j.ldc, j.neg, j.id)
}

// splitWorkers is the number of goroutines (caller included) a product of
// work multiply-adds over groups panel groups runs on: threads (0:
// GOMAXPROCS), none beyond the groups, and one below splitMinWork.
func splitWorkers(threads, work, groups int) int {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if work < splitMinWork {
		return 1
	}
	return max(1, min(threads, groups))
}

// splitMinWork is the multiply-add count from which Gemm, GemmT2 and Gemv
// split a call over helpers. A polling helper starts within a fraction of a
// microsecond, but on a core shared with another busy process it can lose
// its time slice in the middle of a chunk, and the caller waits for it:
// with a niced busy loop beside it, a single sample of 784-1024x3-10
// (layers of 0.8 to 1M multiply-adds) split at half a million ran 16-24%
// slower on two cores than on one, while the 4M 2048x2048 layer still
// gained 1.5x.
const splitMinWork = 1 << 21

// t2part computes GemmT2's panel groups [q0, q1): rows [0, m4) on the
// decoded path, the others on the direct kernels; g is the group count
// of a panel, id the call's number.
func t2part(d t2dec, ker t2impl, m, m4, g, np, q0, q1 int, x []uint8, ldx int, w2 []uint8, c []int32, ldc int, neg []int32, id uint64) {
	if m4 > 0 {
		t2DecRun(d, ker, m4, g, np, q0, q1, x, ldx, w2, c, ldc, neg)
	}
	if m4 < m {
		t2run(ker, m-m4, g, np, q0, q1, x[m4*ldx:], ldx, w2, c[m4*ldc:], ldc, neg[m4:], id)
	}
}

// int32Pool holds the row-sum buffers of GemmT2 calls (a buffer handed to
// the kernels through function values escapes, so a stack array would be
// allocated on every call).
var int32Pool = sync.Pool{New: func() any { b := make([]int32, 0, rowChunkMax); return &b }}

// getInt32s returns a pooled buffer with capacity at least n.
func getInt32s(n int) *[]int32 {
	b := int32Pool.Get().(*[]int32)
	if cap(*b) < n {
		*b = make([]int32, 0, n)
	}
	return b
}

// putInt32s returns b to the pool.
func putInt32s(b *[]int32) { int32Pool.Put(b) }

// uint8Pool holds activation scratch rows, as int32Pool does row sums.
var uint8Pool = sync.Pool{New: func() any { b := make([]uint8, 0, 4096); return &b }}

// getUint8s returns a pooled buffer with capacity at least n.
func getUint8s(n int) *[]uint8 {
	b := uint8Pool.Get().(*[]uint8)
	if cap(*b) < n {
		*b = make([]uint8, 0, n)
	}
	return b
}

// putUint8s returns b to the pool.
func putUint8s(b *[]uint8) { uint8Pool.Put(b) }

// rowChunkMax is the capacity of the pooled row-sum buffers.
const rowChunkMax = 256

// t2run computes the panel groups [q0, q1) (4 panels each) for all rows
// of call id.
func t2run(k t2impl, m, g, np, q0, q1 int, x []uint8, ldx int, w2 []uint8, c []int32, ldc int, neg []int32, id uint64) {
	pstride := g * 64
	tail := np * pstride // T2Tail
	var xs []uint8       // [m%4, 128*g]: vn's operands of rows m&^3 .. m-1
	if r0 := m &^ 3; k.vn != nil && r0 < m {
		b := getRowOps(k, id, x[r0*ldx:], ldx, m-r0, g)
		defer rowOpsPool.Put(b)
		xs = b.xs
	}
	for q := q0; q < q1; q++ {
		p0, p1 := 4*q, min(4*q+4, np)
		i := 0
		for ; i+4 <= m; i += 4 {
			xp, cp := &x[i*ldx], &c[i*ldc+p0*16]
			if p1-p0 == 4 && k.x4w != nil {
				k.x4w(xp, uintptr(ldx), &w2[p0*pstride], uintptr(pstride), uintptr(g), cp, uintptr(ldc), &neg[i], uintptr(k.inner))
				continue
			}
			for p := p0; p < p1; p++ {
				k.x4(xp, uintptr(ldx), &w2[p*pstride], uintptr(g), &c[i*ldc+p*16], uintptr(ldc), &neg[i], uintptr(k.inner))
			}
		}
		for ; i < m; i++ {
			if k.vn != nil {
				tot := (*int32)(unsafe.Pointer(&w2[tail+4*16*p0]))
				k.vn(&xs[(i&3)*128*g], &w2[p0*pstride], uintptr(pstride), uintptr(g), &c[i*ldc+p0*16], neg[i], uintptr(p1-p0), tot)
				continue
			}
			if p1-p0 == 4 && k.v4 != nil {
				k.v4(&x[i*ldx], &w2[p0*pstride], uintptr(pstride), uintptr(g), &c[i*ldc+p0*16], neg[i], uintptr(k.inner))
				continue
			}
			// One row through the 4-row kernel: all four rows read row
			// i (ldx 0) into a scratch block (pooled: a stack array
			// would escape).
			tb := getInt32s(4*16 + 4)
			tmp, n4 := (*tb)[:4*16], (*tb)[4*16:4*16+4]
			n4[0], n4[1], n4[2], n4[3] = neg[i], neg[i], neg[i], neg[i]
			for p := p0; p < p1; p++ {
				k.x4(&x[i*ldx], 0, &w2[p*pstride], uintptr(g), &tmp[0], 16, &n4[0], uintptr(k.inner))
				copy(c[i*ldc+p*16:i*ldc+p*16+16], tmp[:16])
			}
			putInt32s(tb)
		}
	}
}

// rowOps holds vn's operands of up to 3 rows of call id.
type rowOps struct {
	xs []uint8
	id uint64
}

// rowOpsPool is per P, so a goroutine that runs several chunks of a call
// mostly gets back the operands it wrote for the first: writing them
// (8 bytes for every activation) per chunk cost 9% of a split 2048x2048
// GEMV, and a helper that read the caller's would fetch them from the
// other core.
var rowOpsPool = sync.Pool{New: func() any { return new(rowOps) }}

// getRowOps returns a pooled rowOps holding vn's operands of the rows
// rows of x (stride ldx, 16*g bytes each) of call id, writing them unless
// it already does.
func getRowOps(k t2impl, id uint64, x []uint8, ldx, rows, g int) *rowOps {
	b := rowOpsPool.Get().(*rowOps)
	n := rows * 128 * g
	if b.id == id && len(b.xs) == n {
		return b
	}
	if cap(b.xs) < n {
		b.xs = make([]uint8, n)
	}
	b.xs, b.id = b.xs[:n], id
	for i := 0; i < rows; i++ {
		k.bcast(&b.xs[i*128*g], &x[i*ldx], uintptr(4*g))
	}
	return b
}

// sumBytes returns the sum of b.
func (k t2impl) sumBytes(b []uint8) uint32 {
	if len(b) >= 32 && k.sum32 != nil {
		n := len(b) &^ 31
		return k.sum32(&b[0], n/32) + sumBytesGo(b[n:])
	}
	return sumBytesGo(b)
}

func sumBytesGo(b []uint8) uint32 {
	var s uint32
	for _, v := range b {
		s += uint32(v)
	}
	return s
}

// t2x4Go is the portable T2 kernel: C[4, 16] for one panel.
func t2x4Go(x *uint8, ldx uintptr, w *uint8, g uintptr, c *int32, ldc uintptr, neg *int32, _ uintptr) {
	n := int(g) * 16
	xs := unsafe.Slice(x, 3*int(ldx)+n)
	ws := unsafe.Slice(w, int(g)*64)
	cs := unsafe.Slice(c, 3*int(ldc)+16)
	ns := unsafe.Slice(neg, 4)
	for r := 0; r < 4; r++ {
		row := xs[r*int(ldx) : r*int(ldx)+n]
		var acc [16]int32
		for j := range acc {
			acc[j] = ns[r]
		}
		for q := 0; q < int(g); q++ {
			blk := ws[q*64 : q*64+64]
			for s := 0; s < 4; s++ {
				xb := row[16*q+4*s : 16*q+4*s+4]
				x0, x1, x2, x3 := int32(xb[0]), int32(xb[1]), int32(xb[2]), int32(xb[3])
				sh := uint(2 * s)
				for j := 0; j < 16; j++ {
					b := blk[4*j : 4*j+4]
					acc[j] += x0*int32(b[0]>>sh&3) + x1*int32(b[1]>>sh&3) + x2*int32(b[2]>>sh&3) + x3*int32(b[3]>>sh&3)
				}
			}
		}
		copy(cs[r*int(ldc):r*int(ldc)+16], acc[:])
	}
}
