// Package train trains nn models: optimisers, learning-rate schedules, the
// training loop, evaluation and early stopping.
//
// One training step, in Run, is:
//
//	n := batcher.Next(x, y)                     // shuffled copy of the next rows
//	logits := m.Forward(x[:n], true)            // [n, Classes]
//	loss := m.Loss.Forward(logits, y[:n])       // mean cross-entropy
//	m.Backward(m.Loss.Backward())               // overwrites every param's G
//	opt.Step(params, lr)                        // updates W from G
//	hooks.AfterStep()                           // package quant: W -> Q
//
// Ownership: during Run the optimiser is the only writer of the params' W,
// the layers write G, and the AfterStep hook (the quantizer) writes Q. The
// optimiser updates W from G even when the forward pass used Q: this is the
// retraining scheme of the paper (gradients computed through the quantized
// weights, applied to the float shadow weights). Early stopping copies W and
// the BatchNorm buffers into a snapshot and back, then calls AfterStep once
// so Q matches the restored W.
//
// Invariants:
//   - Determinism: the batch order depends only on (Config.Seed, epoch),
//     dropout masks only on the model seed, and every kernel is
//     deterministic, so the same model, dataset and Config give
//     bit-identical weights.
//   - No allocation per step in steady state: the batch buffers, the
//     optimiser state and the layers' outputs are allocated on the first
//     step and reused (the tensor kernels may allocate when they spawn
//     goroutines; with tensor.SetThreads(1) a step allocates nothing).
//     Evaluate reads batches straight from the split without copying.
//   - A run never ends in success with a broken model: a NaN or infinite
//     loss stops it before the update, and the weights and buffers are
//     checked for NaN and infinities after every epoch.
//   - Cancellation of the context is checked between batches.
//
// User mistakes (bad Config values, a model that does not fit the dataset)
// are returned as errors; mismatched shapes inside a step are programming
// errors and panic with a message naming both shapes.
package train
