package faults

import "math"

// Stream is the SplitMix64 generator (Steele, Lea and Flood 2014; the
// seeding generator of xoshiro) whose outputs decide every bit flip. Its
// whole state is one 64-bit word; the generated C (packed/cexport) runs
// the same integer arithmetic, so both produce the same stream:
//
//	state += 0x9e3779b97f4a7c15
//	z = state
//	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
//	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
//	return z ^ (z >> 31)
//
// (unsigned 64-bit arithmetic, modulo 2^64).
type Stream struct{ State uint64 }

// Next returns the stream's next output.
func (s *Stream) Next() uint64 {
	s.State += 0x9e3779b97f4a7c15
	z := s.State
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Threshold returns the integer form of a bit error rate: a bit flips when
// its draw is below Threshold(ber) = floor(ber * 2^64), clamped to
// 2^64-1 (so a rate of 1 flips a bit except with probability 2^-64).
// ber must be in [0, 1].
func Threshold(ber float64) uint64 {
	v := ber * (1 << 64)
	if v >= math.MaxUint64 {
		return math.MaxUint64
	}
	return uint64(v)
}

// TrialSeed returns the initial state of trial t's stream: output t (t =
// 0, 1, ...) of a SplitMix64 stream whose state starts at seed. Every rate
// of a trial starts from this state, so a larger rate flips a superset of
// the bits a smaller one flips (common random numbers: curves over rates
// do not jitter from trial to trial).
func TrialSeed(seed uint64, t int) uint64 {
	s := Stream{State: seed + uint64(t)*0x9e3779b97f4a7c15}
	return s.Next()
}

// Derived stream salts: the parity bits and the second and third copies of
// triplicated words are stored bits with their own, independent flips.
const (
	saltParity = 0x7061726974790000 // "parity"
	saltCopy2  = 0x636f707932000000 // "copy2"
	saltCopy3  = 0x636f707933000000 // "copy3"
)

// FlipBytes flips each bit of b independently when its draw from s is
// below t, in memory order: byte 0 bit 0 (the least significant) first,
// then bit 1, ..., byte 1 bit 0, and so on. A 32-bit little-endian word
// is four bytes, so its bits are visited from bit 0 to bit 31. It returns
// the number of bits flipped.
func FlipBytes(b []byte, s *Stream, t uint64) int {
	n := 0
	for i := range b {
		var m byte
		for k := 0; k < 8; k++ {
			if s.Next() < t {
				m |= 1 << k
			}
		}
		if m != 0 {
			b[i] ^= m
			n += popcount8(m)
		}
	}
	return n
}

func popcount8(m byte) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}
