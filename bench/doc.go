// Package bench measures resq's compute kernels against peers.
//
// RunGemm times tensor.Gemm at the shapes that dominate training
// (TrainingShapes: the 784-1024-1024-1024-10 MLP at batch 100 and 128,
// forward Y = X*W^T, backward dX = dY*W and dW = dY^T*X, plus a square
// 1024 product) and, on request, the same shapes through peers: gonum's
// pure-Go/SSE Sgemm ("gonum") and OpenBLAS's cblas_sgemm ("openblas", only
// in binaries built with -tags openblas, which needs cgo and
// libopenblas-dev). Each timing repeats the call until MinTime has passed
// and reports the best of several such rounds in GFLOP/s (2*M*N*K per
// call), since the machine is shared and timings are noisy.
//
// Peers get their best setting: each is timed at 1 thread and at resq's
// thread count (GemmOptions.PeerThreads), the faster kept and printed
// beside it, and every timing round starts after a pause (Settle) so that
// OpenBLAS's worker threads, which spin for about 2^28 cycles after a
// call, do not take a core from the next round. OpenBLAS must run its best
// kernels too: Debian's OpenBLAS 0.3.21 falls back to its SSE3 (Prescott)
// kernels on CPUs it does not know. ChooseBLASCore compares the core type
// it runs with the strongest one OPENBLAS_CORETYPE accepts for this CPU's
// features (SkylakeX for AVX-512, Zen or Haswell for AVX2, Sandybridge for
// AVX) and ReexecForBLASCore restarts the process with OPENBLAS_CORETYPE
// set, since the library reads it only when it loads. A user's own
// OPENBLAS_CORETYPE is kept unless it names a core weaker than this CPU
// allows (some machines set OPENBLAS_CORETYPE=Haswell for every process,
// which on an AVX-512 CPU runs the peer at about two thirds of its speed);
// RESQ_KEEP_OPENBLAS_CORETYPE=1 keeps even that. `resq bench openblas-core` gives scripts the
// same decision (examples/peer-compare, for PyTorch's OpenBLAS).
//
// The Go benchmarks in this package (go test -bench Gemm ./bench) report the
// same numbers as b.ReportMetric "GFLOP/s".
//
// Nothing here is used by training; the package may set tensor.SetThreads,
// tensor.SetKernel and runtime.GOMAXPROCS while it runs and restores them.
package bench
