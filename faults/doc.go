// Package faults measures how a model's test error degrades when bits of
// its stored weights flip: the soft errors of low-voltage SRAM, radiation
// and worn flash, per precision, on one axis for float32 checkpoints and
// packed models of every bit width.
//
// # Bit model
//
// A model's weight memory is the sequence of words a device stores after
// loading it: for a packed model (package packed) the bit image of
// packed.ReadImage — per weighted layer its packed codes exactly as in the
// file (2 bits per ternary weight, 1.6 in base 3, b bits otherwise) and its
// float32 steps and biases (integer mode: int32 biases and requantization
// multipliers, and shifts of one byte each, as the generated C stores
// them); for a float32 checkpoint the IEEE-754 words of
// its parameters (weights as codes; biases, BatchNorm parameters and
// running statistics as scales). Faults are injected in memory, after the
// file was loaded and validated: the loaders keep rejecting files with
// invalid codes or non-finite values.
//
// Each stored bit flips independently with probability BER. The parts a
// fault experiment covers, each reported as its own curve:
//
//	codes   the weight codes (float32: weight matrices and kernels)
//	scales  steps and biases (integer mode: biases, multipliers, shifts)
//	all     both
//
// For packed models two more parts (the --target activations and both of
// resq faults) cover the activation codes between layers:
//
//	activations  the 8-bit activation codes between layers, per test sample
//	both         all weight memory and the activations
//
// Sample i has its own stream, from TrialSeed(trialSeed ^ 0x6163747300000000, i),
// over its codes in layer order (each byte from bit 0), so that results do
// not depend on batch sizes or workers. Integer-only models: the uint8
// output codes of every stage but the last; a flipped code above its
// stage's largest code (the fused ReLU's clamp) reads as that code, as a
// saturating load would. The generated C flips the same bits when compiled
// with -DRESQ_FAULT_ACT_BER_Q64 (packed/cexport). Float-epilogue models:
// the codes every weighted layer but the first reads, after the
// per-sample quantization and before the dot products
// (packed.Model.InferHook; a conv layer's [C, H, W] input codes, before
// im2col); a flipped code reads as (code - zero point) * the sample's
// scale, which for a code the grid does not use (above a nonnegative
// row's largest code, 0 of a symmetric grid) lies beyond the row's range,
// except that a code above 127 of a layer with 8-bit weights reads as 127,
// the bound of the kernels' pairs. A sample with a flipped bit is scored
// by the argmax of its faulty 8-bit logits, the others by Predict (whose
// recheck would recompute from fault-free activations). Float32
// checkpoints hold no activation codes: asking for them is an error.
// Protections cover the weights only.
//
// Bits are visited in stream order: every codes tensor (layer order), then
// every scales tensor (layer order; per layer step then bias, or bias,
// mult, shift), each byte from bit 0 (least significant) to bit 7, words
// little-endian, so a word's bits go from 0 to 31. Padding bits of a last
// code byte are stored and can flip; decoding ignores them.
//
// # Decoding corrupted memory
//
// packed.Model.WithImage runs the corrupted image: a b-bit code field
// holding -2^(b-1), which is not a level (0b10 for ternary), decodes as
// 0, as does every code of a base-3 byte above 242 (a flipped bit of a
// base-3 byte can change up to five weights); other patterns are levels,
// so a flipped bit of a ternary code moves its weight by one or two levels
// or zeroes it. Steps and biases are used as stored: a flipped exponent bit
// of a float32 can make it 1e38 or non-finite. The dynamic engine codes a
// non-finite hidden row as all zero points (its next layer sees zeros);
// non-finite logits count as a broken trial. Integer shift bytes outside
// 1..62 read as the nearest of 1 and 62.
//
// # Random stream
//
// Stream is SplitMix64, integer arithmetic only, the same in Go and in the
// generated C. A bit flips when its draw (one Next per stored bit, in
// stream order) is below Threshold(BER) = floor(BER * 2^64). Trial t of a
// run with seed S starts from TrialSeed(S, t), the t-th output of a
// SplitMix64 stream seeded with S, and every rate and part of a trial
// starts from that state: a larger rate flips a superset of the bits, and
// part "all" flips the same code bits as part "codes". Results depend only
// on the seed, never on the number of workers.
//
// # Protections
//
// Each protection is its own curve, with the bits it stores beyond the
// model's (reported as ExtraBits and as a percentage of the stored bits):
//
//	none         decoding as above; 0 bits
//	clamp        each word of a steps, biases (or float32 weights) tensor is clamped to
//	             the tensor's fault-free range, a non-finite float read as 0 first; codes
//	             need nothing (the one invalid pattern already reads as 0); 64 bits per
//	             word tensor (its bounds, kept with the program, not in faulty memory)
//	parity-byte  an even-parity bit per byte of weights: a byte whose flips and parity flip
//	             are odd in number reads as zeros (every code with a bit in it; float32:
//	             its word); 1 bit per 8
//	parity-row   a parity bit per weight row (output): a bad row reads as zeros; 1 bit per row
//	tmr          steps and biases stored three times, read by bitwise majority; 2x the
//	             scales' bits
//
// The protections' own bits are stored too and flip at the same rate,
// from streams derived from the trial seed: parity bits (when the part
// covers codes) and the second and third copies (when it covers scales). A
// flipped parity bit alone zeroes a good byte or row.
//
// # Outcomes
//
// Per rate, a Point gives the mean, standard deviation and worst test
// error over the trials, the fraction of broken trials (error at or above
// chance level less 5 points, 85% for 10 classes, or non-finite logits)
// and of trials with non-finite logits. A curve's tolerated rate is the
// largest rate such that it and every smaller rate have a mean error
// within Tolerance (0.5 percentage points) of the fault-free error. Packed
// float-epilogue models are scored with packed.Model.PredictLogits (the
// classes `resq infer` counts), integer models with InferInt, float32
// checkpoints with nn's forward.
package faults
