package tensor

import (
	"fmt"
	"math"
)

// The kernels in this file are memory-bound loops. Every function writes its
// first argument (the destination) and reads the others; destination and
// source may be the same slice where noted ("in place allowed").
//
// The hot ones (ReLU, ReLUBackward, Mul, SGDMomentum, Dropout,
// MaxPool2x2, the row adds of AddBiasRows, SumRows and Col2im) have AVX2
// versions (elementwise_amd64.s, selected with golang.org/x/sys/cpu; the
// purego tag or another GOARCH keeps the Go loops) that perform the same
// IEEE operations in the same order as the Go loops (no FMA), so results
// are bit-identical with and without assembly; the tests check that on
// odd lengths. ReLU, ReLUBackward, Mul and SGDMomentum also split long
// slices across Threads() goroutines; every element is computed
// independently, so the thread count never changes a result.

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
		addRow(y[i*cols:i*cols+cols], bias)
	}
}

// addRow sets y += x elementwise, len(y) == len(x).
func addRow(y, x []float32) {
	i := addArch(y, x)
	x = x[i:]
	y = y[i : len(x)+i]
	for j, v := range x {
		y[j] += v
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
		addRow(dst, x[i*cols:i*cols+cols])
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

// ReLU sets y = max(x, 0) (NaN gives 0). In place allowed.
func ReLU(y, x []float32) {
	checkLen("ReLU y", len(y), len(x))
	ew(ewReLU, y[:len(x)], x, nil)
}

// ReLUBackward sets dx = dy where the forward output y > 0, else 0.
// In place allowed (dx may be dy).
func ReLUBackward(dx, dy, y []float32) {
	checkLen("ReLUBackward dx", len(dx), len(dy))
	checkLen("ReLUBackward y", len(y), len(dy))
	ew(ewReLUBackward, dx[:len(dy)], dy, y[:len(dy)])
}

// Mul sets z = x*y elementwise (len(x) elements). In place allowed.
func Mul(z, x, y []float32) {
	checkLen("Mul z", len(z), len(x))
	checkLen("Mul y", len(y), len(x))
	ew(ewMul, z[:len(x)], x, y[:len(x)])
}

// SGDMomentum applies one heavy-ball SGD step in place, elementwise:
//
//	v = mu*v + g + wd*w
//	w = w - lr*v
//
// with every product and sum rounded to float32 in that order (the PyTorch
// formulation with L2 decay folded into the gradient). w, v and g must
// have the same length.
func SGDMomentum(w, v, g []float32, lr, mu, wd float32) {
	if len(v) != len(w) || len(g) != len(w) {
		panic(fmt.Sprintf("tensor: SGDMomentum: lengths w %d, v %d, g %d differ", len(w), len(v), len(g)))
	}
	j := ewFree.get()
	j.op, j.a, j.b, j.c = ewSGD, w, v, g
	j.f0, j.f1, j.f2 = lr, mu, wd
	j.do()
	putEwJob(j)
}

// Reference loops: the oracles of the fast paths and their tails.

func reluRef(y, x []float32) {
	y = y[:len(x)]
	for i, v := range x {
		if v > 0 {
			y[i] = v
		} else {
			y[i] = 0
		}
	}
}

func reluBackwardRef(dx, dy, y []float32) {
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

func mulRef(z, x, y []float32) {
	z = z[:len(x)]
	y = y[:len(x)]
	for i, v := range x {
		z[i] = v * y[i]
	}
}

func sgdMomentumRef(w, v, g []float32, lr, mu, wd float32) {
	v = v[:len(w)]
	g = g[:len(w)]
	for j := range w {
		// Explicit conversions forbid fusing into FMA (Go spec), keeping
		// the rounding of every operation.
		v[j] = float32(float32(mu*v[j])+g[j]) + float32(wd*w[j])
		w[j] -= float32(lr * v[j])
	}
}

type ewOp int

const (
	ewReLU ewOp = iota
	ewReLUBackward
	ewMul
	ewSGD
)

// ewParallelMin is the slice length from which an element-wise call is
// split across goroutines: below it the hand-off costs more than it saves.
const ewParallelMin = 1 << 17

// ewJob is one element-wise call, split into contiguous chunks (multiples
// of 16 elements, so workers never share a cache line).
type ewJob struct {
	op         ewOp
	a, b, c    []float32 // op-specific, see apply
	f0, f1, f2 float32
	parts      int
	join       join
}

// ewFree recycles jobs so steady-state calls allocate nothing (a
// sync.Pool would drop them at every GC).
var ewFree = make(freeList[ewJob], 8)

func putEwJob(j *ewJob) {
	j.a, j.b, j.c = nil, nil, nil
	ewFree.put(j)
}

// ew runs op over a (destination), b, c (c may be nil).
func ew(op ewOp, a, b, c []float32) {
	if len(b) < ewParallelMin || Threads() < 2 {
		(&ewJob{op: op, a: a, b: b, c: c}).apply(0, len(b))
		return
	}
	j := ewFree.get()
	j.op, j.a, j.b, j.c = op, a, b, c
	j.do()
	putEwJob(j)
}

// do runs the job over all elements, in parallel when long enough.
func (j *ewJob) do() {
	n := len(j.a)
	if j.op != ewSGD {
		n = len(j.b)
	}
	j.parts = max(1, min(Threads(), n/(ewParallelMin/2)))
	parallel(j, j.parts, &j.join)
}

func (j *ewJob) runPart(t int) {
	n := len(j.a)
	if j.op != ewSGD {
		n = len(j.b)
	}
	lo := (n * t / j.parts) &^ 15
	hi := (n * (t + 1) / j.parts) &^ 15
	if t == j.parts-1 {
		hi = n
	}
	j.apply(lo, hi)
}

// apply computes elements [lo, hi):
//
//	ewReLU:         a = relu(b)
//	ewReLUBackward: a = b masked by c > 0
//	ewMul:          a = b*c
//	ewSGD:          w = a, v = b, g = c; lr, mu, wd = f0, f1, f2
func (j *ewJob) apply(lo, hi int) {
	a, b := j.a[lo:hi], j.b[lo:hi]
	var c []float32
	if j.c != nil {
		c = j.c[lo:hi]
	}
	switch j.op {
	case ewReLU:
		i := reluArch(a, b)
		reluRef(a[i:], b[i:])
	case ewReLUBackward:
		i := reluBackwardArch(a, b, c)
		reluBackwardRef(a[i:], b[i:], c[i:])
	case ewMul:
		i := mulArch(a, b, c)
		mulRef(a[i:], b[i:], c[i:])
	case ewSGD:
		i := sgdMomentumArch(a, b, c, j.f0, j.f1, j.f2)
		sgdMomentumRef(a[i:], b[i:], c[i:], j.f0, j.f1, j.f2)
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

// MaxPool2x2 is 2×2 max pooling with stride 2 over planes of h×w pixels:
// x [planes, h, w], y [planes, h/2, w/2] (a trailing odd row or column is
// dropped). arg [planes, h/2, w/2] receives the flat index into x of each
// window's maximum: the first one in row-major window order on ties, and
// a NaN is never chosen over an earlier element (strict > compares). x
// must have fewer than 2³¹ elements.
func MaxPool2x2(y []float32, arg []int32, x []float32, planes, h, w int) {
	oh, ow := h/2, w/2
	checkLen("MaxPool2x2 x", len(x), planes*h*w)
	checkLen("MaxPool2x2 y", len(y), planes*oh*ow)
	checkLen("MaxPool2x2 arg", len(arg), planes*oh*ow)
	if planes*h*w > math.MaxInt32 {
		panic(fmt.Sprintf("tensor: MaxPool2x2: %d×%d×%d input has more than 2³¹-1 elements", planes, h, w))
	}
	maxPool2x2Planes(y, arg, x, 0, planes, h, w)
}

// maxPool2x2Row is the Go loop for one output row of MaxPool2x2.
func maxPool2x2Row(y []float32, arg []int32, row0, row1 []float32, r0, w int) {
	r1 := r0 + w
	arg = arg[:len(y)]
	row0, row1 = row0[:2*len(y)], row1[:2*len(y)]
	for j := range y {
		best, bv := r0+2*j, row0[2*j]
		if v := row0[2*j+1]; v > bv {
			best, bv = r0+2*j+1, v
		}
		if v := row1[2*j]; v > bv {
			best, bv = r1+2*j, v
		}
		if v := row1[2*j+1]; v > bv {
			best, bv = r1+2*j+1, v
		}
		y[j] = bv
		arg[j] = int32(best)
	}
}

// maxPool2x2Ref is the plain window loop, the oracle of MaxPool2x2.
func maxPool2x2Ref(y []float32, arg []int32, x []float32, planes, h, w int) {
	oh, ow := h/2, w/2
	o := 0
	for plane := 0; plane < planes; plane++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				best := plane*h*w + 2*i*w + 2*j
				for _, k := range [3]int{best + 1, best + w, best + w + 1} {
					if x[k] > x[best] {
						best = k
					}
				}
				y[o], arg[o] = x[best], int32(best)
				o++
			}
		}
	}
}

// Dropout applies an inverted-dropout mask drawn from random bits: element
// i uses the 16-bit word u = bits[i/4] >> (16*(i%4)) & 0xffff and gets
// m[i] = scale when u >= thresh, else 0, and y[i] = x[i]*m[i]. So one
// 64-bit draw serves four elements and the drop probability is
// thresh/65536. x, y, m [n], bits [ceil(n/4)]. In place allowed (y may
// be x).
func Dropout(y, m, x []float32, bits []uint64, thresh uint32, scale float32) {
	n := len(x)
	checkLen("Dropout y", len(y), n)
	checkLen("Dropout m", len(m), n)
	checkLen("Dropout bits", len(bits), (n+3)/4)
	y, m = y[:n], m[:n]
	i := dropoutArch(y, m, x, bits, thresh, scale)
	dropoutRef(y[i:], m[i:], x[i:], bits[i/4:], thresh, scale)
}

// dropoutRef is the Go loop of Dropout; it starts at a multiple of 4.
func dropoutRef(y, m, x []float32, bits []uint64, thresh uint32, scale float32) {
	th := int32(thresh)
	sc := math.Float32bits(scale)
	y, m = y[:len(x)], m[:len(x)]
	for i, v := range x {
		u := int32(bits[i>>2] >> (16 * (i & 3)) & 0xffff)
		// Branch-free: th-1-u is negative exactly when u >= th, and the
		// arithmetic shift turns its sign into an all-ones mask over scale.
		k := math.Float32frombits(sc & uint32((th-1-u)>>31))
		m[i] = k
		y[i] = v * k
	}
}
