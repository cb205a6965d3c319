package packed

import "fmt"

// Encodings of weight codes in a packed file (the "encoding" field of a
// dense layer in the arch metadata; see FORMAT.md).
const (
	EncBits  = "bits"  // two's complement, exactly Bits bits per code, LSB first
	EncBase3 = "base3" // ternary only: 5 codes per byte, base 3, first code least significant
)

// MinBits and MaxBits bound the weight precisions the engine runs: codes are
// -QMax..QMax with QMax = 2^(Bits-1) - 1 (ternary for 2 bits).
const (
	MinBits = 2
	MaxBits = 8
)

// qmax returns the largest code for b bits.
func qmax(bits int) int { return 1<<(bits-1) - 1 }

// codeBytes returns the size of n codes stored with the given encoding.
func codeBytes(n int64, bits int, enc string) int64 {
	if enc == EncBase3 {
		return (n + 4) / 5
	}
	return (n*int64(bits) + 7) / 8
}

// packBits writes codes as a little-endian bit stream, bits per code: code i
// occupies stream bits [i*bits, (i+1)*bits), stream bit j is bit j%8 of byte
// j/8, each field holds the code in two's complement. Trailing bits of the
// last byte are zero. dst must have codeBytes(len(codes), bits, EncBits)
// bytes.
func packBits(dst []byte, codes []int8, bits int) {
	if int64(len(dst)) != codeBytes(int64(len(codes)), bits, EncBits) {
		panic(fmt.Sprintf("packed: packBits: %d codes of %d bits need %d bytes, dst has %d", len(codes), bits, codeBytes(int64(len(codes)), bits, EncBits), len(dst)))
	}
	clear(dst)
	mask := uint32(1)<<bits - 1
	pos := 0
	for _, c := range codes {
		v := uint32(uint8(c)) & mask
		dst[pos>>3] |= byte(v << (pos & 7))
		if pos&7+bits > 8 {
			dst[pos>>3+1] |= byte(v >> (8 - pos&7))
		}
		pos += bits
	}
}

// unpackBits is the inverse of packBits. It fails on a field holding
// -2^(bits-1) (not a level of the symmetric quantizer: e.g. 0b10 for
// ternary) and on nonzero trailing padding bits.
func unpackBits(dst []int8, src []byte, bits int) error {
	if int64(len(src)) != codeBytes(int64(len(dst)), bits, EncBits) {
		return fmt.Errorf("%d codes of %d bits need %d bytes, have %d", len(dst), bits, codeBytes(int64(len(dst)), bits, EncBits), len(src))
	}
	if i, v, ok := decodeBits(dst, src, bits, true); !ok {
		return fmt.Errorf("code %d: bit pattern %0*b is not a level of the %d-bit quantizer", i, bits, v, bits)
	}
	if pos := len(dst) * bits; pos&7 != 0 && src[len(src)-1]>>(pos&7) != 0 {
		return fmt.Errorf("nonzero padding bits in the last byte %#02x", src[len(src)-1])
	}
	return nil
}

// decodeBits unpacks len(dst) codes of the given width from src, which
// must hold them. The pattern -2^(bits-1) is not a level: when strict,
// decoding stops there and returns its index and pattern with ok false;
// otherwise it decodes as 0.
func decodeBits(dst []int8, src []byte, bits int, strict bool) (at int, pattern uint32, ok bool) {
	mask := uint32(1)<<bits - 1
	invalid := uint32(1) << (bits - 1)
	shift := 32 - bits
	pos := 0
	for i := range dst {
		b := pos >> 3
		v := uint32(src[b]) >> (pos & 7)
		if pos&7+bits > 8 {
			v |= uint32(src[b+1]) << (8 - pos&7)
		}
		v &= mask
		if v == invalid {
			if strict {
				return i, v, false
			}
			v = 0
		}
		dst[i] = int8(int32(v<<shift) >> shift)
		pos += bits
	}
	return 0, 0, true
}

// packBase3 stores ternary codes five to a byte: byte i is
// sum_{j<5} (c[5i+j]+1) * 3^j, so the first code is the least significant
// base-3 digit. Missing codes of the last byte count as digit 0. dst must
// have codeBytes(len(codes), 2, EncBase3) bytes.
func packBase3(dst []byte, codes []int8) {
	if int64(len(dst)) != codeBytes(int64(len(codes)), 2, EncBase3) {
		panic(fmt.Sprintf("packed: packBase3: %d codes need %d bytes, dst has %d", len(codes), codeBytes(int64(len(codes)), 2, EncBase3), len(dst)))
	}
	for i := range dst {
		v, p := 0, 1
		for j := 5 * i; j < min(5*i+5, len(codes)); j++ {
			c := int(codes[j])
			if c < -1 || c > 1 {
				panic(fmt.Sprintf("packed: packBase3: code %d at %d is not ternary", c, j))
			}
			v += (c + 1) * p
			p *= 3
		}
		dst[i] = byte(v)
	}
}

// unpackBase3 is the inverse of packBase3. It fails on bytes above 242
// (3^5 - 1) and on nonzero padding digits.
func unpackBase3(dst []int8, src []byte) error {
	if int64(len(src)) != codeBytes(int64(len(dst)), 2, EncBase3) {
		return fmt.Errorf("%d base-3 codes need %d bytes, have %d", len(dst), codeBytes(int64(len(dst)), 2, EncBase3), len(src))
	}
	for i, b := range src {
		if b > 242 {
			return fmt.Errorf("byte %d is %d, above the base-3 maximum 242", i, b)
		}
		v := int(b)
		for j := 5 * i; j < 5*i+5; j++ {
			d := v % 3
			v /= 3
			if j < len(dst) {
				dst[j] = int8(d - 1)
			} else if d != 0 {
				return fmt.Errorf("nonzero padding digit in the last byte %d", b)
			}
		}
	}
	return nil
}
