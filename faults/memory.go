package faults

import (
	"encoding/binary"
	"math"
)

// Part names the stored words a fault hits.
const (
	PartCodes  = "codes"  // weight codes (a float checkpoint: its weight matrices and kernels)
	PartScales = "scales" // steps and biases (integer mode: biases, multipliers, shifts; float: biases, BatchNorm)
	PartAll    = "all"    // both
)

// Region kinds: packed codes or 32-bit words.
const (
	kindCodes = iota // packed codes (bits and encoding below)
	kindF32          // float32 words
	kindI32          // int32 words
	kindU8           // byte words (integer-mode shifts)
)

// region is one contiguous stored tensor: its bytes as a device holds
// them (little-endian words, codes packed as in the file).
type region struct {
	scale      bool // part "scales"
	kind       int
	bits       int    // codes: bits per code
	enc        string // codes: packed.EncBits or packed.EncBase3
	rows, cols int    // codes and matrix words: rows of cols values (words: rows = 1 for vectors)
	b          []byte
}

// words returns the number of 32-bit words of a word region.
func (r *region) words() int { return len(r.b) / 4 }

func (r *region) f32(i int) float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(r.b[4*i:]))
}
func (r *region) i32(i int) int32 { return int32(binary.LittleEndian.Uint32(r.b[4*i:])) }
func (r *region) setWord(i int, v uint32) {
	binary.LittleEndian.PutUint32(r.b[4*i:], v)
}

// memory is a model's stored regions in stream order: every codes region
// (layer order), then every scales region (layer order).
type memory []region

func (m memory) clone() memory {
	c := make(memory, len(m))
	for i, r := range m {
		r.b = append([]byte(nil), r.b...)
		c[i] = r
	}
	return c
}

// bits returns the stored bits of the regions of a part.
func (m memory) bits(part string) int64 {
	var n int64
	for _, r := range m {
		if hits(part, r.scale) {
			n += 8 * int64(len(r.b))
		}
	}
	return n
}

// hits reports whether a part covers a region of weight memory.
func hits(part string, scale bool) bool {
	switch part {
	case PartAll, PartBoth:
		return true
	case PartCodes:
		return !scale
	case PartScales:
		return scale
	}
	return false
}

// inject flips the regions a part covers with stream s at threshold t,
// in stream order, and returns the flipped bit count.
func (m memory) inject(part string, s *Stream, t uint64) int {
	n := 0
	for i := range m {
		if hits(part, m[i].scale) {
			n += FlipBytes(m[i].b, s, t)
		}
	}
	return n
}

func bytesToWords(b []byte) []uint32 {
	w := make([]uint32, len(b)/4)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return w
}

func wordsToBytes(w []uint32) []byte {
	b := make([]byte, 4*len(w))
	for i, v := range w {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return b
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}
