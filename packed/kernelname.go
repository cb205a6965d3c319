package packed

import (
	"fmt"

	"github.com/resq-dev/resq/packed/internal/kernels"
)

// IntKernel returns the name of the integer GEMM kernel in use: "go",
// "avx2" or "avx512vnni" on amd64, "neon" or "dotprod" on arm64
// (RESQ_PACKED_KERNEL pins one).
func IntKernel() string { return kernels.Selected() }

// IntKernels lists the integer kernels this CPU can run, fastest last.
func IntKernels() []string { return kernels.Available() }

// SetIntKernel makes every packed model use the named integer kernel and
// returns the previous name (for benchmarks; it must not run while a model
// computes). The results do not depend on it. It returns an error naming
// the kernels this CPU has when it lacks name.
func SetIntKernel(name string) (string, error) {
	prev, err := kernels.Force(name)
	if err != nil {
		return prev, fmt.Errorf("packed: %v", err)
	}
	return prev, nil
}
