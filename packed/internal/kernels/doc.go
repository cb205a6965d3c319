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
// two AVX2 VPMADDUBSW+VPMADDWD pairs; the pure-Go kernel reads the same
// layout. Activation rows are uint8, Kp bytes apart (ldx >= Kp, the k..Kp
// tail is never read against a nonzero weight, so its contents do not matter).
//
// Exactness: all kernels compute the same int32 sums bit for bit, with one
// condition for AVX2: VPMADDUBSW adds two u8*s8 products into a saturating
// int16, so every pair |x0*w0 + x1*w1| must stay <= 32767. Callers guarantee
// it by bounding activations and weights (x <= 255 with |w| <= 63, or
// x <= 127 with |w| <= 127); Gemm documents the precondition and the engine
// in package packed enforces it. VPDPBUSD (VNNI) does not saturate.
//
// When the caller passes a pair bound pairMax (2*max activation*max
// |code|), the AVX2 kernel adds 32767/pairMax VPMADDUBSW results in int16
// (VPADDW) before widening them once with VPMADDWD: exact, and a third
// fewer instructions for ternary weights.
//
// Epilogue, MinMax and Quantize are the engine's row loops (dequantize +
// bias + ReLU; activation range; activation coding), with Go references
// and AVX2 versions that give identical bits.
//
// Dispatch uses golang.org/x/sys/cpu: AVX-512 VNNI+BW, else AVX2, else pure
// Go. Force selects a kernel by name for tests and benchmarks; the
// environment variable RESQ_PACKED_KERNEL (go, avx2, avx512vnni) pins one
// for a whole process. The build tag purego (as for package tensor)
// leaves the assembly out: only the pure-Go kernels exist then.
//
// Gemm splits the work over column panels across goroutines (up to
// GOMAXPROCS); it is safe for concurrent use as long as callers do not share
// C. Nothing in this package holds state except the kernel selection.
package kernels
