package faults

import (
	"fmt"
	"math"

	"github.com/resq-dev/resq/packed"
)

// Protections, cheapest first (see doc.go for what each stores and does).
const (
	ProtNone       = "none"        // invalid code patterns decode as 0, everything else as stored
	ProtClamp      = "clamp"       // every word clamped to its tensor's fault-free range
	ProtParityByte = "parity-byte" // a parity bit per byte of weights: a bad byte's words read as 0
	ProtParityRow  = "parity-row"  // a parity bit per weight row: a bad row reads as 0
	ProtTMR        = "tmr"         // steps and biases stored three times, bitwise majority
)

// Protections lists every protection in report order.
var Protections = []string{ProtNone, ProtClamp, ProtParityByte, ProtParityRow, ProtTMR}

// checkProtection returns an error for an unknown protection name.
func checkProtection(p string) error {
	for _, q := range Protections {
		if p == q {
			return nil
		}
	}
	return fmt.Errorf("faults: --protect %q: want one of none, clamp, parity-byte, parity-row, tmr", p)
}

// cost returns the bits protection p stores beyond the model's own.
func cost(p string, m memory) int64 {
	var n int64
	for _, r := range m {
		switch {
		case p == ProtClamp && r.kind == kindU8:
			n += 16 // the tensor's lower and upper bound, one byte each
		case p == ProtClamp && r.kind != kindCodes:
			n += 64 // the tensor's lower and upper bound, one word each
		case p == ProtParityByte && !r.scale:
			n += int64(len(r.b))
		case p == ProtParityRow && !r.scale:
			n += int64(r.rows)
		case p == ProtTMR && r.scale:
			n += 2 * 8 * int64(len(r.b))
		}
	}
	return n
}

// protect corrects got, the memory orig after the trial's flips over part,
// under protection p. The protection's own stored bits (parity bits, the
// second and third copies) flip with streams derived from the trial seed,
// at the same threshold t, when part covers the words they protect.
func protect(p string, orig, got memory, part string, seed, t uint64) {
	switch p {
	case ProtClamp:
		for i := range got {
			clampRegion(&orig[i], &got[i])
		}
	case ProtParityByte, ProtParityRow:
		if !hits(part, false) {
			return
		}
		s := Stream{State: seed ^ saltParity}
		for i := range got {
			if got[i].scale {
				continue
			}
			if p == ProtParityByte {
				parityBytes(&orig[i], &got[i], &s, t)
			} else {
				parityRows(&orig[i], &got[i], &s, t)
			}
		}
	case ProtTMR:
		if !hits(part, true) {
			return
		}
		c2, c3 := orig.clone(), orig.clone()
		c2.inject(PartScales, &Stream{State: seed ^ saltCopy2}, t)
		c3.inject(PartScales, &Stream{State: seed ^ saltCopy3}, t)
		for i := range got {
			if !got[i].scale {
				continue
			}
			a, b, c := got[i].b, c2[i].b, c3[i].b
			for j := range a {
				a[j] = a[j]&b[j] | a[j]&c[j] | b[j]&c[j]
			}
		}
	}
}

// clampRegion clamps every word of a word region into the range of its
// fault-free words; a non-finite float reads as 0 first. Codes regions
// are left alone: their decoding already maps the only invalid pattern to
// 0, and every other pattern is a level.
func clampRegion(orig, got *region) {
	switch got.kind {
	case kindF32:
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for i := range orig.words() {
			v := orig.f32(i)
			lo, hi = min(lo, v), max(hi, v)
		}
		for i := range got.words() {
			v := got.f32(i)
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				v = 0
			}
			got.setWord(i, math.Float32bits(min(max(v, lo), hi)))
		}
	case kindU8:
		lo, hi := byte(255), byte(0)
		for _, v := range orig.b {
			lo, hi = min(lo, v), max(hi, v)
		}
		for i, v := range got.b {
			got.b[i] = min(max(v, lo), hi)
		}
	case kindI32:
		lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
		for i := range orig.words() {
			v := orig.i32(i)
			lo, hi = min(lo, v), max(hi, v)
		}
		for i := range got.words() {
			got.setWord(i, uint32(min(max(got.i32(i), lo), hi)))
		}
	}
}

// parityBytes checks each byte against its parity bit (itself flipped by
// s): an odd number of flips in the byte and its parity bit marks the byte
// bad, and every word with a bit in it reads as 0.
func parityBytes(orig, got *region, s *Stream, t uint64) {
	for i := range got.b {
		pflip := s.Next() < t
		if (popcount8(orig.b[i]^got.b[i])%2 == 1) != pflip {
			zeroByte(got, i)
		}
	}
}

// parityRows checks each row of weights against its parity bit: an odd
// number of flips among the row's stored bits and its parity bit marks the
// row bad, and the whole row reads as 0.
func parityRows(orig, got *region, s *Stream, t uint64) {
	flips := make([]int, got.rows)
	for i := range got.b {
		d := orig.b[i] ^ got.b[i]
		for ; d != 0; d &= d - 1 {
			k := 0
			for d>>k&1 == 0 {
				k++
			}
			for _, r := range rowsOfBit(got, 8*i+k) {
				flips[r]++
			}
		}
	}
	for r := range flips {
		pflip := s.Next() < t
		if (flips[r]%2 == 1) != pflip {
			zeroRow(got, r)
		}
	}
}

// rowsOfBit returns the rows that stored bit p of a weights region
// belongs to: none for padding, two for a base-3 byte shared by two rows.
func rowsOfBit(r *region, p int) []int {
	n := r.rows * r.cols
	switch {
	case r.kind != kindCodes:
		return []int{p / 32 / r.cols}
	case r.enc == packed.EncBase3:
		first, last := p/8*5, min(p/8*5+4, n-1)
		if first/r.cols == last/r.cols {
			return []int{first / r.cols}
		}
		return []int{first / r.cols, last / r.cols}
	case p/r.bits >= n:
		return nil
	}
	return []int{p / r.bits / r.cols}
}

// zeroByte sets every weight with a stored bit in byte i to 0.
func zeroByte(r *region, i int) {
	switch {
	case r.kind != kindCodes:
		r.setWord(i/4, 0)
	case r.enc == packed.EncBase3:
		r.b[i] = 121 // five zero codes: digits 1,1,1,1,1
	default:
		n := r.rows * r.cols
		for c := 8 * i / r.bits; c <= (8*i+7)/r.bits && c < n; c++ {
			zeroCode(r, c)
		}
	}
}

// zeroRow sets every weight of row k to 0.
func zeroRow(r *region, k int) {
	for c := k * r.cols; c < (k+1)*r.cols; c++ {
		if r.kind != kindCodes {
			r.setWord(c, 0)
		} else {
			zeroCode(r, c)
		}
	}
}

// zeroCode stores code 0 at code index c of a codes region.
func zeroCode(r *region, c int) {
	if r.enc == packed.EncBase3 {
		b, j := c/5, c%5
		p := []int{1, 3, 9, 27, 81}[j]
		v := int(r.b[b])
		if v > 242 {
			r.b[b] = 121 // undecodable: all five codes read as 0 anyway
			return
		}
		d := v / p % 3
		r.b[b] = byte(v + (1-d)*p)
		return
	}
	for k := c * r.bits; k < (c+1)*r.bits; k++ {
		r.b[k>>3] &^= 1 << (k & 7)
	}
}
