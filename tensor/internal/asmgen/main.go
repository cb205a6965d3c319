// Command asmgen generates the GEMM micro-kernels in tensor/gemm_amd64.s
// (and their Go declarations in gemm_amd64_stub.go) with avo. It is a tool
// of the module (go.mod's tool directive): run `go generate` in tensor after
// editing, which runs `go tool asmgen`; the generated files are committed.
//
// Every kernel has the signature
//
//	func(k int, a, b, c *float32, ldc int, alpha float32, load bool)
//
// and computes the mr×nr tile C = alpha*Ap*Bp (+ C when load) from a packed
// A sliver Ap [k][mr] and a packed B sliver Bp [k][nr] (see microKernel in
// gemm.go). C rows are ldc floats apart.
package main

//lint:file-ignore ST1001 avo's DSL reads as assembly with its packages dot-imported

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const sig = "func(k int, a, b, c *float32, ldc int, alpha float32, load bool)"

func main() {
	Package("github.com/resq-dev/resq/tensor")
	ConstraintExpr("amd64,!purego")
	// AVX-512: mr rows × nv zmm vectors (16 floats each) of accumulators.
	for _, s := range [][2]int{{14, 2}, {12, 2}, {8, 3}, {28, 1}} {
		avx512(s[0], s[1])
	}
	for _, s := range [][2]int{{6, 4}, {8, 3}} {
		avx512r(s[0], s[1])
	}
	avx2(6, 2)
	sse(6, 2)
	transpose8()
	for _, w := range []int{16, 32, 48, 64} {
		copyRows(w)
	}
	Generate()
}

// unroll is how many k steps one loop iteration of a GEMM kernel does; a
// second loop handles k % unroll.
const unroll = 4

// gemmKernel emits one micro-kernel: mr*nv accumulators of vw floats
// (vw = 16: zmm, AVX-512, A elements broadcast by the FMA itself unless
// bcastReg; vw = 8: ymm, AVX2+FMA, A elements broadcast into a register
// first). With bcastReg (AVX-512 only) each A element is broadcast into
// one of two alternating registers and used by its row's nv FMAs: one
// load per row instead of nv (mr + nv loads per step instead of mr*nv +
// nv), which runs at the FMA peak on AMD Zen 5, where the FMAs with a
// broadcast memory operand reach only 73-90% of it.
func gemmKernel(name string, mr, nv, vw int, bcastReg bool) {
	TEXT(name, NOSPLIT, sig)
	isa := "AVX2 and FMA"
	if vw == 16 {
		isa = "AVX-512F"
	}
	Doc(fmt.Sprintf("%s computes a %d×%d tile with %s.", name, mr, vw*nv, isa))
	vec := func() VecVirtual {
		if vw == 16 {
			return ZMM()
		}
		return YMM()
	}
	vb := 4 * vw // bytes per vector
	k, a, b, c, ldc := kernelArgs()
	// Prefetch the C tile, which is read or written after the loop.
	pc := GP64()
	MOVQ(c, pc)
	for i := 0; i < mr; i++ {
		// Every cache line the (possibly unaligned) row touches.
		for off := 0; off < vb*nv; off += 64 {
			PREFETCHT0(Mem{Base: pc, Disp: off})
		}
		PREFETCHT0(Mem{Base: pc, Disp: vb*nv - 4})
		if i < mr-1 {
			ADDQ(ldc, pc)
		}
	}
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, nv)
		for j := range acc[i] {
			acc[i][j] = vec()
			if vw == 16 {
				VPXORD(acc[i][j], acc[i][j], acc[i][j])
			} else {
				VXORPS(acc[i][j], acc[i][j], acc[i][j])
			}
		}
	}
	bv := make([]VecVirtual, nv)
	for j := range bv {
		bv[j] = vec()
	}
	var t VecVirtual
	var tt [2]VecVirtual // bcastReg's broadcast registers
	if vw != 16 {
		t = vec()
	}
	if vw == 16 && bcastReg {
		tt[0], tt[1] = vec(), vec()
	}
	// step emits one rank-1 update from A at a+aoff and B at b+boff.
	step := func(aoff, boff int) {
		for j := range bv {
			VMOVUPS(Mem{Base: b, Disp: boff + vb*j}, bv[j])
		}
		for i := 0; i < mr; i++ {
			if vw == 16 && bcastReg {
				VBROADCASTSS(Mem{Base: a, Disp: aoff + 4*i}, tt[i%2])
				for j := 0; j < nv; j++ {
					VFMADD231PS(bv[j], tt[i%2], acc[i][j])
				}
				continue
			}
			if vw == 16 {
				for j := 0; j < nv; j++ {
					VFMADD231PS_BCST(Mem{Base: a, Disp: aoff + 4*i}, bv[j], acc[i][j])
				}
				continue
			}
			VBROADCASTSS(Mem{Base: a, Disp: aoff + 4*i}, t)
			for j := 0; j < nv; j++ {
				VFMADD231PS(bv[j], t, acc[i][j])
			}
		}
	}
	kLoop(name, k, a, b, 4*mr, vb*nv, step)

	Label(name + "_store")
	alpha := vec()
	VBROADCASTSS(NewParamAddr("alpha", 40), alpha)
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			VMULPS(alpha, acc[i][j], acc[i][j])
		}
	}
	CMPB(NewParamAddr("load", 44), U8(0))
	JE(LabelRef(name + "_noload"))
	c2 := GP64()
	MOVQ(c, c2)
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			VADDPS(Mem{Base: c2, Disp: vb * j}, acc[i][j], acc[i][j])
			VMOVUPS(acc[i][j], Mem{Base: c2, Disp: vb * j})
		}
		if i < mr-1 {
			ADDQ(ldc, c2)
		}
	}
	VZEROUPPER()
	RET()
	Label(name + "_noload")
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			VMOVUPS(acc[i][j], Mem{Base: c, Disp: vb * j})
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// kernelArgs loads a kernel's k, a, b, c and ldc (in bytes) arguments.
func kernelArgs() (k, a, b, c, ldc Register) {
	k = Load(Param("k"), GP64())
	a = Load(Param("a"), GP64())
	b = Load(Param("b"), GP64())
	c = Load(Param("c"), GP64())
	ldc = Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	return k, a, b, c, ldc
}

// kLoop emits a kernel's K loop: unroll steps per iteration while k allows,
// then one step at a time, each step reading aStep bytes of the A sliver
// and bStep bytes of the B sliver through step(aoff, boff); it falls
// through to name_store.
func kLoop(name string, k, a, b Register, aStep, bStep int, step func(aoff, boff int)) {
	n4 := GP64()
	MOVQ(k, n4)
	SHRQ(U8(2), n4)
	ANDQ(U8(unroll-1), k)
	Label(name + "_loop4")
	TESTQ(n4, n4)
	JZ(LabelRef(name + "_tail"))
	PREFETCHT0(Mem{Base: a, Disp: aStep * unroll * 4})
	for u := 0; u < unroll; u++ {
		step(aStep*u, bStep*u)
	}
	ADDQ(U32(aStep*unroll), a)
	ADDQ(U32(bStep*unroll), b)
	DECQ(n4)
	JMP(LabelRef(name + "_loop4"))
	Label(name + "_tail")
	TESTQ(k, k)
	JZ(LabelRef(name + "_store"))
	step(0, 0)
	ADDQ(U32(aStep), a)
	ADDQ(U32(bStep), b)
	DECQ(k)
	JMP(LabelRef(name + "_tail"))
}

// avx512 emits sgemmAVX512_<mr>x<16nv>.
func avx512(mr, nv int) { gemmKernel(fmt.Sprintf("sgemmAVX512_%dx%d", mr, 16*nv), mr, nv, 16, false) }

// avx512r emits sgemmAVX512_<mr>x<16nv>r, the register-broadcast form
// (6×64: 24 accumulators, 4 B vectors, 2 broadcasts; 8×48: 24, 3, 2).
func avx512r(mr, nv int) {
	gemmKernel(fmt.Sprintf("sgemmAVX512_%dx%dr", mr, 16*nv), mr, nv, 16, true)
}

// avx2 emits sgemmAVX2_<mr>x<8nv> (6×16 uses all 16 ymm registers: 12
// accumulators, 2 B vectors, 1 broadcast, alpha reuses a freed one).
func avx2(mr, nv int) { gemmKernel(fmt.Sprintf("sgemmAVX2_%dx%d", mr, 8*nv), mr, nv, 8, false) }

// sse emits sgemmSSE_<mr>x<4nv>, for amd64 CPUs without AVX2+FMA: SSE only
// (every amd64 CPU has it), no FMA, two-operand instructions. 6×8 uses all
// 16 xmm registers: 12 accumulators, 2 B vectors, the broadcast A element
// and one product register (the row's last product is formed in the
// broadcast register itself, saving a copy).
func sse(mr, nv int) {
	name := fmt.Sprintf("sgemmSSE_%dx%d", mr, 4*nv)
	TEXT(name, NOSPLIT, sig)
	Doc(fmt.Sprintf("%s computes a %d×%d tile with SSE.", name, mr, 4*nv))
	k, a, b, c, ldc := kernelArgs()
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, nv)
		for j := range acc[i] {
			acc[i][j] = XMM()
			XORPS(acc[i][j], acc[i][j])
		}
	}
	bv := make([]VecVirtual, nv)
	for j := range bv {
		bv[j] = XMM()
	}
	t, p := XMM(), XMM()
	step := func(aoff, boff int) {
		for j := range bv {
			MOVUPS(Mem{Base: b, Disp: boff + 16*j}, bv[j])
		}
		for i := 0; i < mr; i++ {
			MOVSS(Mem{Base: a, Disp: aoff + 4*i}, t)
			SHUFPS(U8(0), t, t)
			for j := 0; j < nv-1; j++ {
				MOVAPS(bv[j], p)
				MULPS(t, p)
				ADDPS(p, acc[i][j])
			}
			MULPS(bv[nv-1], t)
			ADDPS(t, acc[i][nv-1])
		}
	}
	kLoop(name, k, a, b, 4*mr, 16*nv, step)

	Label(name + "_store")
	alpha := XMM()
	MOVSS(NewParamAddr("alpha", 40), alpha)
	SHUFPS(U8(0), alpha, alpha)
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			MULPS(alpha, acc[i][j])
		}
	}
	CMPB(NewParamAddr("load", 44), U8(0))
	JE(LabelRef(name + "_noload"))
	c2 := GP64()
	MOVQ(c, c2)
	old := XMM()
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			MOVUPS(Mem{Base: c2, Disp: 16 * j}, old)
			ADDPS(old, acc[i][j])
			MOVUPS(acc[i][j], Mem{Base: c2, Disp: 16 * j})
		}
		if i < mr-1 {
			ADDQ(ldc, c2)
		}
	}
	RET()
	Label(name + "_noload")
	for i := 0; i < mr; i++ {
		for j := 0; j < nv; j++ {
			MOVUPS(acc[i][j], Mem{Base: c, Disp: 16 * j})
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	RET()
}

// transpose8 emits transpose8x8AVX(blocks int, src *float32, lds int,
// dst *float32, ldd int): for each of blocks blocks of 8 columns it reads
// an 8×8 block of src (rows lds floats apart, block q at column 8q) and
// writes its transpose to dst (rows ldd floats apart, block q at row 8q).
// It packs transposed operands (op(B) = B^T) into slivers.
func transpose8() {
	TEXT("transpose8x8AVX", NOSPLIT, "func(blocks int, src *float32, lds int, dst *float32, ldd int)")
	Doc("transpose8x8AVX transposes blocks 8×8 blocks of src into dst (AVX).")
	n := Load(Param("blocks"), GP64())
	src := Load(Param("src"), GP64())
	lds := Load(Param("lds"), GP64())
	dst := Load(Param("dst"), GP64())
	ldd := Load(Param("ldd"), GP64())
	SHLQ(U8(2), lds)
	SHLQ(U8(2), ldd)
	lds3 := GP64()
	LEAQ(Mem{Base: lds, Index: lds, Scale: 2}, lds3)
	ldd3 := GP64()
	LEAQ(Mem{Base: ldd, Index: ldd, Scale: 2}, ldd3)
	Label("transpose_loop")
	TESTQ(n, n)
	JZ(LabelRef("transpose_done"))
	r := make([]VecVirtual, 8)
	s4 := GP64()
	MOVQ(src, s4)
	for i := 0; i < 8; i++ {
		r[i] = YMM()
		if i == 4 {
			LEAQ(Mem{Base: src, Index: lds, Scale: 4}, s4)
		}
		base := s4
		switch i % 4 {
		case 0:
			VMOVUPS(Mem{Base: base}, r[i])
		case 1:
			VMOVUPS(Mem{Base: base, Index: lds, Scale: 1}, r[i])
		case 2:
			VMOVUPS(Mem{Base: base, Index: lds, Scale: 2}, r[i])
		case 3:
			VMOVUPS(Mem{Base: base, Index: lds3, Scale: 1}, r[i])
		}
	}
	t := make([]VecVirtual, 8)
	for i := range t {
		t[i] = YMM()
	}
	for h := 0; h < 2; h++ {
		o := 4 * h
		VUNPCKLPS(r[o+1], r[o], t[o])
		VUNPCKHPS(r[o+1], r[o], t[o+1])
		VUNPCKLPS(r[o+3], r[o+2], t[o+2])
		VUNPCKHPS(r[o+3], r[o+2], t[o+3])
		VSHUFPS(U8(0x44), t[o+2], t[o], r[o])
		VSHUFPS(U8(0xEE), t[o+2], t[o], r[o+1])
		VSHUFPS(U8(0x44), t[o+3], t[o+1], r[o+2])
		VSHUFPS(U8(0xEE), t[o+3], t[o+1], r[o+3])
	}
	// r0..r3 hold rows 0-3 transposed per 128-bit lane, r4..r7 rows 4-7.
	for q := 0; q < 4; q++ {
		VPERM2F128(U8(0x20), r[4+q], r[q], t[q])
		VPERM2F128(U8(0x31), r[4+q], r[q], t[4+q])
	}
	d4 := GP64()
	LEAQ(Mem{Base: dst, Index: ldd, Scale: 4}, d4)
	for q := 0; q < 8; q++ {
		base := dst
		if q >= 4 {
			base = d4
		}
		switch q % 4 {
		case 0:
			VMOVUPS(t[q], Mem{Base: base})
		case 1:
			VMOVUPS(t[q], Mem{Base: base, Index: ldd, Scale: 1})
		case 2:
			VMOVUPS(t[q], Mem{Base: base, Index: ldd, Scale: 2})
		case 3:
			VMOVUPS(t[q], Mem{Base: base, Index: ldd3, Scale: 1})
		}
	}
	ADDQ(U8(32), src)
	LEAQ(Mem{Base: dst, Index: ldd, Scale: 8}, dst)
	DECQ(n)
	JMP(LabelRef("transpose_loop"))
	Label("transpose_done")
	VZEROUPPER()
	RET()
}

// copyRows emits copyRowsAVX<w>(rows int, src *float32, lds int, dst
// *float32, ldd int): dst[r*ldd : r*ldd+w] = src[r*lds : r*lds+w] for
// r < rows, with ymm moves. It packs full slivers of an untransposed B
// (w = NR).
func copyRows(w int) {
	name := fmt.Sprintf("copyRowsAVX%d", w)
	TEXT(name, NOSPLIT, "func(rows int, src *float32, lds int, dst *float32, ldd int)")
	Doc(fmt.Sprintf("%s copies rows rows of %d floats from src (lds apart) to dst (ldd apart) (AVX).", name, w))
	n := Load(Param("rows"), GP64())
	src := Load(Param("src"), GP64())
	lds := Load(Param("lds"), GP64())
	dst := Load(Param("dst"), GP64())
	ldd := Load(Param("ldd"), GP64())
	SHLQ(U8(2), lds)
	SHLQ(U8(2), ldd)
	v := make([]VecVirtual, w/8)
	for i := range v {
		v[i] = YMM()
	}
	Label(name + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	for i := range v {
		VMOVUPS(Mem{Base: src, Disp: 32 * i}, v[i])
	}
	for i := range v {
		VMOVUPS(v[i], Mem{Base: dst, Disp: 32 * i})
	}
	ADDQ(lds, src)
	ADDQ(ldd, dst)
	DECQ(n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
