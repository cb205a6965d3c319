// Package quant quantizes network weights to 2..8 bits and wires quantized
// retraining into an nn.Model (Sung, Shin and Hwang, "Resiliency of Deep
// Neural Networks under Quantization", arXiv:1511.06488).
//
// # The quantizer
//
// A Quantizer is a small value {Bits, Rule, PerChannel}. For b bits there
// are M = 2^b - 1 levels and the codes run over -qmax..qmax with
// qmax = (M-1)/2: b=2 is ternary {-1, 0, +1}, b=3 gives -3..3, b=8 gives
// -127..127. With step D:
//
//	Q(w) = sign(w) * D * min(floor(|w|/D + 0.5), qmax)
//
// evaluated in float32 exactly in that order (Apply, Codes and the AVX2
// kernel agree bit for bit, and Q(w) == float32(code)*D). Ternary is not a
// special case: every bit width runs the same code. A step of 0 (all-zero
// weights) maps everything to 0; NaN weights give 0, infinite ones
// saturate; no negative zeros are produced.
//
// Rules choose D per tensor (or per output row with PerChannel: row r of a
// dense [out, in] matrix or a conv kernel [out, in, kh, kw]):
//
//   - L2 (default): the global minimum of sum (Q(w)-w)^2 over D. The error
//     is continuous and piecewise quadratic in D with concave kinks at the
//     breakpoints D = |w_i|/(k-0.5), so every local minimum is the vertex
//     D = sum(|w| z)/sum(z z) of one piece. After one radix sort of |w|,
//     the optimum is first bracketed by bounds that follow from any
//     achievable error U (see bracket in l2.go). When the bracket holds at
//     most 2^21 breakpoints, the exact sweep visits every piece in it in
//     decreasing D (breakpoints ordered by a radix sort on their float32
//     value, or merged by a heap for tensors of 2^24 weights or more) and
//     returns the global minimum; on a 784x1024 Gaussian layer that is the
//     case for 2..4 bits. Otherwise a search evaluates E on a log grid over
//     the bracket in O(qmax log n) per point from prefix sums, runs the
//     fixed-point iteration z = clip(round(w/D)), D = sum(w z)/sum(z z)
//     from the best grid minima, and finishes with exact sweeps of windows
//     around the three best candidates (2^20 breakpoints in all). For large
//     layers at 5..8 bits the error curve is flat around its minimum and
//     rippled, and the windows could miss a slightly deeper ripple: on
//     784x1024 Gaussian weights the search finds the exact sweep's step at
//     3, 4, 6 and 8 bits (TestSearchGapLarge, RESQ_LONG=1); on 20000
//     weights with windows forced narrow the tests allow 0.5%.
//   - MaxAbs: D = max|w|/qmax, nothing saturates.
//   - TWN (2 bits only, Li et al., ternary weight networks): threshold
//     T = 0.7*mean|w| (Quantizer.Threshold), D = mean of |w| over |w| > T,
//     and Q(w) = sign(w)*D for |w| > T, else 0. This is the one rule whose
//     zero threshold is not D/2: the state keeps T per step
//     (LayerInfo.Thresh), Sync and the packed export (TernaryCodes) use it,
//     and Quantizer.Apply, which always rounds at D/2, is not TWN's mapping
//     (use ApplyThreshold).
//   - Pow2: the power of two (fixed-point Qm.n step) with the least L2 error.
//
// # Retraining
//
// Attach(m, cfg) computes every quantizable param's step from its current
// (pretrained float) weights, allocates p.Q and fills it with Q(p.W); the
// layers then compute with p.Value() == p.Q, so gradients are taken through
// the quantized weights and the optimizer applies them to the float shadow
// weights W (straight-through). State.Sync re-quantizes Q from W after each
// optimizer step (pass it as train.Hooks.AfterStep); with Reestimate = N it
// first re-estimates the steps every N calls, otherwise the steps stay as
// computed from the pretrained weights (the paper). Sync is one elementwise
// pass over the weights with the AVX2 kernel on both cores. Direct
// quantization is Attach without training.
//
// Ownership: only a State writes the Q tensors it attached (Attach, Sync,
// LoadState, Detach); only optimizers write W. A State is not safe for
// concurrent use. A model already carrying Q (or signal quantizers) is
// refused by Attach, LoadState and Sensitivity.
//
// # Persistence
//
// json.Marshal(state) gives {"bits", "rule", ..., "format", "layers":
// [{"name", "bits", "step": [..], "qmin", "qmax", "shape"}], "acts"}: the
// value for ckpt.Meta.Quant and for `--json` output. Steps are float32 in
// their shortest round-trip form, so LoadState(m, raw) on the checkpoint's
// float weights re-creates exactly the same Q (no re-estimation) and so
// exactly the same test error.
//
// # Signal quantization
//
// With Config.ActBits = b, State.AttachActs inserts an ActQuant layer after
// every hidden ReLU/sigmoid: unsigned levels 0..2^b-1 times Clip/(2^b-1),
// clipped straight-through gradient. Clips come from a calibration batch
// (Config.ActRange: the L2-optimal step, the maximum, a percentile
// "pct:P", or a fixed value) and are stored in the State. They stay fixed
// during retraining: they are static activation scales, and the packed
// integer-only export (packed.ExportInteger) turns each quantizer into the
// output grid of the layer before it, so a model retrained with act bits
// and "pct:P" runs on the grids it was trained with (the export's own
// calibration uses the same Percentile rule for layers without one).
//
// # Recurrent layers
//
// The input-to-hidden and hidden-to-hidden matrices of nn's LSTM and GRU
// layers (Wih, Whh) are quantizable params like dense weights, so every
// quantizer, step rule, retraining with float shadow weights and
// Sensitivity (one matrix at a time) treat them as two weight matrices
// with the model's bit width. Config.PerGate gives each gate's block of
// rows (nn.Param.Groups: 4 for LSTM, 3 for GRU) a step of its own;
// PerChannel, one per row, wins when both are set. Config.StateBits
// quantizes the hidden state h of every recurrent layer after each step to
// signed StateBits bits (nn.Recurrent.StateBits; straight-through in
// Backward); Attach and LoadState set it, Detach clears it.
//
// # Errors
//
// User mistakes are returned errors with one line each: bits outside 2..8,
// an unknown rule, twn with bits other than 2, a model without quantizable
// weights, an already-quantized model, a state that does not match the
// model. Shape mismatches inside kernels are programming errors and panic
// with a message starting with "quant:".
package quant
