package faults

import (
	"github.com/resq-dev/resq/ckpt"
	"github.com/resq-dev/resq/nn"
)

// saveFloat writes m as a float32 checkpoint.
func saveFloat(path string, m *nn.Model) error {
	return ckpt.Save(path, m, ckpt.Meta{Spec: m.Spec, In: m.In, Classes: m.Classes})
}
