package tensor

import (
	"fmt"
	"math"
)

// Parallel 2×2 max pooling. The training batch of a CNN's first pool is
// large (100×32×28×28 floats, 10 MB, beyond L2), and both passes are a
// stream over it: split by planes across Threads() goroutines, and in the
// backward pass each plane range is cleared right before its gradients are
// scattered into it, while it is in cache, instead of clearing the whole
// input gradient first.

// poolParallelMin is the input size (floats) from which the pooling calls
// are split across goroutines.
const poolParallelMin = 1 << 17

// poolJob is one MaxPool2x2Par or MaxPool2x2BackwardPar call.
type poolJob struct {
	back    bool
	y, x    []float32 // forward: y, x; backward: dy, dx
	arg     []int32
	h, w    int
	planes  int
	parts   int
	join    join
	perPart int // planes per part
}

var poolFree = make(freeList[poolJob], 4)

func (j *poolJob) runPart(t int) {
	lo := min(j.planes, t*j.perPart)
	hi := min(j.planes, lo+j.perPart)
	if j.back {
		maxPool2x2BackwardPlanes(j.x, j.y, j.arg, lo, hi, j.h, j.w)
		return
	}
	maxPool2x2Planes(j.y, j.arg, j.x, lo, hi, j.h, j.w)
}

func runPool(back bool, y []float32, arg []int32, x []float32, planes, h, w int) {
	nt := Threads()
	if nt < 2 || planes*h*w < poolParallelMin || planes < 2 {
		if back {
			maxPool2x2BackwardPlanes(x, y, arg, 0, planes, h, w)
		} else {
			maxPool2x2Planes(y, arg, x, 0, planes, h, w)
		}
		return
	}
	j := poolFree.get()
	j.back, j.y, j.x, j.arg, j.h, j.w, j.planes = back, y, x, arg, h, w, planes
	j.parts = min(nt, planes)
	j.perPart = (planes + j.parts - 1) / j.parts
	parallel(j, j.parts, &j.join)
	j.y, j.x, j.arg = nil, nil, nil
	poolFree.put(j)
}

// MaxPool2x2Par is MaxPool2x2 (same contract, same results) split by
// planes across up to Threads() goroutines for large inputs.
func MaxPool2x2Par(y []float32, arg []int32, x []float32, planes, h, w int) {
	oh, ow := h/2, w/2
	checkLen("MaxPool2x2Par x", len(x), planes*h*w)
	checkLen("MaxPool2x2Par y", len(y), planes*oh*ow)
	checkLen("MaxPool2x2Par arg", len(arg), planes*oh*ow)
	if planes*h*w > math.MaxInt32 {
		panic(fmt.Sprintf("tensor: MaxPool2x2Par: %d×%d×%d input has more than 2³¹-1 elements", planes, h, w))
	}
	runPool(false, y, arg, x, planes, h, w)
}

// MaxPool2x2BackwardPar overwrites dx [planes, h, w] with the gradient of
// a 2×2 max pool: dy[o] added at x index arg[o] (from MaxPool2x2 or
// MaxPool2x2Par), zero elsewhere; split by planes across up to Threads()
// goroutines for large inputs. Each arg[o] must lie in its own window's
// plane, as MaxPool2x2 writes it.
func MaxPool2x2BackwardPar(dx, dy []float32, arg []int32, planes, h, w int) {
	oh, ow := h/2, w/2
	checkLen("MaxPool2x2BackwardPar dx", len(dx), planes*h*w)
	checkLen("MaxPool2x2BackwardPar dy", len(dy), planes*oh*ow)
	checkLen("MaxPool2x2BackwardPar arg", len(arg), planes*oh*ow)
	runPool(true, dy, arg, dx, planes, h, w)
}

// maxPool2x2Planes is MaxPool2x2 on planes [lo, hi) (flat indices into
// the whole x).
func maxPool2x2Planes(y []float32, arg []int32, x []float32, lo, hi, h, w int) {
	oh, ow := h/2, w/2
	for plane := lo; plane < hi; plane++ {
		base := plane * h * w
		o := plane * oh * ow
		for i := 0; i < oh; i++ {
			r0 := base + 2*i*w
			r1 := r0 + w
			row0, row1 := x[r0:r0+2*ow], x[r1:r1+2*ow]
			yo, ao := y[o:o+ow], arg[o:o+ow]
			if !maxPool2x2RowArch(yo, ao, row0, row1, r0, w) {
				maxPool2x2Row(yo, ao, row0, row1, r0, w)
			}
			o += ow
		}
	}
}

// maxPool2x2BackwardPlanes clears planes [lo, hi) of dx and adds their
// outputs' gradients at the argmax indices (in assembly, when it can,
// with the same bits: maxPool2x2BackwardArch).
func maxPool2x2BackwardPlanes(dx, dy []float32, arg []int32, lo, hi, h, w int) {
	if !maxPool2x2BackwardArch(dx, dy, arg, lo, hi, h, w) {
		maxPool2x2BackwardScatter(dx, dy, arg, lo, hi, h, w)
	}
}

// maxPool2x2BackwardScatter is maxPool2x2BackwardPlanes in Go: it clears
// the planes, then adds every gradient at its argmax.
func maxPool2x2BackwardScatter(dx, dy []float32, arg []int32, lo, hi, h, w int) {
	ohw := (h / 2) * (w / 2)
	d := dx[lo*h*w : hi*h*w]
	clear(d)
	g, a := dy[lo*ohw:hi*ohw], arg[lo*ohw:hi*ohw]
	base := lo * h * w
	for o, v := range g {
		d[int(a[o])-base] += v
	}
}
