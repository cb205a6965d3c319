package tensor

import (
	"fmt"
	"math"
)

// The kernels in this file are simple loops: they are memory-bound and a
// small share of training time next to Gemm. Every function writes its first
// argument (the destination) and reads the others; destination and source
// may be the same slice where noted ("in place allowed").

func checkLen(name string, got, want int) {
	if got < want {
		panic(fmt.Sprintf("tensor: %s: slice has %d elements, need %d", name, got, want))
	}
}

// AddBiasRows adds bias[j] to every row of y. y [rows, cols], bias [cols].
func AddBiasRows(y, bias []float32, rows, cols int) {
	checkLen("AddBiasRows y", len(y), rows*cols)
	checkLen("AddBiasRows bias", len(bias), cols)
	bias = bias[:cols]
	for i := 0; i < rows; i++ {
		row := y[i*cols : i*cols+cols]
		for j, b := range bias {
			row[j] += b
		}
	}
}

// AddBiasChannels adds bias[c] to every element of channel c of y.
// y [n, k, hw] (NCHW with hw = H*W), bias [k].
func AddBiasChannels(y, bias []float32, n, k, hw int) {
	checkLen("AddBiasChannels y", len(y), n*k*hw)
	checkLen("AddBiasChannels bias", len(bias), k)
	for i := 0; i < n; i++ {
		for c := 0; c < k; c++ {
			b := bias[c]
			row := y[(i*k+c)*hw : (i*k+c)*hw+hw]
			for j := range row {
				row[j] += b
			}
		}
	}
}

// SumRows overwrites dst with the column sums of x: dst[j] = sum_i x[i, j].
// x [rows, cols], dst [cols]. Used for bias gradients of dense layers.
func SumRows(dst, x []float32, rows, cols int) {
	checkLen("SumRows x", len(x), rows*cols)
	checkLen("SumRows dst", len(dst), cols)
	dst = dst[:cols]
	clear(dst)
	for i := 0; i < rows; i++ {
		row := x[i*cols : i*cols+cols]
		for j, v := range row {
			dst[j] += v
		}
	}
}

// SumChannels overwrites dst with per-channel sums of dy:
// dst[c] = sum over n and hw of dy[n, c, hw]. dy [n, k, hw], dst [k].
// Used for bias gradients of conv layers.
func SumChannels(dst, dy []float32, n, k, hw int) {
	checkLen("SumChannels dy", len(dy), n*k*hw)
	checkLen("SumChannels dst", len(dst), k)
	for c := 0; c < k; c++ {
		var s float32
		for i := 0; i < n; i++ {
			for _, v := range dy[(i*k+c)*hw : (i*k+c)*hw+hw] {
				s += v
			}
		}
		dst[c] = s
	}
}

// Argmax returns the index of the largest element of x (the first one on
// ties; NaNs are never chosen unless all elements are NaN, then 0).
// It returns -1 for an empty slice.
func Argmax(x []float32) int {
	if len(x) == 0 {
		return -1
	}
	best := 0
	for i, v := range x {
		if v > x[best] || (x[best] != x[best] && v == v) {
			best = i
		}
	}
	return best
}

// ReLU sets y = max(x, 0). In place allowed.
func ReLU(y, x []float32) {
	checkLen("ReLU y", len(y), len(x))
	y = y[:len(x)]
	for i, v := range x {
		if v > 0 {
			y[i] = v
		} else {
			y[i] = 0
		}
	}
}

// ReLUBackward sets dx = dy where the forward output y > 0, else 0.
// In place allowed (dx may be dy).
func ReLUBackward(dx, dy, y []float32) {
	checkLen("ReLUBackward dx", len(dx), len(dy))
	checkLen("ReLUBackward y", len(y), len(dy))
	dx = dx[:len(dy)]
	y = y[:len(dy)]
	for i, g := range dy {
		if y[i] > 0 {
			dx[i] = g
		} else {
			dx[i] = 0
		}
	}
}

// Sigmoid sets y = 1/(1+exp(-x)). In place allowed.
func Sigmoid(y, x []float32) {
	checkLen("Sigmoid y", len(y), len(x))
	y = y[:len(x)]
	for i, v := range x {
		if v >= 0 {
			y[i] = float32(1 / (1 + math.Exp(-float64(v))))
		} else {
			e := math.Exp(float64(v))
			y[i] = float32(e / (1 + e))
		}
	}
}

// SigmoidBackward sets dx = dy * y * (1-y) where y is the forward output.
// In place allowed.
func SigmoidBackward(dx, dy, y []float32) {
	checkLen("SigmoidBackward dx", len(dx), len(dy))
	checkLen("SigmoidBackward y", len(y), len(dy))
	dx = dx[:len(dy)]
	y = y[:len(dy)]
	for i, g := range dy {
		s := y[i]
		dx[i] = g * s * (1 - s)
	}
}

// Tanh sets y = tanh(x). In place allowed.
func Tanh(y, x []float32) {
	checkLen("Tanh y", len(y), len(x))
	y = y[:len(x)]
	for i, v := range x {
		y[i] = float32(math.Tanh(float64(v)))
	}
}

// TanhBackward sets dx = dy * (1 - y*y) where y is the forward output.
// In place allowed.
func TanhBackward(dx, dy, y []float32) {
	checkLen("TanhBackward dx", len(dx), len(dy))
	checkLen("TanhBackward y", len(y), len(dy))
	dx = dx[:len(dy)]
	y = y[:len(dy)]
	for i, g := range dy {
		t := y[i]
		dx[i] = g * (1 - t*t)
	}
}

// Axpy sets y += alpha*x.
func Axpy(y []float32, alpha float32, x []float32) {
	checkLen("Axpy y", len(y), len(x))
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// Scale sets y *= alpha.
func Scale(y []float32, alpha float32) {
	for i := range y {
		y[i] *= alpha
	}
}

// Copy copies x into y (len(y) >= len(x)).
func Copy(y, x []float32) {
	checkLen("Copy y", len(y), len(x))
	copy(y, x)
}

// Fill sets every element of y to v.
func Fill(y []float32, v float32) {
	for i := range y {
		y[i] = v
	}
}

// Dot returns sum x[i]*y[i] accumulated in float64.
func Dot(x, y []float32) float64 {
	checkLen("Dot y", len(y), len(x))
	var s float64
	for i, v := range x {
		s += float64(v) * float64(y[i])
	}
	return s
}

// MaxAbs returns max |x[i]| (0 for an empty slice).
func MaxAbs(x []float32) float32 {
	var m float32
	for _, v := range x {
		if v < 0 {
			v = -v
		}
		if v > m {
			m = v
		}
	}
	return m
}
