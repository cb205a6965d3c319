package sweep

import (
	"context"
	"io"
)

// Finisher is implemented by a Runner that has work to do once every cell
// of a Run has finished and none is running: Run calls Finish after the
// last cell (not when interrupted or stopped by an error), with the GEMM
// threads set to every core. The real runner (pipeline.CellRunner) measures latency there.
type Finisher interface {
	Finish(ctx context.Context, env *Env, resultsPath string, log io.Writer) error
}
