// Package ckpt saves and loads trained models as safetensors checkpoints.
//
// A checkpoint holds, as F32 tensors named as in the model (nn.Param.Name,
// nn.Buffer.Name):
//
//   - the float ("shadow") weights W of every param, and
//   - the BatchNorm running statistics (nn.Model.Buffers),
//
// and, in the safetensors metadata:
//
//   - "format": the checkpoint format version as a decimal string
//     (FormatVersion), readable even when the rest does not parse;
//   - "resq": the Meta struct as JSON (spec, input shape, classes, dataset
//     and its checksum, resq version, training config, quantizer settings).
//
// Quantized weights Q are not stored: they are a function of W and the
// quantizer settings in Meta.Quant, which package quant re-applies after
// Load. Dropout RNG state and optimizer state are not stored either; a
// checkpoint is for evaluation, export and retraining from its weights, not
// for resuming a run bit-exactly.
//
// Load rebuilds the model from the spec with nn.Build and seed 0 (the
// initialisation is overwritten; dropout masks of a later retraining come
// from seed 0, so callers that need the original seed keep it in Meta.Extra
// or Meta.Train) and fills every param and buffer by name. It checks that
// each is present with the model's shape and that the file has no other
// tensor; errors name the file.
//
// A checkpoint is untrusted input: its metadata could name a model of
// billions of params or an input of billions of values, and Build would
// allocate it before the tensors are compared. Load therefore sizes the
// model first with nn.SpecSize, which allocates nothing and rejects specs
// and input shapes beyond nn's limits (nn.MaxParams params, nn.MaxActivation
// values per sample for the input and every layer output, nn.MaxInputRank
// input dimensions, nn.MaxSpecLayers layers), and refuses a spec that needs
// more params than the file holds F32 values (plus a slack of 2^20, so that
// a small model missing a tensor is still built and the missing tensor
// named). What Load allocates is thus bounded by a small multiple of the
// file's size. Save writes atomically (temporary file,
// fsync, rename), so an interrupted Save leaves the previous checkpoint
// intact.
//
// Saving the same model and Meta twice gives identical bytes.
package ckpt
