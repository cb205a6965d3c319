package kernels

import "fmt"

// Row helpers of the inference engine: the dequantizing epilogue and the
// activation quantizer. Each has a portable Go loop (the reference) and an
// AVX2 loop used when the selected kernel is not NameGo; both compute the
// same float32 operations in the same order (no fused multiply-add), so
// their results are identical bit for bit.

// Epilogue writes y[j] = float32(acc[j] - off*colsum[j]) * (scale*step[j])
// + bias[j] for j < len(y), then max(y[j], 0) (NaN to 0) when relu is set.
// All slices must have len(y) elements at least.
func Epilogue(y []float32, acc, colsum []int32, step, bias []float32, off int32, scale float32, relu bool) {
	n := len(y)
	if len(acc) < n || len(colsum) < n || len(step) < n || len(bias) < n {
		panic(fmt.Sprintf("kernels: Epilogue: %d outputs, acc %d, colsum %d, step %d, bias %d", n, len(acc), len(colsum), len(step), len(bias)))
	}
	done := 0
	if rowsAVX2() && n >= 8 {
		done = n &^ 7
		r := 0
		if relu {
			r = 1
		}
		epilogueAVX2(&y[0], &acc[0], &colsum[0], &step[0], &bias[0], done/8, off, scale, r)
	}
	epilogueGo(y[done:], acc[done:], colsum[done:], step[done:], bias[done:], off, scale, relu)
}

func epilogueGo(y []float32, acc, colsum []int32, step, bias []float32, off int32, scale float32, relu bool) {
	acc, colsum, step, bias = acc[:len(y)], colsum[:len(y)], step[:len(y)], bias[:len(y)]
	for j := range y {
		v := float32(acc[j]-off*colsum[j])*(scale*step[j]) + bias[j]
		if relu && !(v > 0) {
			v = 0
		}
		y[j] = v
	}
}

// MinMax returns min(0, x...) and max(0, x...), ignoring NaNs.
func MinMax(x []float32) (lo, hi float32) {
	done := 0
	if rowsAVX2() && len(x) >= 8 {
		done = len(x) &^ 7
		var out [16]float32
		minMaxAVX2(&x[0], done/8, &out)
		for _, v := range out[:8] {
			lo = min(lo, v)
		}
		for _, v := range out[8:] {
			hi = max(hi, v)
		}
	}
	l, h := minMaxGo(x[done:])
	return min(lo, l), max(hi, h)
}

func minMaxGo(x []float32) (lo, hi float32) {
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// Quantize writes u[i] = int(clamp(x[i]*inv + bias, 0, top)) (truncation;
// NaN gives 0) for i < len(x). top must be <= 255 and len(u) >= len(x).
func Quantize(u []uint8, x []float32, inv, bias, top float32) {
	if len(u) < len(x) || !(top <= 255) {
		panic(fmt.Sprintf("kernels: Quantize: %d codes for %d values, top %v", len(u), len(x), top))
	}
	done := 0
	if rowsAVX2() && len(x) >= 8 {
		done = len(x) &^ 7
		quantizeAVX2(&u[0], &x[0], done/8, inv, bias, top)
	}
	quantizeGo(u[done:], x[done:], inv, bias, top)
}

func quantizeGo(u []uint8, x []float32, inv, bias, top float32) {
	u = u[:len(x)]
	for i, v := range x {
		q := v*inv + bias
		if !(q >= 0) {
			q = 0
		}
		if q > top {
			q = top
		}
		u[i] = uint8(int32(q))
	}
}
