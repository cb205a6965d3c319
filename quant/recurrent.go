package quant

import (
	"fmt"

	"github.com/resq-dev/resq/nn"
)

// Recurrent layers. Wih and Whh of an LSTM or GRU are quantizable params
// like a dense layer's weights, so Attach quantizes both with the same
// quantizer (Bits, Rule): one step per matrix by default, one per gate
// with PerGate (nn.Param.Groups row blocks: 4 for LSTM, 3 for GRU), one per
// row with PerChannel; Sensitivity quantizes each matrix on its own.
// StateBits quantizes the recurrent state h after every step.

// validateRecurrent checks the recurrent options of c.
func (c Config) validateRecurrent() error {
	if c.StateBits != 0 && (c.StateBits < MinBits || c.StateBits > MaxBits) {
		return fmt.Errorf("quant: state bits %d out of range %d..%d (0 = float state)", c.StateBits, MinBits, MaxBits)
	}
	return nil
}

// setStateBits sets the state quantization of every recurrent layer of m.
func setStateBits(m *nn.Model, bits int) {
	for _, l := range m.Layers {
		if r, ok := nn.RecurrentOf(l); ok {
			r.StateBits = bits
		}
	}
}
