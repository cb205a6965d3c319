package train

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Config holds the hyper-parameters of one training run. It is stored in
// checkpoints and sweep records as JSON.
type Config struct {
	Epochs      int     `json:"epochs"`              // passes over the training split, >= 1
	Batch       int     `json:"batch"`               // samples per step, >= 1
	LR          float64 `json:"lr"`                  // base learning rate, > 0
	Optimizer   string  `json:"optimizer"`           // "sgd" or "adam"
	Momentum    float64 `json:"momentum"`            // sgd momentum in [0, 1)
	Nesterov    bool    `json:"nesterov"`            // sgd: Nesterov momentum (needs Momentum > 0)
	WeightDecay float64 `json:"weight_decay"`        // L2 coefficient, >= 0, params with Decay only
	Schedule    string  `json:"schedule"`            // "constant", "step", "exp" or "cosine"
	StepEvery   int     `json:"step_every"`          // step: epochs between decays, >= 1
	Gamma       float64 `json:"gamma"`               // step, exp: decay factor in (0, 1]
	Patience    int     `json:"patience"`            // early stopping: epochs without a better val error; 0 = off
	ClipNorm    float64 `json:"clip_norm,omitempty"` // > 0: scale the gradients of a step down to this global L2 norm (ClipGradNorm); 0 = off
	Seed        uint64  `json:"seed"`                // shuffling order
}

// DefaultConfig returns the settings used for the float MLPs on MNIST:
// SGD with momentum 0.9, learning rate 0.1 annealed by a cosine over 20
// epochs, batch 100, no weight decay, no early stopping.
func DefaultConfig() Config {
	return Config{
		Epochs:    20,
		Batch:     100,
		LR:        0.1,
		Optimizer: "sgd",
		Momentum:  0.9,
		Schedule:  "cosine",
		StepEvery: 10,
		Gamma:     0.1,
		Seed:      1,
	}
}

// Validate reports every invalid field, or nil.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("train: "+format, a...)) }
	if c.Epochs < 1 {
		bad("epochs %d, need at least 1", c.Epochs)
	}
	if c.Batch < 1 {
		bad("batch %d, need at least 1", c.Batch)
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		bad("learning rate %g, need a finite positive value", c.LR)
	}
	switch c.Optimizer {
	case "sgd":
		if !(c.Momentum >= 0 && c.Momentum < 1) {
			bad("momentum %g, need 0 <= momentum < 1", c.Momentum)
		}
		if c.Nesterov && c.Momentum == 0 {
			bad("nesterov needs a momentum > 0")
		}
	case "adam":
		if c.Nesterov {
			bad("nesterov applies to sgd, not adam")
		}
	default:
		bad("unknown optimizer %q (want sgd or adam)", c.Optimizer)
	}
	if !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0) {
		bad("weight decay %g, need a finite value >= 0", c.WeightDecay)
	}
	switch c.Schedule {
	case "constant", "cosine":
	case "step":
		if c.StepEvery < 1 {
			bad("step schedule needs step_every >= 1, have %d", c.StepEvery)
		}
		fallthrough
	case "exp":
		if !(c.Gamma > 0 && c.Gamma <= 1) {
			bad("%s schedule needs 0 < gamma <= 1, have %g", c.Schedule, c.Gamma)
		}
	default:
		bad("unknown schedule %q (want constant, step, exp or cosine)", c.Schedule)
	}
	if !(c.ClipNorm >= 0) || math.IsInf(c.ClipNorm, 0) {
		bad("clip norm %g, need a finite value >= 0 (0: off)", c.ClipNorm)
	}
	if c.Patience < 0 {
		bad("patience %d, need >= 0", c.Patience)
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = strings.TrimPrefix(e.Error(), "train: ")
	}
	return errors.New("train: " + strings.Join(msgs, "; "))
}

// NewOptimizer returns the optimizer c describes. c must be valid.
func (c Config) NewOptimizer() Optimizer {
	if c.Optimizer == "adam" {
		return &Adam{WeightDecay: c.WeightDecay}
	}
	return &SGD{Momentum: c.Momentum, Nesterov: c.Nesterov, WeightDecay: c.WeightDecay}
}

// NewSchedule returns the learning-rate schedule c describes. c must be
// valid.
func (c Config) NewSchedule() Schedule {
	switch c.Schedule {
	case "step":
		return Step{Base: c.LR, Every: c.StepEvery, Gamma: c.Gamma}
	case "exp":
		return Exponential{Base: c.LR, Gamma: c.Gamma}
	case "cosine":
		return Cosine{Base: c.LR, Epochs: c.Epochs}
	}
	return Constant{Base: c.LR}
}
