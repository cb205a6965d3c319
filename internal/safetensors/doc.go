// Package safetensors reads and writes the safetensors file format
// (https://github.com/huggingface/safetensors), the container resq uses for
// checkpoints and packed models.
//
// Layout of a file:
//
//	[8 bytes]  N, the header length, unsigned little-endian
//	[N bytes]  a JSON object, padded with spaces to a multiple of 8 bytes:
//	           {"__metadata__": {"key": "value", ...},
//	            "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//	[rest]     the byte buffer; tensor "name" is bytes [begin, end) of it,
//	           raw little-endian, row-major
//
// Write is deterministic: the same tensors and metadata always give the same
// bytes. Tensors are laid out in the data buffer in ascending name order (byte
// order of the names), not in the order given, and the JSON keys are sorted
// the same way with "__metadata__" first. (The reference implementation
// orders by dtype size, then name; readers accept either, since offsets are
// explicit.) The data buffer starts on an 8-byte boundary; the format forbids
// gaps between tensors, so individual tensors are aligned only as far as the
// sizes before them allow (F32 copies, so alignment never matters to callers
// of this package).
//
// Read is meant for untrusted bytes. It rejects, with an error starting with
// "safetensors:", a header length larger than the file or than MaxHeader, a
// header that is not a JSON object, duplicate names, unknown dtypes, negative
// dimensions, shapes whose byte size overflows or differs from the offsets,
// and offsets that are out of bounds, overlap, leave gaps, or do not cover the
// whole data buffer exactly. It never panics.
//
// Ownership: the Tensor.Data slices returned by Read alias the buffer passed
// to Read (no copy); the caller must keep that buffer unchanged while it uses
// them. Write only reads its arguments.
package safetensors
