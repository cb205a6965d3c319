package nn

import "github.com/resq-dev/resq/tensor"

// Param is one trainable tensor of a layer.
//
// W holds the float ("shadow") weights that optimisers update. G holds the
// gradient of the loss with respect to the values used in the forward pass;
// Backward overwrites it (one Backward per step, no zeroing needed).
// Q is nil for float training; when a quantizer is attached (package quant)
// Q holds the quantized weights and Forward/Backward use Q instead of W
// (Value). Only the quantizer writes Q; only optimisers write W.
type Param struct {
	Name        string         // "0.weight", "0.bias", ... unique in a model
	W           *tensor.Tensor // float weights
	G           *tensor.Tensor // gradient, same shape as W
	Q           *tensor.Tensor // nil, or the quantized weights used by the layer
	Quantizable bool           // true for dense matrices and conv kernels, false for biases and BatchNorm
	Decay       bool           // weight decay applies (weights yes, biases/BN no)
	// Groups > 0 splits the rows of a quantizable matrix into Groups equal
	// contiguous blocks, the gates of a recurrent layer's Wih and Whh (4
	// for LSTM, 3 for GRU), which per-gate quantization gives a step each;
	// 0 for every other param.
	Groups int
}

// Value returns the weights the layer computes with: Q when set, else W.
func (p *Param) Value() *tensor.Tensor {
	if p.Q != nil {
		return p.Q
	}
	return p.W
}

// Layer is one stage of a feed-forward network with an explicit Forward and
// Backward. Shapes: the leading dimension is always the batch.
type Layer interface {
	// Forward computes the output for x. The result is owned by the layer
	// and valid until its next Forward. train selects training behaviour
	// (dropout, batch statistics).
	Forward(x *tensor.Tensor, train bool) *tensor.Tensor
	// Backward takes dL/dy for the last Forward, overwrites the gradients of
	// the layer's params and returns dL/dx (owned by the layer).
	Backward(dy *tensor.Tensor) *tensor.Tensor
	// Params returns the layer's trainable tensors (nil if none).
	Params() []*Param
	// Kind names the layer type ("dense", "conv", "maxpool", "relu", ...).
	Kind() string
}
