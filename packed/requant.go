package packed

import (
	"fmt"
	"math"
)

// Requant is the integer mode's requantization, the one definition that
// the Go engine and the generated C share bit for bit:
//
//	Requant(v, m, sh) = floor((v*m + 2^(sh-1)) / 2^sh)
//
// that is v * m/2^sh rounded to the nearest integer, halves toward +inf.
// v is an int32 accumulator plus an int32 bias (|v| < 2^32), m a
// multiplier in [2^30, 2^31) (or 0) and sh a shift in 1..62, so the int64
// product never overflows. Go's >> on signed integers is arithmetic, which
// is the floor; the C code computes the floor explicitly (a right shift of
// a negative value is implementation-defined in C99).
func Requant(v int64, m, sh int32) int64 {
	return (v*int64(m) + int64(1)<<(sh-1)) >> sh
}

// quantizeMultiplier encodes a real multiplier x >= 0 as m/2^sh with m in
// [2^30, 2^31) and sh in 1..62, the fixed-point form Requant uses (the
// representation of gemmlowp and TFLite, with a 31-bit mantissa). A
// multiplier below 2^-32 becomes m = 0 (every output rounds to 0 before
// the bias). It fails for multipliers of 2^30 or more and non-finite ones.
func quantizeMultiplier(x float64) (m, sh int32, err error) {
	if !(x >= 0) || math.IsInf(x, 0) {
		return 0, 0, fmt.Errorf("requantization multiplier %g is not a finite number >= 0", x)
	}
	if x == 0 {
		return 0, 1, nil
	}
	f, e := math.Frexp(x) // x = f * 2^e, f in [0.5, 1)
	q := int64(math.Round(f * (1 << 31)))
	if q == 1<<31 {
		q /= 2
		e++
	}
	s := 31 - e // x ~= q / 2^s
	switch {
	case s > 62:
		return 0, 1, nil
	case s < 1:
		return 0, 0, fmt.Errorf("requantization multiplier %g too large (at most 2^30)", x)
	}
	return int32(q), int32(s), nil
}
