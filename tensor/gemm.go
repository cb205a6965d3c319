package tensor

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"
)

// microKernel is one register-blocked inner kernel of the blocked GEMM with
// its cache-blocking parameters.
//
// fn computes the full mr×nr tile
//
//	C[i, j] = alpha * sum_p Ap[p*mr+i] * Bp[p*nr+j]  (+ C[i, j] when load)
//
// for i < mr, j < nr, p < k, where Ap is a packed A sliver [k][mr], Bp a
// packed B sliver [k][nr] and C starts at c[0] with row stride ldc.
type microKernel struct {
	name       string
	mr, nr     int
	kc, mc, nc int // blocking: K per packed panel, rows of A per block, columns of B per panel
	fn         func(k int, a, b, c []float32, ldc int, alpha float32, load bool)
	// transpose, when set, transposes blocks 8×8 blocks (see
	// transpose8x8AVX); packB uses it for op(B) = B^T. nil for the pure-Go
	// kernel, so that SetKernel("generic") runs no assembly at all.
	transpose func(blocks int, src *float32, lds int, dst *float32, ldd int)
	// copyRows, when set, copies rows rows of nr floats (lds apart) into a
	// packed sliver; packB uses it for op(B) = B. The pure-Go kernel's is
	// copyRows2, in Go.
	copyRows func(rows int, src *float32, lds int, dst *float32, ldd int)
	// altAnyShape, on auto mode's second kernel, lets pickKernel use it
	// for any shape it pads less, not only for C split by columns.
	altAnyShape bool
	// altGain, on auto mode's second kernel when non-zero, replaces the
	// package's altGain for it.
	altGain float64
	// edges are the kernel's edge kernels, if any (see edgeFor).
	edges []edgeKernel
}

// edgeKernel computes the first rows×cols of its kernel's mr×nr tile from
// the same packed slivers (A [k][mr], B [k][nr]): fn has microKernel.fn's
// contract for i < rows, j < cols and touches no other element of C. A
// partial register block at the bottom or right edge of C (M or N not a
// multiple of mr or nr) then costs about its own rows or columns, not a
// whole tile's: at 128×784 a 6×64 kernel pads C to 132×832, 9% more
// multiply-adds than it needs. Each element's sum is formed in the same
// order as by the whole tile, so results are bitwise the same.
type edgeKernel struct {
	rows, cols int
	fn         func(k int, a, b, c []float32, ldc int, alpha float32, load bool)
}

// edgeFor returns the edge kernel that computes a partial register block
// of rows×cols (rows <= mr, cols <= nr) with the fewest padded elements,
// or nil when none covers it.
func (kern *microKernel) edgeFor(rows, cols int) *edgeKernel {
	var best *edgeKernel
	for i := range kern.edges {
		e := &kern.edges[i]
		if e.rows >= rows && e.cols >= cols && (best == nil || e.rows*e.cols < best.rows*best.cols) {
			best = e
		}
	}
	return best
}

// kernels lists every micro-kernel usable on this CPU, best first; the
// pure-Go kernel is always present and last.
var kernels, droppedKernels = selfTested(append(archKernels(), genericKernel))

// selfTested returns the kernels that compute one packed tile (k = 19,
// load and no-load, alpha != 1) like a plain loop, and the names of the
// others with the reason. It guards against an assembly kernel that is
// wrong on a CPU it was never run on: such a kernel is dropped (and
// TestKernelsSelfTest fails) rather than silently corrupting results. A
// kernel keeps only the edge kernels that pass the same test.
func selfTested(ks []*microKernel) (ok []*microKernel, dropped []string) {
	for _, k := range ks {
		if err := selfTest(k.name, k.mr, k.nr, k.mr, k.nr, k.fn); err != nil {
			dropped = append(dropped, err.Error())
			continue
		}
		var edges []edgeKernel
		for _, e := range k.edges {
			name := fmt.Sprintf("%s (edge %dx%d)", k.name, e.rows, e.cols)
			if err := selfTest(name, k.mr, k.nr, e.rows, e.cols, e.fn); err != nil {
				dropped = append(dropped, err.Error())
				continue
			}
			edges = append(edges, e)
		}
		k.edges = edges
		ok = append(ok, k)
	}
	return ok, dropped
}

// selfTest checks that fn computes the first rows×cols of an mr×nr tile
// and leaves the rest of C alone.
func selfTest(name string, mr, nr, rows, cols int, fn func(k int, a, b, c []float32, ldc int, alpha float32, load bool)) error {
	const k = 19
	a := make([]float32, k*mr)
	b := make([]float32, k*nr)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for i := range b {
		b[i] = float32(i%5) - 2
	}
	const ldc = 3 // extra columns that must stay untouched
	c := make([]float32, mr*(nr+ldc))
	for _, load := range []bool{false, true} {
		for i := range c {
			c[i] = float32(i % 3)
		}
		fn(k, a, b, c, nr+ldc, 0.5, load)
		for i := 0; i < mr; i++ {
			for j := 0; j < nr+ldc; j++ {
				want := float32((i*(nr+ldc) + j) % 3)
				if i < rows && j < cols {
					var s float32
					for p := 0; p < k; p++ {
						s += a[p*mr+i] * b[p*nr+j]
					}
					if load {
						want += 0.5 * s
					} else {
						want = 0.5 * s
					}
				}
				// Small integers: exact in float32 in any order.
				if got := c[i*(nr+ldc)+j]; got != want {
					return fmt.Errorf("tensor: GEMM kernel %s fails its self-test on this CPU (load=%v, C[%d,%d] = %g, want %g); not using it", name, load, i, j, got, want)
				}
			}
		}
	}
	return nil
}

// active is the kernel Gemm uses.
var active atomic.Pointer[microKernel]

// In auto mode (the default, SetKernel("auto")) Gemm may use altKernel
// instead of active for a call whose shape it computes with less padding
// (pickKernel). altKernel is nil on CPUs where no second kernel pays.
var (
	autoMode  atomic.Bool
	altKernel = newAltKernel()
)

// newAltKernel returns the self-tested kernel archAltKernel names, or nil.
func newAltKernel() *microKernel {
	name, anyShape, gain := archAltKernel()
	k := findKernel(name)
	if k != nil {
		k.altAnyShape, k.altGain = anyShape, gain
	}
	return k
}

// altGain is the padded work (rows and columns of C rounded up to the
// register block) an alternative kernel must stay under, as a fraction of
// the best kernel's, to be used: a margin for its lower rate at equal work.
const altGain = 0.98

// pickKernel returns the kernel for a Gemm of C [m, n]: active, or in auto
// mode altKernel when it pads m and n to less work and C is split by
// columns (n >= m, the small-M training and convolution shapes) or
// altKernel.altAnyShape. The choice depends on the shape only, never on
// the thread count.
func pickKernel(m, n int) *microKernel {
	kern := active.Load()
	alt := altKernel
	if alt == nil || !autoMode.Load() || m > n && !alt.altAnyShape {
		return kern
	}
	gain := altGain
	if alt.altGain > 0 {
		gain = alt.altGain
	}
	pad := func(x, b int) float64 { return float64((x + b - 1) / b * b) }
	if pad(m, alt.mr)*pad(n, alt.nr) < gain*pad(m, kern.mr)*pad(n, kern.nr) {
		return alt
	}
	return kern
}

// findKernel returns the self-tested kernel called name, or nil.
func findKernel(name string) *microKernel {
	for _, k := range kernels {
		if k.name == name {
			return k
		}
	}
	return nil
}

// init selects the fastest kernel, or the one named by the environment
// variable RESQ_GEMM_KERNEL (any SetKernel name) when it is set and valid.
func init() {
	for _, msg := range droppedKernels {
		fmt.Fprintln(os.Stderr, msg)
	}
	active.Store(kernels[0])
	autoMode.Store(true)
	if name := os.Getenv("RESQ_GEMM_KERNEL"); name != "" {
		if _, err := SetKernel(name); err != nil {
			fmt.Fprintf(os.Stderr, "%v; using %s\n", err, Kernel())
		}
	}
}

// SetKernel selects the GEMM micro-kernel by name and returns the previous
// one's name: "auto" (the fastest this CPU supports, with a second kernel
// for some shapes where one pays: see Kernel), "generic" (pure Go,
// every CPU), "sse" (every amd64 CPU), "avx2" (AVX2+FMA), "avx512"
// (AVX-512F), or an exact variant name from Kernels. It returns an error for
// an unknown name or one this CPU cannot run. Meant for tests and benchmarks; not safe to call while other
// goroutines run Gemm with expectations about which kernel is used.
func SetKernel(name string) (string, error) {
	prev := Kernel()
	if name == "auto" || name == "" || name == autoName() {
		active.Store(kernels[0])
		autoMode.Store(true)
		return prev, nil
	}
	for _, k := range kernels {
		if k.name == name || familyOf(k.name) == name {
			active.Store(k)
			autoMode.Store(false)
			return prev, nil
		}
	}
	return prev, fmt.Errorf("tensor: GEMM kernel %q not available on this CPU (have %v)", name, Kernels())
}

// Kernel returns the name of the GEMM micro-kernel in use; in auto mode
// with a second kernel, both joined by "+" (e.g. "avx512-14x32+avx2-6x16",
// a name SetKernel accepts).
func Kernel() string {
	if autoMode.Load() {
		return autoName()
	}
	return active.Load().name
}

// autoName is Kernel's name for auto mode.
func autoName() string {
	if altKernel == nil || altKernel == kernels[0] {
		return kernels[0].name
	}
	return kernels[0].name + "+" + altKernel.name
}

// Kernels returns the names of the micro-kernels available on this CPU,
// fastest first; the last is always "generic".
func Kernels() []string {
	out := make([]string, len(kernels))
	for i, k := range kernels {
		out[i] = k.name
	}
	return out
}

// familyOf maps "avx512-14x32" to "avx512".
func familyOf(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == '-' {
			return name[:i]
		}
	}
	return name
}

// Gemm computes C = alpha*op(A)*op(B) + beta*C with the fastest kernel for
// this CPU, using up to Threads() goroutines. Same contract as GemmRef:
// op(A) is m×k, op(B) is k×n, C is m×n, row-major with leading dimensions
// lda, ldb, ldc; A is stored k×m when transA, B is stored n×k when transB.
// beta == 0 overwrites C without reading it. C must not overlap A or B.
// Results may differ from GemmRef by float32 rounding (different summation
// order) but do not depend on the thread count.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmN(Threads(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkGemm panics when a slice is too short or a leading dimension too
// small for the stated shape.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("tensor: Gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	if transA {
		checkOperand("Gemm", "A (transposed)", k, m, lda, len(a))
	} else {
		checkOperand("Gemm", "A", m, k, lda, len(a))
	}
	if transB {
		checkOperand("Gemm", "B (transposed)", n, k, ldb, len(b))
	} else {
		checkOperand("Gemm", "B", k, n, ldb, len(b))
	}
	checkOperand("Gemm", "C", m, n, ldc, len(c))
}

// checkOperand panics when a [rows, cols] operand with leading dimension
// ld does not fit in have elements.
func checkOperand(fn, what string, rows, cols, ld, have int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("tensor: %s: %s is [%d, %d] but leading dimension is %d", fn, what, rows, cols, ld))
	}
	if want := (rows-1)*ld + cols; have < want {
		panic(fmt.Sprintf("tensor: %s: %s [%d, %d] with leading dimension %d needs %d elements, have %d", fn, what, rows, cols, ld, want, have))
	}
}

// scaleC sets C = beta*C over m×n (beta == 0 writes zeros, clearing NaNs).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// parallelMinFlops is the work below which Gemm stays on one goroutine.
const parallelMinFlops = 2 * 64 * 64 * 64

func gemmN(nt int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		if beta != 1 {
			scaleC(m, n, beta, c, ldc)
		}
		return
	}
	if m == 1 && useFMA && autoMode.Load() {
		gemv(nt, transA, transB, n, k, alpha, a, lda, b, ldb, beta, c) // gemv.go
		return
	}
	kern := pickKernel(m, n)
	if 2*m*n*k < parallelMinFlops {
		nt = 1
	}
	// Split M or N into register-block-aligned chunks that the goroutines
	// claim one at a time (see "Parallelism" in doc.go).
	splitN := splitCols(transA, transB, m, n)
	blk, dim := kern.nr, n
	if !splitN {
		blk, dim = kern.mr, m
	}
	blocks := (dim + blk - 1) / blk
	nt = max(1, min(nt, blocks))
	if nt == 1 {
		gemmSerial(kern, nil, nil, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	call := callFree.get()
	call.kern, call.splitN = kern, splitN
	call.transA, call.transB, call.m, call.n, call.k = transA, transB, m, n, k
	call.alpha, call.a, call.lda, call.b, call.ldb = alpha, a, lda, b, ldb
	call.beta, call.c, call.ldc = beta, c, ldc
	call.dim = dim
	// About chunksPerThread chunks per goroutine: enough to even out
	// cores that run at different speeds, few enough that the per-chunk
	// loop and packing overheads stay small. An operand too large to keep
	// packed whole per goroutine is packed block by block, once per chunk,
	// so the call is then cut into one chunk per goroutine.
	other := m * k // the operand each goroutine packs: op(A) when N is split
	if !splitN {
		other = k * n
	}
	call.prepack = other <= maxPrepack
	perThread := chunksPerThread
	if !call.prepack {
		perThread = 1
	}
	call.chunk = blk * max(1, blocks/(perThread*nt))
	call.chunks = (dim + call.chunk - 1) / call.chunk
	call.next.Store(0)
	parallel(call, nt, &call.join)
	call.a, call.b, call.c = nil, nil, nil
	callFree.put(call)
}

// splitCols reports whether a parallel Gemm of C [m, n] splits C by
// columns (every goroutine packs all of op(A), m×k) rather than by rows
// (every goroutine packs all of op(B), k×n): the split whose duplicated
// packing costs less. An operand whose packing transposes it (A, whose
// slivers run down its columns; B^T) costs about twice as much per float
// as one packed by row copies (A^T, B): packRows6AVX512 and
// copyRowsAVX64 in a 2-thread 1024³ product on Zen 5. NT and TN products
// thus split the larger of M and N, NN ones by columns only up to
// m = n/2 (a square NN product by rows), TT ones by columns up to m = 2n.
func splitCols(transA, transB bool, m, n int) bool {
	costA, costB := 2, 1
	if transA {
		costA = 1
	}
	if transB {
		costB = 2
	}
	return m*costA <= n*costB
}

// chunksPerThread is the number of chunks a parallel Gemm aims to give each
// goroutine.
const chunksPerThread = 4

// maxPrepack (floats) is the largest operand each goroutine of a parallel
// Gemm packs whole (a variable so that tests can take the other path).
var maxPrepack = 4 << 20

// gemmCall is one parallel Gemm: its goroutines claim chunks of rows (or
// columns) of C through next until all chunks are taken.
type gemmCall struct {
	kern               *microKernel
	splitN, prepack    bool
	transA, transB     bool
	m, n, k            int
	alpha, beta        float32
	a, b, c            []float32
	lda, ldb, ldc      int
	dim, chunk, chunks int
	next               atomic.Int64
	join               join
}

// callFree and workFree recycle calls and packing buffers so that
// steady-state calls allocate nothing (a sync.Pool would drop them at
// every GC, and the next call would allocate megabytes of panels again).
var (
	callFree = make(freeList[gemmCall], 16)
	workFree = make(freeList[gemmWork], 64)
)

func (g *gemmCall) runPart(int) {
	var ws *gemmWork
	var preA, preB []float32
	for {
		ch := int(g.next.Add(1)) - 1
		if ch >= g.chunks {
			break
		}
		if ws == nil {
			// Pack only once a chunk is claimed: a goroutine that
			// starts after the others took every chunk returns at
			// once instead of holding up the call.
			ws = workFree.get()
			switch {
			case !g.prepack:
			case g.splitN:
				ws.pre = prepackA(g.kern, ws.pre, g.transA, g.a, g.lda, g.m, g.k)
				preA = ws.pre
			default:
				ws.pre = prepackB(g.kern, ws.pre, g.transB, g.b, g.ldb, g.k, g.n)
				preB = ws.pre
			}
		}
		lo := ch * g.chunk
		hi := min(g.dim, lo+g.chunk)
		if g.splitN {
			gemmSerial(g.kern, preA, nil, g.transA, g.transB, g.m, hi-lo, g.k, g.alpha, g.a, g.lda, colsOf(g.b, g.transB, g.ldb, lo), g.ldb, g.beta, g.c[lo:], g.ldc)
			continue
		}
		gemmSerial(g.kern, nil, preB, g.transA, g.transB, hi-lo, g.n, g.k, g.alpha, rowsOf(g.a, g.transA, g.lda, lo), g.lda, g.b, g.ldb, g.beta, g.c[lo*g.ldc:], g.ldc)
	}
	if ws != nil {
		workFree.put(ws)
	}
}

// colsOf returns op(B) from column j on; rowsOf returns op(A) from row i on.
func colsOf(b []float32, transB bool, ldb, j int) []float32 {
	if transB {
		return b[j*ldb:]
	}
	return b[j:]
}

func rowsOf(a []float32, transA bool, lda, i int) []float32 {
	if transA {
		return a[i:]
	}
	return a[i*lda:]
}

// gemmWork holds one goroutine's packing buffers (64-byte aligned).
type gemmWork struct {
	ap, bp, tile []float32
	pre          []float32 // a parallel call's prepacked operand
}

// aligned returns a slice of n floats whose first element is 64-byte
// aligned, reusing buf when it is large enough.
func aligned(buf []float32, n int) []float32 {
	if cap(buf) >= n && uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%64 == 0 {
		return buf[:n]
	}
	raw := make([]float32, n+16)
	off := 0
	for uintptr(unsafe.Pointer(&raw[off]))%64 != 0 {
		off++
	}
	return raw[off : off+n : off+n]
}

// panelK is the K panel gemmSerial uses for inner dimension k: K split
// into equal panels of at most kern.kc (rounded up to the kernel's 4-step
// unroll) rather than full panels plus a thin last one, whose C loads and
// stores would dominate its few rank-1 updates.
func panelK(kern *microKernel, k int) int {
	np := (k + kern.kc - 1) / kern.kc
	return min(k, ((k+np-1)/np+3)/4*4)
}

// prepackA packs all of op(A) [m, k] as gemmSerial would pack it block by
// block, so that calls sharing A (a convolution's weights, image after
// image) pack it once: the K panel starting at pc holds the mr-row slivers
// of all m rows at dst[mr*ceil(m/mr)*pc:], each kc long. It returns the
// packed buffer (dst reused when large and aligned enough).
func prepackA(kern *microKernel, dst []float32, transA bool, a []float32, lda, m, k int) []float32 {
	mR := (m + kern.mr - 1) / kern.mr * kern.mr
	KC := panelK(kern, k)
	dst = aligned(dst, mR*k)
	for pc := 0; pc < k; pc += KC {
		kc := min(KC, k-pc)
		packA(dst[mR*pc:], transA, a, lda, 0, pc, m, kc, kern.mr)
	}
	return dst
}

// prepackB packs all of op(B) [k, n] as gemmSerial packs it panel by
// panel: the K panel starting at pc of the column block starting at jc
// (kern.nc wide, a multiple of nr) is at dst[jc*k + nR*pc:], where nR is
// the block's width rounded up to nr.
func prepackB(kern *microKernel, dst []float32, transB bool, b []float32, ldb, k, n int) []float32 {
	NC := min(kern.nc, (n+kern.nr-1)/kern.nr*kern.nr)
	KC := panelK(kern, k)
	dst = aligned(dst, (n+kern.nr-1)/kern.nr*kern.nr*k)
	for jc := 0; jc < n; jc += NC {
		nc := min(NC, n-jc)
		nR := (nc + kern.nr - 1) / kern.nr * kern.nr
		for pc := 0; pc < k; pc += KC {
			packB(kern, dst[jc*k+nR*pc:], transB, b, ldb, pc, jc, min(KC, k-pc), nc)
		}
	}
	return dst
}

// gemmSerial is the five-loop Goto/BLIS algorithm on one goroutine. preA,
// when non-nil, is op(A) packed by prepackA with the same kernel, and a,
// lda and transA are then not read; preB, when non-nil, is op(B) packed by
// prepackB, and b, ldb and transB are then not read.
func gemmSerial(kern *microKernel, preA, preB []float32, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := kern.mr, kern.nr
	KC := panelK(kern, k)
	MC := min(kern.mc, (m+mr-1)/mr*mr)
	mR := (m + mr - 1) / mr * mr
	NC := min(kern.nc, (n+nr-1)/nr*nr)
	ws := workFree.get()
	if preA == nil {
		ws.ap = aligned(ws.ap, MC*KC)
	}
	if preB == nil {
		ws.bp = aligned(ws.bp, NC*KC)
	}
	ws.tile = aligned(ws.tile, mr*nr)
	ap, bp, tile := ws.ap, ws.bp, ws.tile
	if beta != 0 && beta != 1 {
		scaleC(m, n, beta, c, ldc)
	}
	for jc := 0; jc < n; jc += NC {
		nc := min(NC, n-jc)
		for pc := 0; pc < k; pc += KC {
			kc := min(KC, k-pc)
			if preB != nil {
				bp = preB[jc*k+(nc+nr-1)/nr*nr*pc:]
			}
			load := pc > 0 || beta != 0
			for ic := 0; ic < m; ic += MC {
				mc := min(MC, m-ic)
				aBlk := ap
				if preA != nil {
					aBlk = preA[mR*pc+ic*kc:]
				} else {
					packA(ap, transA, a, lda, ic, pc, mc, kc, mr)
				}
				// The first row block packs each B sliver just
				// before its first use, while the sliver is still
				// in L1 (as GotoBLAS does), unless wholeB packs the
				// panel first; later blocks reuse it.
				packNow := preB == nil && ic == 0
				if packNow && wholeB(kern, transB, nc) {
					packB(kern, bp, transB, b, ldb, pc, jc, kc, nc)
					packNow = false
				}
				for jr := 0; jr < nc; jr += nr {
					nw := min(nr, nc-jr)
					if packNow {
						packB(kern, bp[jr*kc:], transB, b, ldb, pc, jc+jr, kc, nw)
					}
					bs := bp[jr*kc : jr*kc+kc*nr]
					for ir := 0; ir < mc; ir += mr {
						mh := min(mr, mc-ir)
						as := aBlk[ir*kc : ir*kc+kc*mr]
						off := (ic+ir)*ldc + jc + jr
						if mh == mr && nw == nr {
							kern.fn(kc, as, bs, c[off:off+(mr-1)*ldc+nr], ldc, alpha, load)
							continue
						}
						edgeTile(kern, kc, as, bs, c[off:], ldc, tile, mh, nw, alpha, load)
					}
				}
			}
		}
	}
	workFree.put(ws)
}

// wholeB reports whether gemmSerial packs a K panel of an untransposed
// B, nc columns wide, in one row-by-row pass rather than sliver by
// sliver: for slivers of at most 32 floats, whose rows are one or two
// cache lines, so that reading a sliver takes a short piece of every row
// of B, which the prefetchers follow worse than whole rows. On an AMD
// EPYC Zen 4 (family 25 model 17), best of 300 alternating calls, that
// was 0.5-7% faster on one thread at 100 and 128 rows and 3-4% at 1024,
// level on two threads; 64-float slivers were measured faster sliver by
// sliver on AMD Zen 5.
func wholeB(kern *microKernel, transB bool, nc int) bool {
	return !transB && kern.copyRows != nil && kern.nr <= 32 && nc > kern.nr
}

// edgeTile computes the partial register block C [rows, cols] (rows <=
// mr, cols <= nr, not both full) from packed slivers as and bs: with the
// edge kernel that covers it, straight into C when it fits exactly, else
// through tile (mr×nr scratch) and addTile.
func edgeTile(kern *microKernel, kc int, as, bs, c []float32, ldc int, tile []float32, rows, cols int, alpha float32, load bool) {
	fn := kern.fn
	if e := kern.edgeFor(rows, cols); e != nil {
		if e.rows == rows && e.cols == cols {
			e.fn(kc, as, bs, c[:(rows-1)*ldc+cols], ldc, alpha, load)
			return
		}
		fn = e.fn
	}
	fn(kc, as, bs, tile, kern.nr, alpha, false)
	addTile(c, ldc, tile, kern.nr, rows, cols, load)
}

// addTile adds (load) or copies the first rows×cols of a tile computed
// into a scratch buffer (row stride nr) into c (row stride ldc): a
// partial register block.
func addTile(c []float32, ldc int, tile []float32, nr, rows, cols int, load bool) {
	for i := 0; i < rows; i++ {
		dst := c[i*ldc : i*ldc+cols]
		src := tile[i*nr : i*nr+cols]
		if load {
			for j, v := range src {
				dst[j] += v
			}
		} else {
			copy(dst, src)
		}
	}
}

// packA packs op(A)[ic:ic+mc, pc:pc+kc] into mr-row slivers: sliver s holds
// dst[s*kc*mr + p*mr + i] = op(A)[ic+s*mr+i, pc+p], zero for rows >= mc.
func packA(dst []float32, transA bool, a []float32, lda, ic, pc, mc, kc, mr int) {
	for s := 0; s*mr < mc; s++ {
		sl := dst[s*kc*mr : (s+1)*kc*mr]
		rows := min(mr, mc-s*mr)
		i0 := ic + s*mr
		if packSliverAsm(sl, transA, a, lda, i0, pc, rows, kc, mr) {
			continue
		}
		if transA {
			// op(A)[i, p] = a[p*lda + i]: contiguous in i.
			switch {
			case rows == 6 && mr == 6:
				gather6(sl, a[pc*lda+i0:], lda, kc)
				continue
			case rows == 3 && mr == 3:
				gather3(sl, a[pc*lda+i0:], lda, kc)
				continue
			case rows == mr:
				for p := 0; p < kc; p++ {
					copySmall(sl[p*mr:p*mr+mr], a[(pc+p)*lda+i0:(pc+p)*lda+i0+mr])
				}
				continue
			}
			for p := 0; p < kc; p++ {
				src := a[(pc+p)*lda+i0 : (pc+p)*lda+i0+rows]
				d := sl[p*mr : p*mr+mr]
				copy(d, src)
				clear(d[rows:])
			}
			continue
		}
		// op(A)[i, p] = a[i*lda + p]: contiguous in p.
		switch {
		case rows == 6 && mr == 6:
			interleave6(sl, a[i0*lda+pc:], lda, kc)
			continue
		case rows == 3 && mr == 3:
			interleave3(sl, a[i0*lda+pc:], lda, kc)
			continue
		}
		for i := 0; i < rows; i++ {
			src := a[(i0+i)*lda+pc : (i0+i)*lda+pc+kc]
			for p, v := range src {
				sl[p*mr+i] = v
			}
		}
		for i := rows; i < mr; i++ {
			for p := 0; p < kc; p++ {
				sl[p*mr+i] = 0
			}
		}
	}
}

// The sliver packers of the AVX2 (6-row) and pure-Go (3-row) kernels check
// their slices once and then read and write through pointers: with six
// source slices bounds-checked per element, the compiler spilled and the
// interleave ran at 1-2 ns per float.

// interleave6 sets dst[p*6+i] = src[i*lds+p] for i < 6, p < kc: six rows
// of A interleaved in one sequential pass over dst.
func interleave6(dst, src []float32, lds, kc int) {
	_ = src[5*lds+kc-1]
	d := unsafe.Pointer(unsafe.SliceData(dst[: 6*kc : 6*kc]))
	r := unsafe.Pointer(unsafe.SliceData(src))
	st := uintptr(lds) * 4
	for p := uintptr(0); p < uintptr(kc); p++ {
		o, q := (*[6]float32)(unsafe.Add(d, 24*p)), unsafe.Add(r, 4*p)
		o[0] = *(*float32)(q)
		o[1] = *(*float32)(unsafe.Add(q, st))
		o[2] = *(*float32)(unsafe.Add(q, 2*st))
		o[3] = *(*float32)(unsafe.Add(q, 3*st))
		o[4] = *(*float32)(unsafe.Add(q, 4*st))
		o[5] = *(*float32)(unsafe.Add(q, 5*st))
	}
}

// interleave3 is interleave6 for three rows.
func interleave3(dst, src []float32, lds, kc int) {
	_ = src[2*lds+kc-1]
	d := unsafe.Pointer(unsafe.SliceData(dst[: 3*kc : 3*kc]))
	r := unsafe.Pointer(unsafe.SliceData(src))
	st := uintptr(lds) * 4
	for p := uintptr(0); p < uintptr(kc); p++ {
		o, q := (*[3]float32)(unsafe.Add(d, 12*p)), unsafe.Add(r, 4*p)
		o[0] = *(*float32)(q)
		o[1] = *(*float32)(unsafe.Add(q, st))
		o[2] = *(*float32)(unsafe.Add(q, 2*st))
	}
}

// gather6 sets dst[p*6+i] = src[p*lds+i] for i < 6, p < kc: six columns
// of a transposed A, one short row per step.
func gather6(dst, src []float32, lds, kc int) {
	_ = src[(kc-1)*lds+5]
	d := unsafe.Pointer(unsafe.SliceData(dst[: 6*kc : 6*kc]))
	r := unsafe.Pointer(unsafe.SliceData(src))
	st := uintptr(lds) * 4
	for p := uintptr(0); p < uintptr(kc); p++ {
		o, i := (*[6]float32)(unsafe.Add(d, 24*p)), (*[6]float32)(unsafe.Add(r, st*p))
		o[0], o[1], o[2], o[3], o[4], o[5] = i[0], i[1], i[2], i[3], i[4], i[5]
	}
}

// gather3 is gather6 for three columns.
func gather3(dst, src []float32, lds, kc int) {
	_ = src[(kc-1)*lds+2]
	d := unsafe.Pointer(unsafe.SliceData(dst[: 3*kc : 3*kc]))
	r := unsafe.Pointer(unsafe.SliceData(src))
	st := uintptr(lds) * 4
	for p := uintptr(0); p < uintptr(kc); p++ {
		o, i := (*[3]float32)(unsafe.Add(d, 12*p)), (*[3]float32)(unsafe.Add(r, st*p))
		o[0], o[1], o[2] = i[0], i[1], i[2]
	}
}

// packB packs op(B)[pc:pc+kc, jc:jc+nc] into nr-column slivers: sliver s
// holds dst[s*kc*nr + p*nr + j] = op(B)[pc+p, jc+s*nr+j], zero for columns
// >= nc.
func packB(kern *microKernel, dst []float32, transB bool, b []float32, ldb, pc, jc, kc, nc int) {
	nr := kern.nr
	s0 := 0 // first sliver the generic loop below packs
	if !transB && kern.copyRows != nil && nc == nr {
		// One sliver (gemmSerial packs B sliver by sliver): kc rows of
		// nr floats, one call.
		_ = dst[kc*nr-1]
		_ = b[(pc+kc-1)*ldb+jc+nr-1]
		kern.copyRows(kc, &b[pc*ldb+jc], ldb, &dst[0], nr)
		return
	}
	if full := nc / nr; !transB && kern.copyRows != nil && full > 0 {
		// Walk B row by row (sequential reads, which the hardware
		// prefetchers follow), scattering each row's full slivers; the
		// partial last sliver goes through the loop below.
		_ = dst[full*kc*nr-1]
		for p := 0; p < kc; p++ {
			row := b[(pc+p)*ldb+jc : (pc+p)*ldb+jc+full*nr]
			kern.copyRows(full, &row[0], nr, &dst[p*nr], kc*nr)
		}
		s0 = full
	}
	for s := s0; s*nr < nc; s++ {
		sl := dst[s*kc*nr : (s+1)*kc*nr]
		cols := min(nr, nc-s*nr)
		j0 := jc + s*nr
		if !transB {
			// op(B)[p, j] = b[p*ldb + j]: contiguous in j.
			if cols == nr {
				for p := 0; p < kc; p++ {
					copySmall(sl[p*nr:p*nr+nr], b[(pc+p)*ldb+j0:(pc+p)*ldb+j0+nr])
				}
				continue
			}
			for p := 0; p < kc; p++ {
				src := b[(pc+p)*ldb+j0 : (pc+p)*ldb+j0+cols]
				d := sl[p*nr : p*nr+nr]
				copy(d, src)
				clear(d[cols:])
			}
			continue
		}
		// op(B)[p, j] = b[j*ldb + p]: contiguous in p.
		if nr == 2 && cols == 2 {
			// The pure-Go kernel's sliver: two rows of b interleaved in
			// one sequential pass over the destination.
			r0 := b[j0*ldb+pc:][:kc]
			r1 := b[(j0+1)*ldb+pc:][:kc]
			for p := range r0 {
				d := sl[2*p : 2*p+2 : 2*p+2]
				d[0], d[1] = r0[p], r1[p]
			}
			continue
		}
		if kern.transpose != nil && cols == nr && nr%8 == 0 && kc >= 8 {
			// Full sliver: 8×8 block transposes, then the kc%8 tail.
			k8 := kc / 8 * 8
			for h := 0; h < nr; h += 8 {
				src := b[(j0+h)*ldb+pc : (j0+h+7)*ldb+pc+k8]
				kern.transpose(k8/8, &src[0], ldb, &sl[h], nr)
			}
			for j := 0; j < nr; j++ {
				for p := k8; p < kc; p++ {
					sl[p*nr+j] = b[(j0+j)*ldb+pc+p]
				}
			}
			continue
		}
		for j := 0; j < cols; j++ {
			src := b[(j0+j)*ldb+pc : (j0+j)*ldb+pc+kc]
			for p, v := range src {
				sl[p*nr+j] = v
			}
		}
		for j := cols; j < nr; j++ {
			for p := 0; p < kc; p++ {
				sl[p*nr+j] = 0
			}
		}
	}
}

// copySmall copies src into dst (equal lengths) with inline moves for the
// register-block widths, avoiding a memmove call per packed row.
func copySmall(dst, src []float32) {
	// Element by element: an array assignment through these pointers
	// compiles to a memmove call (the compiler cannot rule out a partial
	// overlap), which costs twice as much at these lengths.
	switch len(src) {
	case 6:
		d, s := dst[:6:6], src[:6:6]
		d[0], d[1], d[2], d[3], d[4], d[5] = s[0], s[1], s[2], s[3], s[4], s[5]
	case 8:
		d, s := dst[:8:8], src[:8:8]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
	case 16:
		d, s := dst[:16:16], src[:16:16]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
		d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15] = s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]
	default:
		if len(src) > 32 {
			copy(dst, src)
			return
		}
		d := dst[:len(src)]
		//lint:ignore S1001 a loop, not copy: copy calls memmove, slower at these lengths
		for i, v := range src {
			d[i] = v
		}
	}
}
