package nn

import "math"

// Gate nonlinearities of the recurrent layers, in float32.
//
// The recurrent layers evaluate a sigmoid or tanh for every gate of every
// step, more than a million per sample of a 128-unit LSTM over 28 steps,
// so they use expf32, a float32 exponential (Cody-Waite range reduction
// to |r| <= ln2/2 and a degree-6 polynomial, relative error below 2e-7
// over [-87, 88]) instead of math.Exp in float64. sigmoid32 and tanh32
// are within 3e-7 (absolute) of the float64 functions; the tests check
// them against math over a dense grid. On amd64 with AVX2 and FMA the
// layers evaluate them 8 at a time (rnnmath_amd64.s: the same reduction
// and polynomial; tanh as 1 - 2/(e^2x + 1) over x clamped to ±9, within
// 3e-7 as well), tested against these over odd lengths.

const (
	expHi   = 88.0
	expLo   = -87.0
	log2e   = 1.44269504088896341
	ln2Hi   = 0.693359375
	ln2Lo   = -2.12194440e-4
	expMagc = 12582912.0 // 1.5 * 2^23: adding it rounds to an integer
)

// expf32 returns e^x for x clamped to [expLo, expHi].
func expf32(x float32) float32 {
	if x > expHi {
		x = expHi
	} else if x < expLo {
		x = expLo
	}
	// n = round(x / ln2)
	fn := x*log2e + expMagc
	n := int32(math.Float32bits(fn)) - int32(math.Float32bits(expMagc))
	fn -= expMagc
	r := x - fn*ln2Hi - fn*ln2Lo
	// e^r on [-ln2/2, ln2/2]: Cephes expf's minimax polynomial.
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(n+127)<<23)
}

// sigmoid32 returns 1/(1+e^-x).
func sigmoid32(x float32) float32 { return 1 / (1 + expf32(-x)) }

// tanh32 returns tanh(x) as 1 - 2/(e^2x + 1), with the odd symmetry made
// exact by computing it for |x|.
func tanh32(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	var t float32
	if a < 0.0625 {
		// Near 0 the formula above loses relative precision: use the
		// series x - x^3/3 + 2x^5/15.
		a2 := a * a
		t = a * (1 + a2*(-1.0/3+a2*(2.0/15)))
	} else {
		t = 1 - 2/(expf32(2*a)+1)
	}
	if x < 0 {
		return -t
	}
	return t
}

// sigmoidGo sets y[i] = sigmoid32(x[i]); in place allowed. It is the
// reference of the vectorised kernel and runs its tails.
func sigmoidGo(y, x []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = sigmoid32(v)
	}
}

// tanhGo sets y[i] = tanh32(x[i]); in place allowed. It is the
// reference of the vectorised kernel and runs its tails.
func tanhGo(y, x []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = tanh32(v)
	}
}
