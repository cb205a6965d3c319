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
// The Go benchmarks in this package (go test -bench Gemm ./bench) report the
// same numbers as b.ReportMetric "GFLOP/s".
//
// Nothing here is used by training; the package may set tensor.SetThreads,
// tensor.SetKernel and runtime.GOMAXPROCS while it runs and restores them.
package bench
