package packed

import (
	"fmt"
	"math/bits"
)

// EncSparse stores a layer's codes as relative indices (Deep Compression
// style): a bit stream of entries, each a gap field of GapBits bits and,
// unless it is a filler, a value field holding one nonzero code. See
// FORMAT.md, "Codes, encoding sparse".
const EncSparse = "sparse"

// maxGapBits bounds the gap field width.
const maxGapBits = 8

// sparseValueBits returns the width of a nonzero code's value field for b
// bits: the 2*qmax nonzero codes need bits.Len(2*qmax-1) bits (1 for
// ternary: the sign only; b for 3..8 bits).
func sparseValueBits(b int) int { return bits.Len(uint(2*qmax(b) - 1)) }

// sparseValue maps a nonzero code to its value field: -qmax..-1 to
// 0..qmax-1 and 1..qmax to qmax..2*qmax-1.
func sparseValue(c int8, q int) uint32 {
	if c < 0 {
		return uint32(int(c) + q)
	}
	return uint32(int(c) + q - 1)
}

// sparseCode is the inverse of sparseValue; ok is false for a field
// outside 0..2*qmax-1.
func sparseCode(v uint32, q int) (int8, bool) {
	switch {
	case int(v) < q:
		return int8(int(v) - q), true
	case int(v) < 2*q:
		return int8(int(v) - q + 1), true
	}
	return 0, false
}

// sparseCost returns the number of entries and of stream bits of codes
// with gap fields of g bits: a nonzero code after z zeros takes
// floor(z/F) fillers (F = 2^g - 1 zeros each) and one entry; trailing
// zeros need no entry.
func sparseCost(codes []int8, b, g int) (entries, nbits int64) {
	f := int64(1)<<g - 1
	vb := int64(sparseValueBits(b))
	var z int64
	for _, c := range codes {
		if c == 0 {
			z++
			continue
		}
		fill := z / f
		entries += fill + 1
		nbits += (fill+1)*int64(g) + vb
		z = 0
	}
	return entries, nbits
}

// sparseChoice returns the gap width (1..8) with the fewest stream bytes
// for codes, its entry count and its byte count.
func sparseChoice(codes []int8, b int) (g int, entries, nbytes int64) {
	nbytes = -1
	for w := 1; w <= maxGapBits; w++ {
		e, n := sparseCost(codes, b, w)
		if bytes := (n + 7) / 8; nbytes < 0 || bytes < nbytes {
			g, entries, nbytes = w, e, bytes
		}
	}
	return g, entries, nbytes
}

// bitWriter appends little-endian bit fields to a byte slice.
type bitWriter struct {
	b   []byte
	pos int
}

func (w *bitWriter) put(v uint32, n int) {
	for n > 0 {
		if w.pos&7 == 0 {
			w.b = append(w.b, 0)
		}
		k := min(n, 8-w.pos&7)
		w.b[w.pos>>3] |= byte((v & (1<<k - 1)) << (w.pos & 7))
		v >>= k
		n -= k
		w.pos += k
	}
}

// packSparse encodes codes with gap fields of g bits.
func packSparse(codes []int8, b, g int) []byte {
	f := 1<<g - 1
	vb, q := sparseValueBits(b), qmax(b)
	w := &bitWriter{}
	z := 0
	for _, c := range codes {
		if c == 0 {
			z++
			continue
		}
		for ; z >= f; z -= f {
			w.put(uint32(f), g)
		}
		w.put(uint32(z), g)
		w.put(sparseValue(c, q), vb)
		z = 0
	}
	return w.b
}

// unpackSparse decodes entries entries of a sparse stream into dst (all
// codes of the layer, zeroed first). It fails when an entry runs past the
// layer, a value field is not a code, the stream's length is not the
// entries' bits rounded up to bytes, or padding bits are set.
func unpackSparse(dst []int8, src []byte, b, g int, entries int64) error {
	clear(dst)
	f := uint32(1)<<g - 1
	vb, q := sparseValueBits(b), qmax(b)
	n := len(dst)
	total := int64(len(src)) * 8
	var pos int64 // stream bit
	get := func(k int) (uint32, bool) {
		if pos+int64(k) > total {
			return 0, false
		}
		var v uint32
		for i := 0; i < k; i++ {
			bit := uint32(src[pos>>3]>>(pos&7)) & 1
			v |= bit << i
			pos++
		}
		return v, true
	}
	at := 0 // next code index
	for e := int64(0); e < entries; e++ {
		gap, ok := get(g)
		if !ok {
			return fmt.Errorf("entry %d of %d runs past the %d-byte stream", e, entries, len(src))
		}
		at += int(gap)
		if gap == f {
			if at > n {
				return fmt.Errorf("filler entry %d skips past the layer's %d codes", e, n)
			}
			continue
		}
		v, ok := get(vb)
		if !ok {
			return fmt.Errorf("entry %d of %d runs past the %d-byte stream", e, entries, len(src))
		}
		if at >= n {
			return fmt.Errorf("entry %d puts a code at %d, past the layer's %d codes", e, at, n)
		}
		c, ok := sparseCode(v, q)
		if !ok {
			return fmt.Errorf("entry %d: value field %d is not a nonzero %d-bit code", e, v, b)
		}
		dst[at] = c
		at++
	}
	if want := (pos + 7) / 8; want != int64(len(src)) {
		return fmt.Errorf("%d entries take %d bytes, the stream has %d", entries, want, len(src))
	}
	if pos&7 != 0 && src[len(src)-1]>>(pos&7) != 0 {
		return fmt.Errorf("nonzero padding bits in the last byte %#02x", src[len(src)-1])
	}
	return nil
}

// chooseSparse switches a weighted layer to the sparse encoding when its
// stream is strictly smaller than the dense codes; d.Sparse then holds it.
func chooseSparse(al *archLayer, d *denseData) {
	if len(d.Codes) == 0 {
		return
	}
	dense := codeBytes(int64(len(d.Codes)), al.Bits, al.Encoding)
	g, entries, nbytes := sparseChoice(d.Codes, al.Bits)
	if nbytes >= dense || entries == 0 {
		return
	}
	al.Encoding, al.GapBits, al.Entries = EncSparse, g, entries
	d.Sparse = packSparse(d.Codes, al.Bits, g)
}

// sparseCols is a weight matrix [rows, cols] in compressed sparse
// column form, for the engine's sparse kernel: the nonzero codes of input
// j are ent[start[j]:start[j+1]], each entry row<<8 | uint8(code) (rows
// are below 2^24, so one load gives both). Ternary matrices keep the rows
// of the +1 codes of input j in ent[start[j]:mid[j]] and those of the -1
// codes in ent[mid[j]:start[j+1]], as plain row numbers: the kernel then
// only adds and subtracts.
type sparseCols struct {
	start   []int32  // [cols+1]
	mid     []int32  // [cols], ternary only
	ent     []uint32 // [nnz]
	ternary bool
}

// sparseDensity is the largest fraction of nonzero codes for which the
// engine runs a dense layer with the sparse kernel (measured: see
// BenchmarkSparse).
const sparseDensity = 0.25

// newSparseCols builds the column form of codes [rows, cols], or nil when
// more than a fraction maxDensity of them are nonzero (the layer is too
// dense for the sparse kernel to pay; sparseDensity).
func newSparseCols(codes []int8, rows, cols int, maxDensity float64) *sparseCols {
	nnz := 0
	for _, c := range codes {
		if c != 0 {
			nnz++
		}
	}
	if float64(nnz) > maxDensity*float64(len(codes)) {
		return nil
	}
	ternary := true
	for _, c := range codes {
		ternary = ternary && c >= -1 && c <= 1
	}
	s := &sparseCols{start: make([]int32, cols+1), ent: make([]uint32, nnz), ternary: ternary}
	for r := 0; r < rows; r++ {
		for j, c := range codes[r*cols : (r+1)*cols] {
			if c != 0 {
				s.start[j+1]++
			}
		}
	}
	for j := 0; j < cols; j++ {
		s.start[j+1] += s.start[j]
	}
	next := append([]int32(nil), s.start[:cols]...)
	if ternary {
		// +1 rows first, then -1 rows, each ascending.
		for r := 0; r < rows; r++ {
			for j, c := range codes[r*cols : (r+1)*cols] {
				if c == 1 {
					s.ent[next[j]] = uint32(r)
					next[j]++
				}
			}
		}
		s.mid = append([]int32(nil), next...)
		for r := 0; r < rows; r++ {
			for j, c := range codes[r*cols : (r+1)*cols] {
				if c == -1 {
					s.ent[next[j]] = uint32(r)
					next[j]++
				}
			}
		}
		return s
	}
	for r := 0; r < rows; r++ {
		for j, c := range codes[r*cols : (r+1)*cols] {
			if c != 0 {
				s.ent[next[j]] = uint32(r)<<8 | uint32(uint8(c))
				next[j]++
			}
		}
	}
	return s
}

// gemm computes acc[i, r] = sum_j u[i, j] * code[r, j] for m rows of
// activation codes u (row stride ku) into acc (row stride ka, the first
// rows entries of each row written). Zero activations are skipped, so its
// work is the nonzero inputs times the nonzero weights of their columns.
// The int32 sums are exact, hence identical to the dense kernels'.
func (s *sparseCols) gemm(m, rows, cols int, u []uint8, ku int, acc []int32, ka int) {
	for i := 0; i < m; i++ {
		a := acc[i*ka : i*ka+rows]
		clear(a)
		x := u[i*ku : i*ku+cols]
		if s.ternary {
			s.ternaryRow(a, x)
			continue
		}
		start := s.start[:len(x)+1]
		for j, v := range x {
			if v == 0 {
				continue
			}
			uv := int32(v)
			for _, e := range s.ent[start[j]:start[j+1]] {
				a[e>>8] += uv * int32(int8(e))
			}
		}
	}
}

// ternaryRow adds the columns of the nonzero inputs x into a: +u for the
// rows of +1 codes, -u for those of -1 codes.
func (s *sparseCols) ternaryRow(a []int32, x []uint8) {
	start, mid := s.start[:len(x)+1], s.mid[:len(x)]
	for j, v := range x {
		if v == 0 {
			continue
		}
		uv := int32(v)
		lo, m, hi := start[j], mid[j], start[j+1]
		for _, r := range s.ent[lo:m] {
			a[r] += uv
		}
		for _, r := range s.ent[m:hi] {
			a[r] -= uv
		}
	}
}
