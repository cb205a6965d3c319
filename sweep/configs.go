package sweep

import (
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/train"
)

// TrainConfig converts a budget to a train.Config with the given seed.
func (b Budget) TrainConfig(seed uint64) train.Config {
	return train.Config{
		Epochs: b.Epochs, Batch: b.Batch, LR: b.LR, Optimizer: b.Optimizer, Momentum: b.Momentum,
		Nesterov: b.Nesterov, WeightDecay: b.WeightDecay, Schedule: b.Schedule, StepEvery: b.StepEvery,
		Gamma: b.Gamma, Patience: b.Patience, ClipNorm: b.ClipNorm, Seed: seed,
	}
}

// QuantConfig converts the quant options to a quant.Config at bits.
func (q QuantOptions) QuantConfig(bits int) quant.Config {
	return quant.Config{Bits: bits, Rule: q.Rule, PerChannel: q.PerChannel, FirstLastBits: q.FirstLastBits, Reestimate: q.Reestimate,
		PerGate: q.PerGate, StateBits: q.StateBits}
}
