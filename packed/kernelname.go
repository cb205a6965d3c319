package packed

import "github.com/resq-dev/resq/packed/internal/kernels"

// IntKernel returns the name of the integer GEMM kernel in use: "go",
// "avx2" or "avx512vnni" (RESQ_PACKED_KERNEL pins one).
func IntKernel() string { return kernels.Selected() }
