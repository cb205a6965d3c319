package tensor

// GemmThreads is Gemm on at most threads goroutines (threads <= 0 means
// Threads()). Callers that already run several independent GEMMs side by
// side, such as the recurrent layers splitting a batch over the cores for
// a whole sequence, give each one thread; the result is the same as
// Gemm's for any thread count.
func GemmThreads(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if threads <= 0 {
		threads = Threads()
	}
	gemmN(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
