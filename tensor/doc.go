// Package tensor holds resq's float32 compute core: the Tensor type, GEMM,
// convolution (im2col + GEMM) and the element-wise and row kernels the
// layers in package nn use.
//
// # Conventions
//
// Every kernel takes its destination first and overwrites it unless its
// comment says it accumulates. All matrices are row-major with explicit
// leading dimensions; convolution tensors are NCHW and weights [K, C*R*S]
// ([outC, inC, kh, kw] flattened). Shape and length mismatches are
// programming errors and panic with a message starting with "tensor:";
// ConvGeom.Check returns an error for geometries that come from user input.
//
// # Aliasing
//
// Gemm's C must not overlap A or B. Convolution outputs (y, dx, dw) must not
// overlap their inputs. Element-wise kernels (ReLU, Sigmoid, Tanh and their
// Backward forms) allow the destination to be the same slice as a source
// ("in place"); partial overlaps are not allowed anywhere.
//
// # GEMM design
//
// GemmRef is the naive triple loop, kept forever as the test oracle. Gemm is
// the Goto/BLIS algorithm: N is split into NC-column panels, K into KC-deep
// panels (op(B)[KC×NC] is packed into NR-column slivers), M into MC-row
// blocks (op(A)[MC×KC] packed into MR-row slivers); a register-blocked
// micro-kernel keeps an MR×NR tile of C in registers for KC rank-1 updates.
// Packed slivers are zero-padded. A partial register block at the bottom
// or right edge of C (M or N not a multiple of MR or NR) runs an edge
// kernel when the kernel has them (microKernel.edges: the AVX-512 14×32,
// 6×64r and 8×48r kernels and the AVX2 6×16 one): the same loop over the
// same packed slivers for only the first rows, or the first 16- or 8-float
// vectors, of the tile, straight into C when it covers the block exactly.
// Otherwise the whole tile is computed into a small scratch tile and
// merged into C in Go. Each element's sum is formed in the same order
// either way, so results are bitwise the same (TestGemmEdgeKernels). At
// 128×784 a 6×64 tile pads C to 132×832, 9% more multiply-adds than it
// needs; BenchmarkGemmEdges times each kernel with and without its edges.
// alpha is applied in the micro-kernel; beta is applied by not loading C
// in the first K panel (beta == 0: C is never read, NaNs in C are
// overwritten), by loading it (beta == 1) or by scaling C first (other
// beta).
//
// Micro-kernels (see Kernels, SetKernel): AVX-512 (14×32, 12×32, 8×48,
// 28×16 zmm tiles, A broadcast by the FMA; 6×64r and 8×48r, each A element
// broadcast into a register once for its row's FMAs), AVX2+FMA (6×16 ymm) and SSE
// (6×8 xmm, no FMA: part of every amd64 CPU, so no amd64 machine runs the
// pure-Go kernel) kernels in Go assembly generated with avo by
// tensor/internal/asmgen (go generate, which runs it as `go tool asmgen`;
// the .s and stub files are committed), selected at init with
// golang.org/x/sys/cpu, and a pure-Go 3×2 kernel ("generic") for every
// other architecture (arm64 included). Transposed B operands of the AVX
// kernels are packed with an AVX 8×8 transpose (also generated). The build
// tag purego disables all assembly; SetKernel("generic") or the environment
// variable RESQ_GEMM_KERNEL=generic selects the pure-Go path at run time, so
// tests exercise every kernel this CPU can run. The A slivers of the AVX
// kernels are packed by hand-written assembly (pack_amd64.s: 8×8 block
// transposes for A, masked AVX-512 moves for A^T; avo has no masked moves),
// checked against the Go loops by TestPackAAsmMatchesGo. The first M block
// of each K panel packs every B sliver just before its first use, while it
// is still in L1, except an untransposed B with slivers of at most 32
// floats, which it packs whole first, row by row (wholeB); the later
// blocks reuse the packed panel.
//
// AMD Zen 5 (family 26: two full-width 512-bit FMA pipes, 48 KiB L1d,
// 1 MiB L2) puts the register-broadcast kernels first (archKernels): the
// 14×32 kernel, whose FMAs broadcast A from memory, ran at 73-90% of their
// rate, which is the FMA peak (BenchmarkMicroKernel), and their 64- and
// 48-column B slivers stream fewer A bytes from L2 per FMA. 6×64r is the
// best kernel and 8×48r the second (N = 784 pads to 816 columns, not 832).
// Intel CPUs with AVX-512 other than Xeon Sapphire and Emerald Rapids
// (family 6 models 143 and 207, where 14×32 is first and 6×64r backs it
// for C split by columns) also put 6×64r first, with no second kernel:
// on a Xeon that KVM reports as family 6 model 167 it was ahead of 14×32
// at six of the eight training shapes in both runs on one and two threads,
// and level at the others.
//
// Each kernel's blocking (K panel kc, row block mc, column block nc) is
// set per CPU in archKernels, from measurements on that CPU; the K panel
// of the kernel each training shape runs is tuned with
// BenchmarkGemmPanelK, whose candidates take turns within every
// iteration (go test -run XXX -bench GemmPanelK -benchtime 40x).
//
// In auto mode (the default) Gemm may pick a second kernel per call
// (pickKernel): on a CPU where it multiplies at the same rate (AMD Zen 4
// runs 512-bit FMAs as two 256-bit halves, so the AVX2 6×16 kernel matches
// the AVX-512 ones), a call whose C is split by columns (n >= m: the
// small-M training and convolution shapes) uses it when rounding m and n up
// to its register block leaves less than 0.98 of the padded work of the
// best kernel (M = 100: 102 rows of 6 against 112 of 14); on Zen 5 the
// 8×48r kernel is used so for any shape (M×784 products). The choice
// depends on the shape alone, so results still do not depend on the thread
// count; Kernel() then names both ("avx512-14x32+avx2-6x16"). At init every kernel is
// checked on one tile against a plain loop; one that disagrees (say, an
// assembly kernel on a CPU it was never run on) is dropped with a message
// on stderr instead of being used.
//
// One-row products (m = 1: a single sample through a dense layer) skip the
// blocked algorithm in auto mode on CPUs with AVX2 and FMA, which would
// pack all of op(B) for one use of each element (gemv.go): op(B) = Bᵀ runs dot products of the row
// with four of B's rows at a time (dot4AVX2: AVX2+FMA, two 8-wide partial
// sums a row), op(B) = B sums B's rows scaled by the row's elements
// (axpyAVX2), both split by output columns over the goroutines from 2^18
// multiply-adds each. A forced kernel (SetKernel) and GemmPacked keep the
// blocked path.
// Their sums run in another order than the blocked kernels', so a sample's
// float outputs alone can differ in the last bits from the same sample's
// in a batch; they are the same at every thread count
// (TestGemvThreadsBitwise).
//
// Parallelism: one Gemm call uses up to Threads() goroutines (SetThreads).
// M or N is cut into register-block-aligned chunks (about
// four per goroutine) that the goroutines claim one at a time from an
// atomic counter, so that a core running slow for a while (common on a
// shared or virtual machine) takes fewer chunks instead of holding up the
// call; the split is the one whose operand packed by every goroutine is the
// cheaper to pack (splitCols: the larger of M and N, except that an operand
// whose packing transposes counts double, so a square NN product splits M).
// Each goroutine first packs the other operand whole, once (op(A) by
// prepackA when N is split, the small-M training shapes; op(B) by prepackB
// when M is split; an operand over 16 MiB is not prepacked, and the call
// is then cut into one chunk per goroutine), and runs the serial algorithm on each chunk it claims,
// with packing buffers from a free list (not a sync.Pool, which every GC
// would empty). Parts run on a persistent pool of worker goroutines, so
// steady-state calls allocate nothing at any thread count. An idle worker
// polls for the next part, and a caller for its workers to finish, for up
// to 200µs before blocking: kernel calls come in bursts, and waking a
// blocked thread cost 150-200µs on the dev machine's virtual CPUs. Each
// output element is computed by exactly one goroutine with the same
// summation order whatever the chunking, so the result is bitwise the same
// at every thread count (TestGemmThreadsBitwise). Convolutions split the
// batch across the workers instead and run single-threaded GEMMs per image
// (im2col + GEMM; 1×1 stride-1 unpadded convolutions skip im2col). With
// AVX2 or AVX-512, stride-1 forward convolutions (and data gradients run
// as forward ones, conv_data.go) run pixel-major with A packed straight
// from the zero-padded image, never writing the im2col matrix
// (conv_pix.go). The 6-row kernels (AVX-512 6×64r, AVX2 6×16) do not pack
// A at all: each tile reads its six pixels, in one output row or two,
// through their own offsets into the padded image (convPix6x64rAVX512,
// convPix6x16AVX2, forwardPixDirect; TestConvPixDirectMatchesPacked, bit
// for bit). With the AVX-512 14×32 kernel, where 14-pixel slivers
// tile every output row and 32-column slivers the output channels (the
// MNIST CNN: OW = 28 and 14), A is not packed at all: each tile reads its
// 14 pixels of one output row straight from the padded image at the tap
// offsets (convDirect14x32AVX512, forwardDirect), the same sums as the
// packed path bit for bit (TestConvDirectMatchesPacked); auto mode takes
// that kernel for a pixel-major forward when it pads the GEMM to no more
// work than the kernel convKernel picks (directOr; not on AMD Zen 5). The
// transposed filter gradient reads its 6-tap slivers of col straight from
// the padded image with the 6×64r and 6×16 kernels (convFilter6x64rAVX512,
// convFilter6x16AVX2, filterDirect, directFilterOr;
// TestConvDirectFilterMatchesPacked).
//
// # Mutation
//
// Kernels never keep references to their arguments after returning. The
// only package state is the thread count and the selected micro-kernel
// (SetThreads, SetKernel) plus pooled scratch; ConvWork holds per-caller
// scratch and must not be shared by concurrent calls.
package tensor
