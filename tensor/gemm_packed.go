package tensor

import (
	"fmt"
	"sync/atomic"
)

// PackedB is the operand op(B) [k, n] of C = alpha*op(A)*op(B) + beta*C,
// packed once into the micro-kernel's layout so that repeated products with
// the same B and different A (inference: a layer's weights, batch after
// batch) skip B's packing, which at inference batch sizes costs as much as
// a fifth of the product. It holds a copy: later changes to B are not seen,
// so its owner repacks (PackB) whenever B changes.
//
// The columns are packed in chunks, register-block aligned, that the
// goroutines of GemmPacked claim one at a time, as Gemm's own chunks.
type PackedB struct {
	kern  *microKernel
	k, n  int
	cols  []int       // chunk c is columns cols[c] .. cols[c+1]-1
	parts [][]float32 // chunk c packed by prepackB
	next  atomic.Int64
	join  join
	call  packedCall
}

// PackB packs op(B) [k, n] (B stored n×k when transB) into dst, reusing its
// buffers, for products whose A has about m rows (m chooses the kernel, as
// Gemm's shape does), and returns dst (a new PackedB when dst is nil).
func PackB(dst *PackedB, m int, transB bool, k, n int, b []float32, ldb int) *PackedB {
	if m < 1 || k < 1 || n < 1 {
		panic(fmt.Sprintf("tensor: PackB: sizes m=%d k=%d n=%d, want >= 1", m, k, n))
	}
	rows, cols := k, n // B as stored
	if transB {
		rows, cols = n, k
	}
	checkOperand("PackB", "B", rows, cols, ldb, len(b))
	if dst == nil {
		dst = new(PackedB)
	}
	kern := pickKernel(m, n)
	blocks := (n + kern.nr - 1) / kern.nr
	chunks := min(blocks, chunksPerThread*Threads())
	width := kern.nr * ((blocks + chunks - 1) / chunks)
	dst.kern, dst.k, dst.n = kern, k, n
	dst.cols = dst.cols[:0]
	for lo := 0; lo < n; lo += width {
		dst.cols = append(dst.cols, lo)
	}
	dst.cols = append(dst.cols, n)
	for len(dst.parts) < len(dst.cols)-1 {
		dst.parts = append(dst.parts, nil)
	}
	dst.parts = dst.parts[:len(dst.cols)-1]
	for c := range dst.parts {
		lo, hi := dst.cols[c], dst.cols[c+1]
		dst.parts[c] = prepackB(kern, dst.parts[c], transB, colsOf(b, transB, ldb, lo), ldb, k, hi-lo)
	}
	return dst
}

// K and N return the shape of the packed op(B) [k, n].
func (p *PackedB) K() int { return p.k }

// N returns the number of columns of the packed op(B).
func (p *PackedB) N() int { return p.n }

// GemmPacked computes C = alpha*op(A)*B + beta*C for op(A) [m, k] (A stored
// k×m when transA) and B packed by PackB, with up to Threads() goroutines.
// It gives the same results as Gemm with the kernel PackB chose, whatever
// the thread count (in auto mode a one-row Gemm runs the one-row path
// instead, whose sums differ in the last bits; see "GEMM design"). p must not be used by two calls at once.
func GemmPacked(c []float32, ldc int, beta float32, alpha float32, transA bool, m int, a []float32, lda int, p *PackedB) {
	k, n := p.k, p.n
	if m < 0 {
		panic(fmt.Sprintf("tensor: GemmPacked: negative size m=%d", m))
	}
	if m == 0 {
		return
	}
	if transA {
		checkOperand("GemmPacked", "A (transposed)", k, m, lda, len(a))
	} else {
		checkOperand("GemmPacked", "A", m, k, lda, len(a))
	}
	checkOperand("GemmPacked", "C", m, n, ldc, len(c))
	if alpha == 0 {
		if beta != 1 {
			scaleC(m, n, beta, c, ldc)
		}
		return
	}
	nt := min(Threads(), len(p.parts))
	if 2*m*n*k < parallelMinFlops {
		nt = 1
	}
	g := &p.call
	*g = packedCall{p: p, transA: transA, m: m, alpha: alpha, beta: beta, a: a, lda: lda, c: c, ldc: ldc}
	p.next.Store(0)
	parallel(g, nt, &p.join)
	g.a, g.c = nil, nil
}

// packedCall is one GemmPacked: its goroutines claim column chunks of p.
type packedCall struct {
	p           *PackedB
	transA      bool
	m, lda, ldc int
	alpha, beta float32
	a, c        []float32
}

func (g *packedCall) runPart(int) {
	p := g.p
	var ws *gemmWork
	var preA []float32
	for {
		ch := int(p.next.Add(1)) - 1
		if ch >= len(p.parts) {
			break
		}
		if ws == nil {
			ws = workFree.get()
			preA = nil
			if g.m*p.k <= maxPrepack {
				ws.pre = prepackA(p.kern, ws.pre, g.transA, g.a, g.lda, g.m, p.k)
				preA = ws.pre
			}
		}
		lo, hi := p.cols[ch], p.cols[ch+1]
		gemmSerial(p.kern, preA, p.parts[ch], g.transA, false, g.m, hi-lo, p.k, g.alpha, g.a, g.lda, nil, 0, g.beta, g.c[lo:], g.ldc)
	}
	if ws != nil {
		workFree.put(ws)
	}
}
