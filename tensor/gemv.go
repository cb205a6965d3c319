package tensor

import "sync/atomic"

// One-row products. A Gemm with m = 1 (one sample through a dense layer)
// uses every element of B once, so the blocked path, which packs all of
// op(B) into slivers on every call, spends more time packing than
// multiplying. gemmN sends such calls here instead: dot products of the
// row with B's rows when op(B) = Bᵀ (a dense layer's forward pass, W
// [out, in]) or a sum of B's rows scaled by the row's elements when
// op(B) = B. The products are summed in another order than the blocked
// kernels', so a sample's outputs alone may differ in the last bits from
// the same sample's outputs inside a batch. The fast kernels (dot4Arch,
// axpyArch) are tested against dot4Go and axpyGo over odd sizes.

// gemvMinPart is the multiply-add count per goroutine below which a
// one-row product runs on one goroutine.
const gemvMinPart = 1 << 18

// gemvJob is one call; its goroutines claim chunks of chunk columns of c
// from next, as Gemm's do (see "Parallelism" in doc.go).
type gemvJob struct {
	transB        bool
	n, k          int
	alpha, beta   float32
	x, b, c       []float32 // x [k], c [n]; b as for Gemm
	ldb           int
	chunk, chunks int // chunk: a multiple of 8 columns
	next          atomic.Int64
	join          join
}

var gemvFree = make(freeList[gemvJob], 4)

// gemv computes c[0:n] = alpha*op(A)[0, :]·op(B) + beta*c for a one-row
// op(A) (arguments checked by gemmN; k > 0, alpha != 0).
func gemv(nt int, transA, transB bool, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32) {
	x := a[:k]
	var xs *[]float32
	if transA && lda != 1 { // op(A) = Aᵀ: the row is A's column 0
		xs = getFloats(k)
		x = (*xs)[:k]
		for p := range x {
			x[p] = a[p*lda]
		}
	}
	j := gemvFree.get()
	j.transB, j.n, j.k, j.alpha, j.beta = transB, n, k, alpha, beta
	j.x, j.b, j.c, j.ldb = x, b, c[:n], ldb
	parts := max(1, min(nt, n*k/gemvMinPart, (n+7)/8))
	j.chunk = 8 * max(1, n/(8*chunksPerThread*parts))
	j.chunks = (n + j.chunk - 1) / j.chunk
	if parts == 1 {
		j.chunk, j.chunks = n, 1
	}
	j.next.Store(0)
	parallel(j, parts, &j.join)
	j.x, j.b, j.c = nil, nil, nil
	gemvFree.put(j)
	if xs != nil {
		putFloats(xs)
	}
}

// runPart claims chunks of c's columns until none is left: rows of B (in
// blocks of 4) when op(B) = Bᵀ, columns of B when op(B) = B.
func (j *gemvJob) runPart(int) {
	for {
		ch := int(j.next.Add(1)) - 1
		if ch >= j.chunks {
			return
		}
		j0, j1 := ch*j.chunk, min(j.n, (ch+1)*j.chunk)
		if j.transB {
			j.dotRows(j0, j1)
		} else {
			j.sumRows(j0, j1)
		}
	}
}

// dotRows sets c[j] for j in [j0, j1) from the dot products of x with
// B's rows j.
func (j *gemvJob) dotRows(j0, j1 int) {
	var d [4]float32
	r := j0
	for ; r+4 <= j1; r += 4 {
		dot4(&d, j.x, j.b[r*j.ldb:], j.ldb, j.k)
		for i := range 4 {
			j.c[r+i] = j.finish(d[i], j.c[r+i])
		}
	}
	for ; r < j1; r++ {
		j.c[r] = j.finish(dot1(j.x, j.b[r*j.ldb:r*j.ldb+j.k]), j.c[r])
	}
}

// sumRows sets c[j0:j1] from the sum over p of x[p] times row p of B.
func (j *gemvJob) sumRows(j0, j1 int) {
	ss := getFloats(j1 - j0)
	s := (*ss)[:j1-j0]
	clear(s)
	for p, v := range j.x {
		axpy(s, v, j.b[p*j.ldb+j0:p*j.ldb+j1])
	}
	for i, v := range s {
		j.c[j0+i] = j.finish(v, j.c[j0+i])
	}
	putFloats(ss)
}

// finish returns alpha*sum + beta*c, ignoring c when beta is 0 (as the
// blocked path does, so a NaN in c does not survive).
func (j *gemvJob) finish(sum, c float32) float32 {
	if j.beta == 0 {
		return j.alpha * sum
	}
	return j.alpha*sum + j.beta*c
}

// dot4 sets d[r] = sum_p x[p]*b[r*ldb+p] for r < 4, p < k.
func dot4(d *[4]float32, x, b []float32, ldb, k int) {
	n := dot4Arch(d, x, b, ldb, k)
	if n == 0 {
		*d = [4]float32{}
	}
	if n < k {
		for r := range 4 {
			d[r] += dot1(x[n:k], b[r*ldb+n:r*ldb+k])
		}
	}
}

// dot4Go is the reference of dot4Arch: d[r] = sum over p < k.
func dot4Go(d *[4]float32, x, b []float32, ldb, k int) {
	for r := range 4 {
		d[r] = dot1(x[:k], b[r*ldb:r*ldb+k])
	}
}

// dot1 returns the dot product of x and y (len(x) elements).
func dot1(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	p := 0
	for ; p+4 <= len(x); p += 4 {
		s0 += x[p] * y[p]
		s1 += x[p+1] * y[p+1]
		s2 += x[p+2] * y[p+2]
		s3 += x[p+3] * y[p+3]
	}
	for ; p < len(x); p++ {
		s0 += x[p] * y[p]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy sets y += a*x (len(y) elements).
func axpy(y []float32, a float32, x []float32) {
	n := axpyArch(y, a, x[:len(y)])
	axpyGo(y[n:], a, x[n:len(y)])
}

// axpyGo is the reference of axpyArch.
func axpyGo(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

var floatsPool = make(freeList[[]float32], 8)

// getFloats returns a recycled buffer with capacity at least n.
func getFloats(n int) *[]float32 {
	b := floatsPool.get()
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	return b
}

func putFloats(b *[]float32) { floatsPool.put(b) }
