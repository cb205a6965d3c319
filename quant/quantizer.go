package quant

import (
	"fmt"
	"math"
	"strings"
)

// MinBits and MaxBits bound the supported weight precisions. Two bits is
// ternary ({-1, 0, +1} times the step).
const (
	MinBits = 2
	MaxBits = 8
)

// Rule selects how a quantizer chooses its step D.
type Rule int

const (
	// L2 picks the step that minimises sum (Q(w)-w)^2 (global minimum).
	L2 Rule = iota
	// MaxAbs picks D = max|w| / qmax: no weight saturates.
	MaxAbs
	// TWN is the ternary-weight-network rule (Li, Zhang, Liu 2016):
	// threshold 0.7*mean|w|, step = mean of |w| above the threshold.
	// Only defined for 2 bits.
	TWN
	// Pow2 restricts D to powers of two (fixed point Qm.n) and picks the
	// one with the least L2 error.
	Pow2
)

var ruleNames = [...]string{L2: "l2", MaxAbs: "maxabs", TWN: "twn", Pow2: "pow2"}

// String returns the rule's name as used in configs and flags.
func (r Rule) String() string {
	if r < 0 || int(r) >= len(ruleNames) {
		return fmt.Sprintf("Rule(%d)", int(r))
	}
	return ruleNames[r]
}

// ParseRule converts a name ("l2", "maxabs", "twn", "pow2"; "" means l2)
// to a Rule.
func ParseRule(s string) (Rule, error) {
	if s == "" {
		return L2, nil
	}
	for r, n := range ruleNames {
		if strings.EqualFold(s, n) {
			return Rule(r), nil
		}
	}
	return 0, fmt.Errorf("quant: unknown rule %q (want l2, maxabs, twn or pow2)", s)
}

// Quantizer is a symmetric, mid-tread, uniform quantizer with saturation:
//
//	Q(w) = sign(w) * D * min(floor(|w|/D + 0.5), qmax),  qmax = (2^Bits-2)/2
//
// so codes run over -qmax..qmax (2^Bits - 1 levels): Bits=2 is ternary,
// Bits=3 gives -3..3, Bits=8 gives -127..127. It is a plain value; the zero
// value is invalid (Bits 0), set Bits.
type Quantizer struct {
	Bits       int  // 2..8
	Rule       Rule // how Step chooses D (L2 by default)
	PerChannel bool // one step per output row (used by the model wiring)
	PerGate    bool // one step per gate of a recurrent matrix (used by the model wiring)
}

// Validate reports whether q can be used.
func (q Quantizer) Validate() error {
	if q.Bits < MinBits || q.Bits > MaxBits {
		return fmt.Errorf("quant: bits %d out of range %d..%d", q.Bits, MinBits, MaxBits)
	}
	if q.Rule < L2 || q.Rule > Pow2 {
		return fmt.Errorf("quant: unknown rule %d", int(q.Rule))
	}
	if q.Rule == TWN && q.Bits != 2 {
		return fmt.Errorf("quant: rule twn is ternary only (bits 2), got bits %d", q.Bits)
	}
	return nil
}

// QMax returns the largest code, (2^Bits - 2)/2: 1 for 2 bits, 3 for 3,
// 127 for 8. Codes run over -QMax..QMax.
func (q Quantizer) QMax() int {
	if q.Bits < MinBits || q.Bits > MaxBits {
		panic(fmt.Sprintf("quant: bits %d out of range %d..%d", q.Bits, MinBits, MaxBits))
	}
	return (1<<q.Bits - 2) / 2
}

// Step returns the step D for the weights w under q's rule. It returns 0
// when every weight is zero (or w is empty); Apply maps everything to 0
// with a zero step. Non-finite weights are ignored when choosing D.
// Step panics if q is invalid (call Validate for user input).
func (q Quantizer) Step(w []float32) float32 {
	var s solver
	return s.step(q, w)
}

// StepRows writes one step per row of w viewed as [len(dst), len(w)/len(dst)]
// (one per output channel of a dense [out, in] matrix or a conv kernel
// [out, in*kh*kw]).
func (q Quantizer) StepRows(dst []float32, w []float32) {
	rows := len(dst)
	if rows == 0 || len(w)%rows != 0 {
		panic(fmt.Sprintf("quant: StepRows: %d weights do not split into %d rows", len(w), rows))
	}
	cols := len(w) / rows
	var s solver
	for r := range dst {
		dst[r] = s.step(q, w[r*cols:(r+1)*cols])
	}
}

// Threshold returns the zero threshold of q's rule for the weights w: a
// weight with |w| <= Threshold maps to code 0. For TWN it is 0.7*mean|w|
// (Li et al.); for every other rule it is 0, meaning the uniform
// quantizer's own rounding threshold D/2 (see Apply). Non-finite weights
// are ignored.
func (q Quantizer) Threshold(w []float32) float32 {
	if q.Rule != TWN {
		return 0
	}
	return float32(twnThreshold(w))
}

// ApplyThreshold is Apply with an explicit zero threshold thr (from
// Threshold): when thr > 0 the quantizer must be ternary and
// Q(w) = sign(w)*step for |w| > thr, else 0; when thr == 0 it is Apply.
func (q Quantizer) ApplyThreshold(dst, w []float32, step, thr float32) {
	if len(dst) != len(w) {
		panic(fmt.Sprintf("quant: ApplyThreshold: dst has %d elements, w has %d", len(dst), len(w)))
	}
	if thr > 0 && q.QMax() != 1 {
		panic(fmt.Sprintf("quant: ApplyThreshold: a threshold needs a ternary quantizer, got %d bits", q.Bits))
	}
	applyThr(dst, w, step, thr, float32(q.QMax()))
}

// Apply writes Q(w) with step D = step into dst (len(dst) == len(w)).
// NaN weights give 0, infinite ones saturate.
// Arithmetic is float32 exactly as written in the formula, so Apply,
// Codes and a dequantization code*step agree bit for bit. A step <= 0 (or
// NaN) maps every weight to 0.
func (q Quantizer) Apply(dst, w []float32, step float32) {
	if len(dst) != len(w) {
		panic(fmt.Sprintf("quant: Apply: dst has %d elements, w has %d", len(dst), len(w)))
	}
	apply(dst, w, step, float32(q.QMax()))
}

// ApplyRows is Apply with one step per row of w viewed as
// [len(steps), len(w)/len(steps)].
func (q Quantizer) ApplyRows(dst, w []float32, steps []float32) {
	rows := len(steps)
	if len(dst) != len(w) || rows == 0 || len(w)%rows != 0 {
		panic(fmt.Sprintf("quant: ApplyRows: dst %d, w %d elements, %d rows", len(dst), len(w), rows))
	}
	cols := len(w) / rows
	qm := float32(q.QMax())
	for r, st := range steps {
		apply(dst[r*cols:(r+1)*cols], w[r*cols:(r+1)*cols], st, qm)
	}
}

// apply is the quantization kernel shared by Apply and the model wiring.
// Branch-free per element: the sign is copied from w only for non-zero
// codes (no negative zeros), a NaN weight gives 0 and an infinite one
// saturates.
func apply(dst, w []float32, step, qmax float32) {
	if !(step > 0) {
		clear(dst)
		return
	}
	dst = dst[:len(w)]
	n := applyVec(dst, w, step, qmax)
	applyGo(dst[n:], w[n:], step, qmax)
}

// applyThr is apply with a zero threshold: thr > 0 is the ternary TWN
// mapping sign(w)*step for |w| > thr (NaN gives 0); thr <= 0 (or NaN) is
// apply's rounding.
func applyThr(dst, w []float32, step, thr, qmax float32) {
	if !(thr > 0) {
		apply(dst, w, step, qmax)
		return
	}
	if !(step > 0) {
		clear(dst)
		return
	}
	dst = dst[:len(w)]
	for i, v := range w {
		k := ternaryCode(v, thr)
		r := math.Float32bits(step * float32(k))
		dst[i] = math.Float32frombits(r | math.Float32bits(v)&uint32(-k)&signBit)
	}
}

// ternaryCode is 1 when |v| > thr, else 0 (also for NaN).
func ternaryCode(v, thr float32) int32 {
	if math.Float32frombits(math.Float32bits(v)&^signBit) > thr {
		return 1
	}
	return 0
}

// applyGo is the portable kernel of apply (and the oracle of the vector
// one); step > 0.
func applyGo(dst, w []float32, step, qmax float32) {
	dst = dst[:len(w)]
	for i, v := range w {
		k := code(v, step, qmax)
		r := math.Float32bits(step * float32(k))
		dst[i] = math.Float32frombits(r | math.Float32bits(v)&uint32(-k)&signBit)
	}
}

const signBit = 1 << 31

// code returns min(floor(|v|/step + 0.5), qmax) computed in float32, 0 for
// NaN. step must be > 0.
func code(v, step, qmax float32) int32 {
	a := math.Float32frombits(math.Float32bits(v) &^ signBit)
	x := min(a/step+0.5, qmax)
	return min(max(int32(x), 0), int32(qmax)) // int32(NaN) is out of range: clamp
}

// Codes writes the integer codes of w (sign(w)*min(floor(|w|/step+0.5), qmax))
// into dst; Q(w) == float32(code)*step exactly. A step <= 0 gives all zero
// codes. qmax must be in 1..127.
func Codes(dst []int8, w []float32, step float32, qmax int) {
	if len(dst) != len(w) {
		panic(fmt.Sprintf("quant: Codes: dst has %d elements, w has %d", len(dst), len(w)))
	}
	if qmax < 1 || qmax > 127 {
		panic(fmt.Sprintf("quant: Codes: qmax %d out of range 1..127", qmax))
	}
	if !(step > 0) {
		clear(dst)
		return
	}
	qm := float32(qmax)
	for i, v := range w {
		k := code(v, step, qm)
		if v < 0 {
			k = -k
		}
		dst[i] = int8(k)
	}
}

// TernaryCodes writes the ternary codes of w under the zero threshold thr
// (sign(w) for |w| > thr, else 0) into dst; with a step D,
// Q(w) == float32(code)*D exactly as ApplyThreshold computes it. thr must
// be > 0 (use Codes for the rounding threshold D/2).
func TernaryCodes(dst []int8, w []float32, thr float32) {
	if len(dst) != len(w) {
		panic(fmt.Sprintf("quant: TernaryCodes: dst has %d elements, w has %d", len(dst), len(w)))
	}
	if !(thr > 0) {
		panic(fmt.Sprintf("quant: TernaryCodes: threshold %g, want > 0", thr))
	}
	for i, v := range w {
		k := int8(ternaryCode(v, thr))
		if v < 0 {
			k = -k
		}
		dst[i] = k
	}
}

// isFinite reports whether v is neither NaN nor infinite.
func isFinite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
