// Package kernels holds the integer GEMM kernels of resq's packed inference
// engine: C[m, n] (int32) = X[m, k] (uint8) * W[n, k]^T (int8).
//
// GemmRef is the naive reference kept forever as the oracle. The fast path
// works on a packed weight layout built once by PackW:
//
//	panel p (columns 16p .. 16p+15), step s (k = 4s .. 4s+3):
//	    Wp[p*Kp*16 + s*64 + j*4 + t] = W[16p+j, 4s+t]
//
// with Kp = k rounded up to a multiple of 4 and n rounded up to a multiple
// of 16; padding is zero. One 64-byte step of a panel is exactly the operand
// of one AVX-512 VPDPBUSD (16 int32 lanes, each a 4-term u8 x s8 dot) and of
// two AVX2 VPMADDUBSW+VPMADDWD pairs, and of 4 arm64 SDOTs; the pure-Go
// kernel reads the same layout. Activation rows are uint8, Kp bytes apart
// (ldx >= Kp, the k..Kp tail is never read against a nonzero weight, so
// its contents do not matter).
//
// Exactness: all kernels compute the same int32 sums bit for bit, with one
// condition for AVX2: VPMADDUBSW adds two u8*s8 products into a saturating
// int16, so every pair |x0*w0 + x1*w1| must stay <= 32767 (the arm64 neon
// kernel adds the same pairs in int16 too). Callers guarantee
// it by bounding activations and weights (x <= 255 with |w| <= 63, or
// x <= 127 with |w| <= 127); Gemm documents the precondition and the engine
// in package packed enforces it. VPDPBUSD (VNNI), SDOT (dotprod) and the
// pure-Go kernels hold for any operands.
//
// When the caller passes a pair bound pairMax (2*max activation*max
// |code|), the AVX2 kernel adds 32767/pairMax VPMADDUBSW results in int16
// (VPADDW) before widening them once with VPMADDWD: exact, and a third
// fewer instructions for ternary weights.
//
// # Ternary layout (T2) and one-row kernels
//
// PackT2 stores ternary codes 4 to a byte as u = code+1 in {0, 1, 2}
// (t2.go has the byte map): the 2-bit field s of a 64-byte group is the
// 64-byte step 4g+s of PackW's layout, so a kernel decodes a step with one
// shift and one AND ((b >> 2s) & 3) and feeds it to the same VPDPBUSD or
// VPMADDUBSW as PackW's bytes: every weight byte read feeds 4
// multiply-adds, and a 1024x1024 ternary layer (256 KiB) stays in L2 where
// its 8-bit form (1 MiB per layer, 2.9 MB for 784-1024x3-10) streams from
// L3. The kernels sum x*u and start every row at -sum x (the row's byte
// sum, VPSADBW), which leaves sum x*code exactly; padding holds u = 1 for
// k < K and u = 0 beyond, so padded columns come out zero and the k..ldx
// tail of a row is never used. GemmT2 takes any row count: blocks of 4
// rows run C[4, 64] (VNNI; from 16 rows the decoded path, see "Kernel
// rule") or C[4, 16] (AVX2, int16 partial sums over 8 groups, pairs <=
// 2*255*2) and the remaining rows a one-row GEMV over 4 panels (AVX2: 1
// to 4). The VNNI GEMV needs no shifts: steps 0 and 2 are
// b & 3 and (b >> 4) & 3, steps 1 and 3 b & 12 and (b >> 4) & 12 (4u),
// summed in a second accumulator divided by 4 at the end (exact, every
// term is a multiple of 4). The AVX2 GEMV decodes the same way with one
// word shift per 32 bytes, the 4u products in their own int16 sums (8
// groups), widened with VPMADDWD by 1, and the u sums (32 groups) by 4,
// into int32 sums that hold 4 times the result. VPMADDUBSW's unsigned
// operand must be a register, so with x in that place every 4 bytes of x
// cost a broadcast; the AVX2 GEMV instead multiplies the decoded u
// (unsigned, 0..8) by x-128 (signed) read straight from memory, where
// each goroutine first writes the row as x XOR 0x80 with every quad
// repeated 8 times (8 bytes per activation, once per call, not per chunk:
// rowOps), and starts column j at -sum x + 128*U[j], U the column's total
// of u stored after the panels (T2Tail). Per 256 multiply-adds that is 2
// loads, 2 shifts, 8 ANDs, 8 VPMADDUBSW with a memory operand, 8 VPADDW
// and 0.625 widening instructions (1.25 when B widened every 4 groups and A
// every 16: 2-4% slower on AMD EPYC Zen 4), 4 broadcasts fewer; on one AMD EPYC
// Zen 2 core (family 23 model 49, 3.3 GHz) [1x2048]x[2048x2048] went from
// 79 to 84-87 G multiply-adds/s (8-bit 50), about 9.5 cycles per 256
// against the 8 of its one VPMADDUBSW pipe. With
// the broadcasts it ran at 129-141 on Zen 5 (8-bit 89-95) and 60-80 on
// the Intel Xeon above (8-bit 55-80 with the weights in L2, 31-34 from
// L3). Its blocks of 4 groups run unrolled: as a loop of 4 short
// iterations the broadcast form ran at 104-112 on Zen 5.
//
// Gemv is the one-row product on PackW's layout (AVX2, VNNI: C[1, 64] from
// 4 panels, each weight loaded once instead of once per 4 rows as Gemm's
// row blocks do). Gemm, GemmT2 and Gemv split a call of two million
// multiply-adds or more over persistent helper goroutines (helpers.go):
// a layer is a few microseconds of work, about what waking a parked
// goroutine costs, so a helper polls for 200 µs after its last chunk
// before it parks, and the caller and its helpers claim chunks of panel
// groups from a counter, so a late helper's chunks fall to the caller.
// On 2 Zen 4 cores that took a single sample of a 2048x2048 layer from
// 38-40k to 51-63k samples/s (ternary, VNNI) and from 17-19k to 27-31k
// (8-bit), where goroutines started per call had lost 10-30%; smaller
// layers stay on one goroutine (splitMinWork).
//
// Epilogue, MinMax and Quantize are the engine's row loops (dequantize +
// bias + ReLU; activation range; activation coding), with Go references
// and AVX2 versions that give identical bits.
//
// Dispatch uses golang.org/x/sys/cpu at run time: on amd64 AVX-512
// VNNI+BW, else AVX2, else pure Go; on arm64 SDOT (ARM64.HasASIMDDP,
// kernel dotprod), else Advanced SIMD (neon); elsewhere pure Go. Force
// selects a kernel by name for tests and benchmarks; the environment
// variable RESQ_PACKED_KERNEL (go, avx2, avx512vnni, neon, dotprod) pins
// one for a whole process. The build tag purego (as for package tensor)
// leaves the assembly out: only the pure-Go kernels exist then.
//
// Pure Go (kernel go; any GOARCH, and purego builds). Go has no SIMD, so
// the portable kernels pack several values into one 64-bit integer:
//   - Gemm (swar.go) multiplies a weight code by a word holding one
//     activation of 4 rows in 16-bit lanes (when pairMax bounds the
//     lane sums over at least a step) or of 3 rows in 21-bit lanes (any
//     operands): one multiply does 3-4 multiply-adds, and the signed lanes
//     are decoded into int32 before any can leave its field. It walks k in
//     blocks that keep the activation words and the panel in L1. All-zero
//     rows are skipped (the engine's row padding); one or two live rows
//     use columns in lanes instead, reading the 4-byte column groups of a
//     step as u = code+128 in two 32-bit lanes per multiply.
//   - GemmT2 (t2lut.go) does not multiply at all, as T-MAC: each T2
//     byte is an index over 4 activations (2-bit digits u = code+1), so
//     per row and group it builds the 81 sums of those activations once
//     and every output column adds one table entry per 4 weights; an
//     entry holds 4 rows in 16-bit lanes, so one 64-bit load and add do
//     16 multiply-adds. Tables cover 4 groups (32 KiB) at a time.
//
// Both are exact for every uint8 x int8 input and equal GemmRef.
//
// arm64 (kernels_arm64.s, generated by gen_arm64.go; Go's assembler has
// no SDOT, vector MUL, SXTL or SADALP, so those are WORD-encoded, the
// encodings documented in the generator). Both kernels compute C[4, 16]
// per panel on PackW's layout, all 16 int32 accumulators in registers:
//   - dotprod: the 4 weight vectors of a step (4 columns x 4 k each) are
//     the SDOT operand as they lie; each row's 4 activations, replicated
//     by LD1R, are turned into x-128 (int8) with one EOR, and 4 more SDOTs
//     against a vector of ones sum the codes per column, so that C =
//     sum (x-128)*w + 128*colsum. Exact for any operands.
//   - neon: weights widened to int16 (SXTL), activations to int16
//     (UXTL), 16-bit MULs, ADDP adds the product pairs k = 0,1 and 2,3 in
//     int16 (the same pair bound as AVX2's VPMADDUBSW) and SADALP adds the
//     pairs of each column into its int32 lane.
//
// scripts/arm64-check.sh runs this package's tests under qemu-aarch64 on a
// Cortex-A53 (neon) and on -cpu max (dotprod).
//
// The products split their panel groups over the caller and up to
// threads-1 helpers (threads 0: GOMAXPROCS); every product is safe for concurrent use as long as callers
// do not share C (concurrent callers share the helpers: one a helper is
// busy for does its chunks itself). Nothing in this package holds state
// except the kernel selection, the helpers and pools of scratch memory.
//
// # Kernel rule (ternary layers)
//
// Which layout a ternary layer runs from depends on the row count m and
// the kernel (T2Rows; the engine asks it for every layer call):
//   - m < 16 with VNNI (every m on CPUs other than Intel's), m < 8 with
//     AVX2: the direct T2 kernels above (one row: the GEMV; weights 4x
//     smaller than PackW's, read from L2).
//   - m >= 16 with VNNI on Intel (t2DecRowsFor): the decoded path (t2dec.go). Per goroutine, 4
//     panels x 32 groups (k = 512) of T2 are decoded into PackW's layout
//     holding u = code+1 ((b >> 2s) & 3; 0 past k) in a 32 KiB scratch,
//     one load, 3 shifts, 4 ANDs and 4 stores (zmm) per group and panel,
//     and a 4-step unrolled C[4, 64] VPDPBUSD kernel runs every 4-row
//     block over it, starting at -sum x in the first block of k and
//     adding to C in the others. On Intel VPDPBUSD zmm and the shifts and
//     ANDs that decode T2 share ports 0 and 5, so the direct 4-row kernel
//     (28 decode ops per 64 VPDPBUSD) runs at 0.75x the byte layout;
//     decoding once per panel block instead of once per row block leaves
//     VPDPBUSD nearly alone on those ports, with the block in L1 where
//     PackW's codes stream from L3.
//   - m >= 8 with AVX2: Gemm on PackW's layout (the engine keeps both)
//     with pairMax 2*255*1: int16 sums over 64 steps (kern4x16AVX2S16),
//     16 vector ops per 256 multiply-adds against 26 for the direct T2
//     kernel.
//
// Measured on an Intel Xeon Sapphire/Emerald Rapids (family 6 model 207,
// 2 vCPUs), BenchmarkGemmT2Paths (best call of each path taking turns,
// one thread, G multiply-adds/s, direct / decoded / PackW's layout):
// VNNI 8x1024x1024 256 / 244 / 179, 16x1024x1024 259 / 295 / 263,
// 52x1024x1024 260 / 340 / 318, 100x1024x1024 259 / 353 / 331,
// 100x2048x2048 255 / 347 / 287 (the kernel alone, on a block in L1:
// 355-362); AVX2 100x1024x1024 106 / - / 116, 8x1024x1024 107 / - / 113. The same rule
// holds for the engine: with it the ternary MLP 784-1024x3-10 at batch
// 100 runs 1.03-1.12x the 8-bit engine with VNNI (both at the VPDPBUSD
// port limit: no instruction does more exact u8 x ternary multiply-adds
// per cycle) and 1.2-1.5x with AVX2. On an AMD EPYC Zen 4 (family 25
// model 17), which runs zmm operations on 256-bit halves, the direct
// kernel wins at every row count (direct / decoded / PackW's layout:
// 16x1024x1024 233 / 202 / 232, 100x1024x1024 220 / 207 / 204,
// 100x2048x2048 231 / 221 / 219), so only Intel CPUs run the decoded
// path; with the direct kernel the ternary MLP at batch 100 runs
// 1.02-1.04x the 8-bit engine there (0.84-0.97x with the decoded path).
//
// No legacy-SSE instruction appears in the assembly: on that Intel CPU
// (a KVM guest) a legacy-SSE MOVQ or MOVSS executed while the upper
// halves of the vector registers were dirty (as inside an AVX2 kernel)
// cost about a hundred nanoseconds each: the AVX2 T2 GEMV, whose
// per-panel setup had one, ran at 33 instead of 60-80 G multiply-adds/s
// at [1x1024]x[1024x1024], and the activation coding loop had one per 8
// values. VMOVQ and VBROADCASTSS from memory replace them.
package kernels
