// Package packed stores quantized networks in a compact file and runs them
// with integer arithmetic.
//
// # Format
//
// A packed model is a safetensors container (internal/safetensors): per
// dense or conv layer a U8 tensor of weight codes stored at exactly Bits
// bits per weight (ternary: 2 bits, or optionally 5 codes per byte in base
// 3, 1.6 bits/weight), an F32 step per tensor or per output channel and F32
// biases; metadata holds the architecture (JSON), the model spec and the
// provenance (resq version, dataset and checksum, source checkpoint, bit
// widths, quantizer config, format version). FORMAT.md describes it byte by
// byte. Export writes one from an nn.Model and its quant.State (atomic
// replace; BatchNorm folded into the steps and biases, dropout dropped);
// StoredBytes gives the exact tensor bytes the sweep's stored-size and ECR
// columns use, without writing anything. With Options.Sparse (pruned
// models) each layer whose relative-index stream (format version 3: gap
// fields with filler entries, sign-only values for ternary) is smaller
// than its dense codes is stored that way, and StoredBytes counts the
// whole stream.
//
// Format version 4 adds recurrent layers (lstm, gru; recurrent.go): Wih
// stored like a dense layer's codes, Whh beside it. The engine runs both
// products on the dense layers' integer kernels (recint.go): at every step
// the input x_t and the previous state h_{t-1} are coded per sample to
// 8-bit activation codes like a dense layer's input, the int32 sums are
// dequantized with the weight steps (per matrix or per gate) and the
// activation scale and zero point, and the biases, gate nonlinearities
// (nn's float32 sigmoid and tanh) and cell update stay float32. Infer's
// logits of a recurrent model therefore carry activation-coding error
// like a dense model's (worst 1.8% of the largest logit on a ternary
// sequential-MNIST LSTM), and Predict's decision check uses the larger
// thresholds tauRec8 = 0.1 and tauRec16 = 2e-3 (precise.go). Token inputs
// (one-hot) keep the input projection in float (a column of code*step, as
// in nn); their recurrent product is integer. A layer with a quantized
// state (StateBits) runs nn's float32 recurrence on code*step in every
// pass: the state rounding is not continuous, so a coding error of any
// size can move the state by a whole level and no threshold would bound
// it. Predict's float pass always runs nn's float32 recurrence on
// code*step, bit for bit the simulated-quantized forward. Recurrent models
// have no integer-only mode.
//
// # Engine
//
// Load/LoadBytes validate everything (the input is untrusted: one-line
// errors, never a panic; what Load allocates is bounded by a small multiple
// of the file size, and the scratch Infer allocates by the architecture's
// validated limits) and unpack the codes once into int8 panels (1 byte per
// weight, never float). Infer then
// runs, per dense or conv layer:
//
//  1. quantize each sample's input row to 8-bit codes u with one scale per
//     sample: nonnegative rows (pixels, ReLU and sigmoid outputs) to 0..255,
//     others symmetrically to 1..255 around the zero point 128 (for 8-bit
//     weights the grid halves, 0..127 / 64, see below);
//  2. the integer GEMM acc = sum u*code in int32 (exact), with AVX-512 VNNI
//     (VPDPBUSD), AVX2 (VPMADDUBSW + VPMADDWD) or pure Go, chosen at run
//     time (package packed/internal/kernels; all three give identical sums);
//     conv layers go through an int8 im2col with the zero point as padding;
//  3. y = act((acc - zero*colsum) * scale * step + bias) in float32, once per
//     output; max pooling and standalone activations run in float32.
//
// VPMADDUBSW adds pairs of u8*s8 products into saturating int16. With
// codes |c| <= 63 (weights of up to 7 bits) and u <= 255 a pair is at most
// 32130, so 8-bit activations are exact; 8-bit weights (|c| <= 127) use
// 7-bit activations (u <= 127, pairs <= 32258). Every kernel uses the same
// grid, so results do not depend on the CPU.
//
// Ternary layers also keep their codes in the kernels' T2 layout (4 per
// byte, kernels.PackT2) and, when the selected kernel has T2 code (AVX2,
// VNNI, or the pure-Go lookup-table kernel) and kernels.T2Rows says so
// for the batch (VNNI and the pure-Go kernel always, AVX2 below 8 rows),
// run kernels.GemmT2 on it: the same VPDPBUSD / VPMADDUBSW path with the
// codes decoded in registers (or, with VNNI on Intel from 16 rows, into
// an L1-resident block once per goroutine), so a layer reads a quarter of
// the weight bytes (a 1024x1024 layer fits in L2) and the sums stay
// exact. AVX2 batches of 8 rows or more run Gemm on PackW's layout with
// the ternary pair bound instead. A single sample runs one-row kernels
// (GemmT2's GEMV, kernels.Gemv for the other precisions) that read every
// weight once instead of once per 4-row block; op.gemm makes the choice.
// Every path gives the same int32 sums, so logits and predictions do not
// depend on it (TestT2MatchesByteLayout, TestSingleSampleMatchesBatch).
//
// The row loops around the GEMM (activation quantization, the dequantizing
// epilogue) have AVX2 versions too; before they did, they took as long as
// the GEMM itself. For low-bit weights the AVX2 GEMM adds VPMADDUBSW pairs
// in int16 over blocks of steps (up to 64 for ternary) before widening,
// a third fewer instructions; the block length comes from the bound
// 2*amax*qmax, so it is exact.
//
// Trained signal quantizers (quant.ActQuant, stored as "actquant" layers)
// run as float ops, and the next dense or conv layer then codes its input
// exactly on their grid (code = level, scale = D) instead of dynamically.
//
// # Sparse layers
//
// A dense layer whose codes are at most 25% nonzero (sparseDensity) also
// gets a compressed-sparse-column copy of its codes, whatever its storage,
// and the 8-bit pass computes its integer sums with it: for each nonzero
// activation code, the nonzero weights of its column are added in (for
// ternary, +u and -u only). The sums are exact int32, so logits and
// predictions equal the dense kernels' bit for bit (TestSparseEngineIdentical);
// the work is the nonzero inputs times the nonzero weights of their
// columns, which at batch 1 beats streaming the dense panel once both are
// sparse (pruned weights, ReLU outputs and MNIST's blank pixels;
// BenchmarkSparse, docs/PRUNING.md). The two-digit and float rechecks of
// Predict and conv layers keep the dense kernels.
//
// # Accuracy
//
// Weights are exact (the codes and steps of the quantized model). The only
// difference between Infer's logits and the simulated-quantized float
// forward (nn.Model.Forward with the quantized weights) is the dynamic
// activation quantization: each layer's inputs are rounded to 255 (or 127)
// levels of the row's range, a relative error of at most 1/510 per input.
// MNIST pixels k/255 are represented exactly, so the first layer of an
// MNIST MLP is exact up to float rounding. Documented tolerance of Infer,
// measured: largest |logit difference| / max(1, max|logit|) about 0.0065
// on trained MNIST MLPs (mean 0.001; `resq infer MODEL --check CKPT` prints
// it for any model), at most 0.019 on the tests' random networks (limit
// 0.1). With trained signal quantizers and pixel inputs every layer's input
// is coded exactly, and logits match nn's forward to float rounding (tests:
// relative error <= 1e-4).
//
// # Predictions
//
// Predict returns the class the simulated-quantized float forward
// predicts, not just Infer's argmax. A sample whose two best 8-bit logits
// are closer than tau8 = 0.06 * max(1, max|logit|) (about 0.4% of MNIST
// test samples for retrained MLPs, 1.4-2.6% for MLPs trained one epoch and
// quantized directly) is recomputed with two-digit activation codes: the input
// is quantized to (amax+1)^2 levels (16 bits; 14 for 8-bit weights), split
// into a high and a low digit of 0..amax, and both digit matrices go
// through the same integer GEMM, sum u*c = (amax+1) * sum hi*c + sum lo*c
// (combined in float64), a 257 (129) times smaller rounding error. If the
// two best logits are still closer than tau16 = 1e-3 * max(1, max|logit|),
// the sample is computed with float activations (sum x*code in float64,
// then the step), which is the simulated forward up to float rounding. The
// thresholds have 1.5x (8-bit) and 3.5x (two-digit) slack over the worst
// margin errors measured on the tests' networks; weights are never
// expanded to float32. On MNIST test sets Predict agrees with the
// simulated forward on every sample (see `resq infer --check`). The cost
// over Infer is the share of close calls: a two-digit pass costs about 12
// samples of the 8-bit pass at batch 100, a float pass (a scalar float64
// loop over the codes in panel order) about 2.6 ms for 784-1024x3-10 on
// a Zen 4 core; PredictStats counts both (docs/PERFORMANCE.md).
//
// # Integer-only mode
//
// ExportInteger writes a model (format version 2, metadata "mode":
// "integer") that runs without floating point from the input codes to
// the logits, for microcontrollers without an FPU and for the C export
// (package packed/cexport):
//
//   - static activation grids: the input grid covers the calibration
//     inputs (0..max for nonnegative inputs: MNIST pixels k/255 are coded
//     exactly), and each hidden layer's largest code stands for the P-th
//     percentile (default 99.99, quant.Percentile) of its ReLU outputs over
//     the calibration samples, or, when the model was retrained with signal
//     quantizers (quant's act bits with act range "pct:P"), the grid those
//     quantizers trained with;
//   - the integer grid per weight width: uint8 codes 0..255 in front of
//     weights of 2..7 bits (ternary in both packings), 0..127 in front of
//     8-bit weights (the AVX2 pair bound above), zero point 0 after a ReLU;
//   - int32 accumulators and int32 biases (zero point folded in), one
//     requantization per output, Requant(acc + bias, m, sh) =
//     floor((v*m + 2^(sh-1)) / 2^sh) with a 31-bit multiplier m, then the
//     clamp to 0..omax (ReLU fused); max pooling on codes; the last layer's
//     int32 outputs are the logits, argmax ties to the lowest index.
//
// InferInt runs it through the same integer GEMM kernels as the float
// mode (their int32 sums are exact, so every kernel gives identical bits;
// tests check each against a naive reference at odd sizes); Infer and
// Predict on an integer model code their float inputs with QuantizeInput
// and scale the logits by LogitScale. The integer forward differs from the
// simulated-quantized float forward by the static clipping and rounding
// of each hidden layer's outputs and by the bias rounding.
//
// # Concurrency
//
// A Model is immutable after Load; Infer, Predict and InferInt are safe for
// concurrent use (each call takes scratch buffers from a pool). Infer
// splits batches of 32 or more samples over GOMAXPROCS goroutines.
package packed
