// Package prune removes the smallest-magnitude weights of a network while
// it trains (float training or quantized retraining), on the gradual
// schedule of Zhu and Gupta ("To prune, or not to prune", 2017).
//
// # Schedule
//
// Over the steps t of a run, the target sparsity rises from the model's
// initial sparsity s_i (the fraction of weights already exactly zero: a
// pruned checkpoint keeps its zeros) to the final sparsity s_f:
//
//	s(t) = s_f + (s_i - s_f) * (1 - (t - t0) / (t1 - t0))^3   for t0 <= t <= t1
//
// with t0 = Begin*T and t1 = End*T of the run's T steps (defaults 0 and
// 0.7: the last 30% of the run trains with the final mask). The mask is
// recomputed every Every steps (default: 1/50 of the ramp) and at t1;
// from then on it is fixed.
//
// # Masks
//
// Only quantizable params (dense and conv weights) are pruned; biases and
// BatchNorm params are untouched. A mask update keeps, per layer (Scope
// "layer") or over all layers together (Scope "global", one threshold), the
// round((1-s)*n) weights of largest |W|; ties are broken by index, so the
// result is deterministic. Pruned weights are zeros and zeros are the
// smallest magnitudes, so a weight once pruned stays pruned. After every
// optimizer step Apply sets the pruned W to exactly 0 again (an update
// must not revive them), before a quantizer re-quantizes: Q(0) = 0, so
// pruned weights are exactly zero in the quantized model too.
//
// With a quantizer attached, every mask change is passed to it
// (quant.State.SetMasks), which re-estimates the steps over the surviving
// weights only; between changes the steps stay fixed, as in retraining
// without pruning.
//
// # Errors
//
// A sparsity outside [0, 1), a scope other than layer or global, Begin or
// End outside 0 <= Begin < End <= 1, or a negative Every are one-line
// errors naming the value.
package prune
