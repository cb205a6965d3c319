//go:build amd64 && !purego

package tensor

import (
	"fmt"
	"strings"
	"sync"

	"github.com/resq-dev/resq/internal/host"
	"golang.org/x/sys/cpu"
)

//go:generate go tool asmgen -out gemm_amd64.s -stubs gemm_amd64_stub.go -edges gemm_amd64_edges.go

type asmKernel func(k int, a, b, c *float32, ldc int, alpha float32, load bool)

// asmEdge is one assembly edge kernel (see edgeKernel), as asmgen lists
// them in asmEdges.
type asmEdge struct {
	rows, cols int
	fn         asmKernel
}

// wrapAsm adapts an assembly micro-kernel to microKernel.fn, checking once
// per tile that the slices cover what the kernel will touch.
func wrapAsm(fn asmKernel, mr, nr int) func(k int, a, b, c []float32, ldc int, alpha float32, load bool) {
	return wrapEdge(fn, mr, nr, mr, nr)
}

// wrapEdge is wrapAsm for a kernel that computes rows×cols of an mr×nr
// tile.
func wrapEdge(fn asmKernel, mr, nr, rows, cols int) func(k int, a, b, c []float32, ldc int, alpha float32, load bool) {
	return func(k int, a, b, c []float32, ldc int, alpha float32, load bool) {
		_ = a[k*mr-1]
		_ = b[k*nr-1]
		_ = c[(rows-1)*ldc+cols-1]
		fn(k, &a[0], &b[0], &c[0], ldc, alpha, load)
	}
}

func newAsmKernel(name string, fn asmKernel, mr, nr, kc, mc, nc int) *microKernel {
	k := &microKernel{name: name, mr: mr, nr: nr, kc: kc, mc: mc, nc: nc, fn: wrapAsm(fn, mr, nr), transpose: transpose8x8AVX}
	for _, e := range asmEdges[name] {
		k.edges = append(k.edges, edgeKernel{rows: e.rows, cols: e.cols, fn: wrapEdge(e.fn, mr, nr, e.rows, e.cols)})
	}
	switch nr {
	case 16:
		k.copyRows = copyRowsAVX16
	case 32:
		k.copyRows = copyRowsAVX32
	case 48:
		k.copyRows = copyRowsAVX48
	case 64:
		k.copyRows = copyRowsAVX64
	}
	return k
}

// archAltKernel names the second kernel auto mode uses for shapes it pads
// less (see pickKernel), or "", and whether it may be used whatever the
// shape (else only for C split by columns). On AMD Zen 4 (family 25 with AVX-512),
// which executes a 512-bit FMA as two 256-bit halves, the AVX2 6×16
// kernel multiplies at the AVX-512 kernels' rate (BenchmarkMicroKernel:
// 113-115 GFLOP/s each) and its 6-row slivers pad M = 100 to 102 rows
// where 14-row ones pad it to 112; measured faster there at the small-M
// training shapes (C split by columns). On AMD Zen 5 (family 26) the
// 8×48 register-broadcast kernel backs the 6×64 one for any shape it
// pads less: N = 784 pads to 816 columns against 832, and the two run at
// the same rate (see archKernels). On Intel Xeon Sapphire and Emerald
// Rapids (intelSPR) the register-broadcast 6×64 kernel backs the
// embedded-broadcast 14×32 one for C split by columns: it pads M = 100
// and 128 to 102 and 132 rows where 14×32 pads them to 112 and 140, and
// it was measured 3-11% faster at those training shapes on an Emerald
// Rapids (family 6 model 207, one and two threads), while 14×32 stays
// ahead where M is large. It is taken where it pads to under 0.99 of the
// work, not altGain's 0.98: at 128×784 (BwdData128x1024x784) it pads to
// 0.981, and on the Xeon of family 6 model 167 it ran that shape 12%
// faster than 14×32; the square 1024×1024 (0.990) stays with 14×32. Other Intel CPUs with AVX-512 run
// 6×64 first for every shape (archKernels) and need no second kernel.
// CPUs with two 512-bit FMA units run AVX2 at half rate. These choices
// were measured before the edge kernels (microKernel.edges), which take
// most of the padding's cost away from both kernels of a pair: on the Zen 4
// above, 14×32 and 6×16 with their edge kernels were within 1-7% of each
// other at the small-M training shapes, neither ahead at all of them, so
// the choice stays. gain, when
// non-zero, replaces altGain for the kernel.
func archAltKernel() (name string, anyShape bool, gain float64) {
	switch {
	case !cpu.X86.HasAVX512F:
		return "", false, 0
	case zen4():
		return "avx2-6x16", false, 0
	case amdFamily() >= 26:
		return "avx512-8x48r", true, 0
	case intelSPR():
		return "avx512-6x64r", false, 0.99
	}
	return "", false, 0
}

// intel reports whether the CPU is an Intel one.
func intel() bool { return strings.Contains(host.CPU(), "Intel") }

// intelSPR reports an Intel Xeon Sapphire Rapids (family 6 model 143) or
// Emerald Rapids (model 207), the Intel CPUs 14×32 was measured best on.
func intelSPR() bool {
	f, m := cpuFamilyModel()
	return intel() && f == 6 && (m == 143 || m == 207)
}

// zen4 reports an AMD Zen 4: family 25 with AVX-512 (Zen 3, also family
// 25, has none).
func zen4() bool { return cpu.X86.HasAVX512F && amdFamily() == 25 }

// amdFamily returns the CPU family of an AMD processor (25: Zen 3 and
// Zen 4, 26: Zen 5), 0 for other vendors or when it is not known. It is
// computed once: the convolutions ask on every call.
var amdFamily = sync.OnceValue(func() int {
	if !strings.Contains(host.CPU(), "AMD") {
		return 0
	}
	f, _ := cpuFamilyModel()
	return f
})

// cpuFamilyModel parses the "(family F model M)" host.CPU appends to the
// model name, once; zeros when it is absent.
var cpuFamilyModel = sync.OnceValues(func() (family, model int) { return familyModel(host.CPU()) })

// familyModel parses the "(family F model M)" at the end of a CPU name.
func familyModel(name string) (family, model int) {
	_, rest, ok := strings.Cut(name, "(family ")
	if !ok {
		return 0, 0
	}
	if _, err := fmt.Sscanf(rest, "%d model %d)", &family, &model); err != nil {
		return 0, 0
	}
	return family, model
}

// archKernels returns the assembly kernels this CPU supports, best first.
// AVX2 blocking was tuned by measurement on this project's dev machine
// (AMD EPYC without AVX-512 exposed): KC = 256 keeps the 16 KiB B sliver
// in L1, MC = 144 keeps the 144 KiB packed A block in L2 and covers a batch
// of 128 in one block. The embedded-broadcast AVX-512 blocking follows the
// same rules for a 32 KiB L1 / 1 MiB L2, except 14×32's K panel on AMD
// Zen 4 (family 25): there K panels of up to 512 (a 64 KiB B sliver,
// streamed from L2, and a 280 KiB A block) halve the C loads and stores
// per multiply-add against 192, and measured faster at every shape tried,
// best of 40 rounds of calls taking turns in one process on an AMD EPYC
// family 25 model 17: 1024³ 98.6-101.3 to 105.5-106.8 GFLOP/s on one
// thread and 168.7-194.6 to 184.8-207.2 on two, 2048³ 98.6 to 106.1,
// 512×4096×512, 1024×3136×512 and 1000×800×1000 level to 2% ahead; 384
// came between the two, and larger row blocks (MC) gained nothing. On the
// same CPU 6×16, auto mode's kernel for the small-M training shapes,
// takes K panels of up to 384 (a 24 KiB B sliver, still in L1): 0.4-4%
// ahead of 256 at 100 and 128 rows with K = 784 and 1024 on one thread
// (e.g. 100×1024×784 100.9 to 104.8 GFLOP/s), level to 3% ahead on two.
//
// The register-broadcast AVX-512 kernels (6×64 and 8×48, "r": one
// broadcast per row of A feeds all its FMAs, see tensor/internal/asmgen)
// come first on AMD Zen 5 (family 26), which runs two full 512-bit FMAs a
// cycle: they reach its FMA peak where the embedded-broadcast kernels
// stay at 73-90% of it, and their wide B slivers stream a half (6×64) or
// two thirds (8×48) of 14×32's A bytes from L2 per FMA. Their blocking
// was measured on Zen 5 (48 KiB L1, 1 MiB L2): KC = 192 (a 48 KiB 6×64 B
// sliver at most; 128 and 256 measured no better), MC = 144 and 128 (72
// and 288 no better). Elsewhere they come after the other AVX-512
// kernels, untuned.
//
// On Intel CPUs (48 KiB L1) 14×32 takes K panels of up to 320 (a 40 KiB
// B sliver): on a Xeon Emerald Rapids (family 6 model 207) that made the
// two-thread 1024³ product 4-12% faster than K = 192 (three runs, the
// kernels taking turns in one process) and left the training shapes
// unchanged within noise. Intel CPUs other than Sapphire and Emerald
// Rapids put the register-broadcast kernels first: on a Xeon that KVM
// reports as family 6 model 167 (AVX-512 with VNNI, FP16 and AMX; 2 MiB
// L2 per core) 6×64 with its Zen 5 blocking was 2-23% ahead of 14×32 at
// the training shapes of resq bench gemm in two runs each on one and two
// threads, except BwdFilter1024x128x784 on one thread and Square1024 on
// two (level: -4% to +12%), and K panels of 256 or 320 and MC = 288
// gained nothing.
func archKernels() []*microKernel {
	var ks []*microKernel
	if cpu.X86.HasAVX512F {
		kc14 := 192
		switch {
		case intel():
			kc14 = 320
		case zen4():
			kc14 = 512
		}
		emb := []*microKernel{
			newAsmKernel("avx512-14x32", sgemmAVX512_14x32, 14, 32, kc14, 140, 4096),
			newAsmKernel("avx512-12x32", sgemmAVX512_12x32, 12, 32, 192, 132, 4096),
			newAsmKernel("avx512-8x48", sgemmAVX512_8x48, 8, 48, 128, 128, 4080),
			newAsmKernel("avx512-28x16", sgemmAVX512_28x16, 28, 16, 256, 140, 4096),
		}
		reg := []*microKernel{
			newAsmKernel("avx512-6x64r", sgemmAVX512_6x64r, 6, 64, 192, 144, 4096),
			newAsmKernel("avx512-8x48r", sgemmAVX512_8x48r, 8, 48, 192, 128, 4080),
		}
		if amdFamily() >= 26 || intel() && !intelSPR() {
			ks = append(append(ks, reg...), emb...)
		} else {
			ks = append(append(ks, emb...), reg...)
		}
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		kc6 := 256
		if zen4() {
			kc6 = 384
		}
		ks = append(ks, newAsmKernel("avx2-6x16", sgemmAVX2_6x16, 6, 16, kc6, 144, 4080))
	}
	// SSE is part of amd64 itself, so no amd64 CPU falls back to the
	// pure-Go kernel. It packs with Go code only (the transpose and row
	// copies above use AVX). Blocking as for AVX2: the 8 KiB B sliver in
	// L1, the 144 KiB A block in L2.
	ks = append(ks, &microKernel{name: "sse-6x8", mr: 6, nr: 8, kc: 256, mc: 144, nc: 4080, fn: wrapAsm(sgemmSSE_6x8, 6, 8)})
	return ks
}
