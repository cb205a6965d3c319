package kernels

import (
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// MR is the number of activation rows every kernel call computes. Gemm
// requires m to be a multiple of MR; callers pad the activation rows.
const MR = 4

// Kernel names accepted by Force and reported by Selected.
const (
	NameGo   = "go"
	NameAVX2 = "avx2"
	NameVNNI = "avx512vnni"
	// arm64: Advanced SIMD (every arm64 CPU), and SDOT (FEAT_DotProd,
	// Cortex-A55/A76 and later)
	NameNEON    = "neon"
	NameDotProd = "dotprod"
)

// micro computes C[4, 16*np] for 4 activation rows and np panels
// (np is 1 or, for kernels with wide, 4).
type impl struct {
	name   string
	narrow func(x *uint8, ldx uintptr, w *int8, k4 uintptr, c *int32, ldc uintptr)
	wide   func(x *uint8, ldx uintptr, w *int8, pstride uintptr, k4 uintptr, c *int32, ldc uintptr) // 4 panels, or nil
	// narrow16, when set, is narrow with int16 partial sums over blocks
	// of inner steps, used when Gemm's pair bound allows inner >= 2.
	narrow16 func(x *uint8, ldx uintptr, w *int8, k4 uintptr, c *int32, ldc uintptr, inner uintptr)
	// gemm, when set, replaces the panel loop of Gemm entirely (called
	// after Gemm's checks with m, n and Pad4(k) > 0).
	gemm func(threads, pairMax, m, n, k int, x []uint8, ldx int, wp []int8, c []int32, ldc int)
}

var (
	implGo  = impl{name: NameGo, narrow: kern4x16Go, gemm: gemmSWAR}
	current = best()
)

// init honours RESQ_PACKED_KERNEL (go, avx2, avx512vnni, neon, dotprod) to pin a kernel,
// e.g. to rule out one while investigating a result.
func init() {
	if name := os.Getenv("RESQ_PACKED_KERNEL"); name != "" {
		if _, err := Force(name); err != nil {
			fmt.Fprintf(os.Stderr, "%v; using %s\n", err, current.name)
		}
	}
}

// Available lists the kernels this CPU can run, fastest last.
func Available() []string {
	out := []string{NameGo}
	if hasAVX2() {
		out = append(out, NameAVX2)
	}
	if hasVNNI() {
		out = append(out, NameVNNI)
	}
	return append(out, armAvailable()...)
}

// Selected returns the name of the kernel Gemm uses.
func Selected() string { return current.name }

// Force makes Gemm use the named kernel and returns the previous name. It is
// for tests and benchmarks and must not run concurrently with Gemm. It
// returns an error if the kernel is unknown or this CPU lacks it.
func Force(name string) (string, error) {
	prev := current.name
	for _, n := range Available() {
		if n == name {
			current = byName(name)
			return prev, nil
		}
	}
	return prev, fmt.Errorf("kernels: kernel %q not available on this CPU (have %v)", name, Available())
}

func best() impl {
	a := Available()
	return byName(a[len(a)-1])
}

func hasAVX2() bool { return archOK && cpu.X86.HasAVX2 }

func hasVNNI() bool {
	return archOK && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI
}

// rowsAVX2 reports whether the row helpers (rows.go) run their AVX2 loops:
// with every x86 kernel but the pure-Go one.
func rowsAVX2() bool { return archOK && current.name != NameGo }

// Gemm computes c[i*ldc+j] = sum_p x[i*ldx+p] * W[j, p] for i < m,
// j < Pad16(n), p < k, where wp is W packed by PackW(wp, W, n, k). Columns
// n..Pad16(n)-1 come out zero. Preconditions (programming errors, panic):
// m % MR == 0, ldx >= Pad4(k), ldc >= Pad16(n), slices long enough; and, for
// the AVX2 kernel to be exact, every |x0*w0 + x1*w1| <= 32767 (see the
// package documentation).
//
// threads bounds the goroutines Gemm uses (split over column panels);
// threads <= 0 means GOMAXPROCS. Small problems always run on the caller's
// goroutine.
//
// pairMax, when > 0, promises |x0*w0 + x1*w1| <= pairMax for every pair
// (e.g. 2*255*1 = 510 for ternary weights with 8-bit activations); the
// AVX2 kernel then adds 32767/pairMax pairs in int16 before widening,
// which saves a third of its instructions for low-bit weights.
func Gemm(threads, pairMax, m, n, k int, x []uint8, ldx int, wp []int8, c []int32, ldc int) {
	kp, np := Pad4(k), Pad16(n)/16
	switch {
	case m%MR != 0:
		panic(fmt.Sprintf("kernels: Gemm rows %d not a multiple of %d", m, MR))
	case ldx < kp || ldc < np*16:
		panic(fmt.Sprintf("kernels: Gemm [%d, %d]x[%d, %d]: ldx %d < %d or ldc %d < %d", m, k, k, n, ldx, kp, ldc, np*16))
	case len(wp) != PackedLen(n, k):
		panic(fmt.Sprintf("kernels: Gemm packed weights [%d, %d] need %d bytes, have %d", n, k, PackedLen(n, k), len(wp)))
	case m > 0 && (len(x) < (m-1)*ldx+kp || len(c) < (m-1)*ldc+np*16):
		panic(fmt.Sprintf("kernels: Gemm [%d, %d]: x has %d bytes, c has %d ints, too short", m, n, len(x), len(c)))
	}
	if m == 0 || n == 0 {
		return
	}
	if kp == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+np*16])
		}
		return
	}
	ker := current
	if ker.gemm != nil {
		ker.gemm(threads, pairMax, m, n, k, x, ldx, wp, c, ldc)
		return
	}
	groups := np
	if ker.wide != nil {
		groups = (np + 3) / 4
	}
	inner := 0
	if pairMax > 0 && ker.narrow16 != nil && 32767/pairMax >= 2 {
		inner = 32767 / pairMax
	}
	workers := splitWorkers(threads, m*np*16*kp, groups)
	if workers == 1 {
		run(ker, inner, m, kp, np, 0, groups, x, ldx, wp, c, ldc)
		return
	}
	j := gemmJobFree.Get().(*gemmJob)
	*j = gemmJob{ker: ker, inner: inner, m: m, kp: kp, np: np, x: x, ldx: ldx, wp: wp, c: c, ldc: ldc}
	runSplit(j, groups, workers)
	*j = gemmJob{}
	gemmJobFree.Put(j)
}

// gemmJob is a Gemm call split over helpers (helpers.go).
type gemmJob struct {
	ker              impl
	inner, m, kp, np int
	x                []uint8
	ldx              int
	wp               []int8
	c                []int32
	ldc              int
}

var gemmJobFree = sync.Pool{New: func() any { return new(gemmJob) }}

func (j *gemmJob) runGroups(g0, g1 int) {
	run(j.ker, j.inner, j.m, j.kp, j.np, g0, g1, j.x, j.ldx, j.wp, j.c, j.ldc)
}

// run computes the panel groups [g0, g1) for all rows; inner > 0 selects
// the int16-block kernel.
func run(k impl, inner, m, kp, np, g0, g1 int, x []uint8, ldx int, wp []int8, c []int32, ldc int) {
	pstride := kp * 16
	k4 := uintptr(kp / 4)
	for g := g0; g < g1; g++ {
		p0, p1 := g, g+1
		if k.wide != nil {
			p0, p1 = 4*g, min(4*g+4, np)
		}
		for i := 0; i < m; i += MR {
			xp := &x[i*ldx]
			if p1-p0 == 4 {
				k.wide(xp, uintptr(ldx), &wp[p0*pstride], uintptr(pstride), k4, &c[i*ldc+p0*16], uintptr(ldc))
				continue
			}
			for p := p0; p < p1; p++ {
				if inner > 0 {
					k.narrow16(xp, uintptr(ldx), &wp[p*pstride], k4, &c[i*ldc+p*16], uintptr(ldc), uintptr(inner))
				} else {
					k.narrow(xp, uintptr(ldx), &wp[p*pstride], k4, &c[i*ldc+p*16], uintptr(ldc))
				}
			}
		}
	}
}

// kern4x16Go is the portable kernel: C[4, 16] for one panel.
func kern4x16Go(x *uint8, ldx uintptr, w *int8, k4 uintptr, c *int32, ldc uintptr) {
	n := int(k4) * 4
	xs := unsafe.Slice(x, 3*int(ldx)+n)
	ws := unsafe.Slice(w, int(k4)*64)
	cs := unsafe.Slice(c, 3*int(ldc)+16)
	for r := 0; r < 4; r++ {
		row := xs[r*int(ldx) : r*int(ldx)+n]
		var acc [16]int32
		for s := 0; s < int(k4); s++ {
			x0, x1, x2, x3 := int32(row[4*s]), int32(row[4*s+1]), int32(row[4*s+2]), int32(row[4*s+3])
			blk := ws[s*64 : s*64+64]
			for j := 0; j < 16; j++ {
				b := blk[4*j : 4*j+4]
				acc[j] += x0*int32(b[0]) + x1*int32(b[1]) + x2*int32(b[2]) + x3*int32(b[3])
			}
		}
		copy(cs[r*int(ldc):r*int(ldc)+16], acc[:])
	}
}
