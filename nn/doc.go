// Package nn holds the neural-network layers, the model families and the
// model spec grammar of resq.
//
// # Layers
//
// Every layer implements Layer with an explicit Forward and Backward:
// Dense, Conv2D, MaxPool, ReLU, Sigmoid, Tanh, Dropout, Flatten,
// BatchNorm, the recurrent LSTM and GRU, and SeqRows; SoftmaxCE is the
// loss. Tensors are row-major float32 with the
// batch first: [batch, features] for dense layers and [batch, C, H, W]
// (NCHW) for convolutional ones.
//
// Ownership: the tensor a layer returns (from Forward or Backward) is owned
// by the layer and valid until its next call; the layer keeps a reference
// to its Forward input (owned by the caller, usually the previous layer)
// until the matching Backward. Output and gradient buffers are allocated on
// the first call and reused while the batch size stays the same, so a
// training step of an MLP allocates nothing in steady state. Layers are not
// safe for concurrent use; the kernels of package tensor parallelise inside
// each call.
//
// Params: Forward and Backward compute with Param.Value() (the quantized
// weights Q when package quant has set them, else the float W), and Backward
// overwrites Param.G with the gradient with respect to that value; the
// optimiser applies it to W. Backward never writes W or Q. Dense and Conv2D
// weights are Quantizable; biases and BatchNorm gamma/beta are not.
//
// Construction: Build makes every layer. By hand, use NewDense, NewConv2D,
// NewMaxPool, NewDropout and NewBatchNorm (they allocate the params and
// check the configuration); ReLU, Sigmoid, Tanh and Flatten are ready as
// zero values.
//
// Model.Forward runs a ReLU followed by a MaxPool as one step: the pool
// on the ReLU's input, then the ReLU on the pooled values only (the two
// commute value for value), and Model.Backward takes the gradient back
// through both at once (MaxPool.forwardReLU, backwardReLU). The results
// equal those of the layers called one by one; the ReLU layer then keeps no
// output, so after a Model.Forward only Model.Backward may run backward
// through such a pair.
//
// Shape mismatches at layer boundaries are programming errors and panic
// with a message naming the layer and both shapes ("nn: dense 0: input
// [100 785] does not match weights [1024 784]"); malformed specs and input
// shapes that do not match a spec are returned errors.
//
// # Model specs
//
// Build(spec, in, seed) constructs a Model from a one-line spec. There are
// four families: mlp, cnn and the recurrent lstm and gru.
//
// Fully connected (mlp): IN-HIDDEN-...-CLASSES, where each hidden token is
// WIDTH or WIDTHxCOUNT:
//
//	mlp:784-1024x3-10               784 inputs, 3 hidden layers of 1024, 10 classes
//	mlp:784-512-256-10              hidden layers of 512 and 256
//	mlp:784-10                      a linear (softmax regression) classifier
//	mlp:784-1024x3-10,act=sigmoid,drop=0.2,dropin=0.2
//
// Each hidden layer is Dense + activation (+ Dropout when drop > 0); the
// output layer is Dense with no activation (logits). dropin puts a Dropout
// on the input. IN must equal the product of the dataset's per-sample shape.
//
// Convolutional (cnn): LAYER-...-CLASSES over a [C, H, W] input given to
// Build (the spec holds no input size):
//
//	MAPScK     conv with MAPS output maps, K×K kernel, stride 1, padding
//	           (K-1)/2 ("same" for odd K), followed by the activation
//	MAPScKsS   the same with stride S
//	bn         BatchNorm after the conv just before it
//	pK, pKsS   K×K max pool with stride K (or S), no padding (floor)
//	fcWIDTH    Flatten (once) + Dense WIDTH + activation
//	CLASSES    Flatten (if not yet) + the Dense output layer
//
//	cnn:32c5-p2-64c5-p2-fc512-10            the MNIST CNN
//	cnn:32c3-bn-p2-64c3-bn-p2-fc256-10      BatchNorm after both convs
//	cnn:32c5-p2-64c5-p2-fc512-10,bn,drop=0.5,x0.5
//
// Conv, pool and bn tokens must come before fc tokens. Every conv is
// followed in Model.Layers by [BatchNorm,] activation, in that order (the
// packed engine folds BatchNorm into the conv and fuses the activation).
//
// Options, comma-separated after the layers, for both families unless
// noted: act=relu|sigmoid|tanh (default relu); init=uniform|he (default
// uniform, see Initialisation); drop=P, dropout with
// probability P after each hidden activation (mlp) or before each dense
// layer including the output layer (cnn); dropin=P (mlp only); bn (cnn
// only, BatchNorm after every conv, between the conv and its activation);
// xM (cnn only): multiply every conv's map count by M, rounding to the
// nearest integer and to at least 1; fc widths are NOT scaled. Sweeps vary
// M (0.25 .. 4) around a base network with ScaleCNN, and build MLP specs
// with MLPSpec.
//
// Recurrent (lstm, gru): IN-HIDDEN[xLAYERS]-...-CLASSES over sequences of
// steps with IN features each:
//
//	lstm:28-128-10                  28 features per step, one LSTM layer of 128 units, 10 classes
//	lstm:28-128x2-10                two stacked LSTM layers of 128
//	gru:28-64-10,drop=0.2           a GRU, dropout 0.2 before the head
//	lstm:98-256x2-98,head=seq,tokens  a character model: token ids in [0, 98), the next token at every step
//
// The per-sample input shape given to Build fixes the number of steps T:
// its size divided by IN (its last dimension, when it has several, must be
// IN: an MNIST image [1, 28, 28] is 28 steps of 28 pixel rows); with
// tokens every value is one step's token id in [0, IN) and T is the
// size. Every layer but the top one returns all its steps to the next;
// dropout (drop=P) follows every recurrent layer. The head is a Dense
// layer: head=last (the default, many-to-one) applies it to the top
// layer's hidden state at the last step, logits [batch, CLASSES];
// head=seq (many-to-many) applies it at every step after a SeqRows
// layer, logits [batch*T, CLASSES] with row b*T+t for sample b and step t,
// so the labels of a batch are [batch*T] (Model.Steps reports T and the
// head). Options: head=last|seq, tokens, bptt=K (truncated
// backpropagation through time: no gradient flows across steps t with
// t%K == 0, so it spans at most K steps; the default is the whole
// sequence), drop=P, init=uniform (every recurrent param U(±1/sqrt(H)),
// PyTorch's initialisation; the head as a dense layer).
//
// LSTM follows PyTorch's nn.LSTM (gates i, f, g, o; one bias of 4H) and
// GRU PyTorch's nn.GRU (gates r, z, n; biases of 3H on the input and on
// the recurrent side). Each has Wih [G*H, IN] ("L.weight_ih") and Whh
// [G*H, H] ("L.weight_hh"), both Quantizable, so a quantizer treats them as
// two weight matrices; biases stay float. Forward computes the input
// projections of all T steps with one GEMM ([batch*T, IN] by Wihᵀ) and the
// recurrent part with one GEMM per step ([batch, H] by Whhᵀ, written into
// the strided rows of that step); Backward runs backpropagation through
// time with one GEMM per step and computes the gradients of Wih, Whh and
// the input with one GEMM each over all steps. The gate sigmoid and tanh
// are float32 approximations within 3e-7 of the exact functions
// (rnnmath.go). Recurrent.StateBits > 0 quantizes the hidden state after
// every step (straight-through in Backward).
//
// # Sizes and limits
//
// Build works in two steps sharing one walk of the spec: a plan (layer
// configurations, shapes and param counts, computed with overflow-safe
// int64 arithmetic and no allocation proportional to the model), then the
// allocation of the planned layers. SpecSize runs the plan alone: it
// reports what Model.Count of the built model would, or the error Build
// would return, so callers holding an untrusted spec (package ckpt) can
// size a model before building it. The plan rejects models beyond
// MaxParams params, MaxActivation values per sample (the input and every
// layer output), MaxInputRank input dimensions and MaxSpecLayers layers;
// the limits are far above the networks of the paper and exist so that no
// spec or input shape can make Build exhaust memory.
//
// # Initialisation
//
// Build is deterministic in (spec, in, seed). The option init= picks the
// initialisation of every Dense and Conv2D layer:
//
//	init=uniform   (the default) weights and biases U(±1/sqrt(fan_in)), the
//	               default of PyTorch's nn.Linear and nn.Conv2d
//	init=he        a weight followed by ReLU He normal, N(0, 2/fan_in); one
//	               followed by sigmoid or tanh, and the output layer, Glorot
//	               uniform, U(±sqrt(6/(fan_in+fan_out))); biases zero
//
// fan_in = In or C·R·S, fan_out = Out or K·R·S. The uniform default is
// 2.45 times narrower than He normal and gives every unit a random bias;
// with the MLP recipe of the paper's sweeps (SGD with momentum 0.9,
// learning rate 0.05, dropout 0.2) He normal left up to a third of a
// 32-unit first layer dead (zero on every training sample) and its
// narrow networks 0.4-4 points behind, with one Fashion-MNIST seed in ten
// stalled at 25% error; examples/fidelity has the measurements. BatchNorm
// starts at gamma 1, beta 0, running mean 0 and variance 1. Weights come
// from a PCG stream (seed, "init"); each Dropout has its own PCG stream
// (seed, "drop"+layer index; Model.ReseedDropout restarts them), so dropout
// masks do not depend on the initialisation or on other layers.
//
// # Names and walking a model
//
// Param names are "LAYER.weight" and "LAYER.bias" with LAYER the index in
// Model.Layers (BatchNorm gamma and beta are "LAYER.weight"/"LAYER.bias" as
// in PyTorch); Model.Buffers adds "LAYER.running_mean"/"LAYER.running_var".
// Every layer type is exported with its configuration fields (Dense.In/Out,
// Conv2D.C/K/R/S/Stride/Pad, MaxPool.K/Stride, Dropout.P, BatchNorm.C/Eps),
// so packed inference and checkpoints can walk Model.Layers with a type
// switch.
//
// Model.Backward stops at the first parameterised layer, whose
// SkipInputGrad flag Build sets: the gradient with respect to the input
// data is never needed in training and costs one GEMM.
package nn
