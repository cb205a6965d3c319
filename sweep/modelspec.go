package sweep

import (
	"fmt"
	"strings"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// ModelSpec returns the nn model spec of a cell for a dataset with
// per-sample shape in and the given number of classes.
func (k CellConfig) ModelSpec(in []int, classes int) (string, error) {
	switch k.Family {
	case "mlp":
		d := tensor.Numel(in)
		var opts []string
		if k.Act != "" && k.Act != "relu" {
			opts = append(opts, "act="+k.Act)
		}
		if k.Dropout != 0 {
			opts = append(opts, fmt.Sprintf("drop=%g", k.Dropout))
		}
		if k.DropIn != 0 {
			opts = append(opts, fmt.Sprintf("dropin=%g", k.DropIn))
		}
		if k.Init != "" {
			opts = append(opts, "init="+k.Init)
		}
		return nn.MLPSpec(d, k.Width, k.Depth, classes, strings.Join(opts, ",")), nil
	case "lstm", "gru":
		return recurrentSpec(k, in, classes)
	case "cnn":
		if k.Scale == 1 {
			return k.Base, nil
		}
		return nn.ScaleCNN(k.Base, k.Scale)
	}
	return "", fmt.Errorf("sweep: unknown family %q", k.Family)
}
