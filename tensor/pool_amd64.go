//go:build amd64 && !purego

package tensor

import "math"

// poolBack2x2AVX512 writes the gradient of one output row of a 2×2 max
// pool to its two input rows: for output j < n and b in {0, 1},
// dx0[2j+b] = dy[j]+0 when arg[j] == idx0+2j+b, else +0, and dx1[2j+b]
// likewise against idx0+w+2j+b. It returns false, with a prefix written,
// when some arg[j] is none of its window's four indices.
//
//go:noescape
func poolBack2x2AVX512(dx0, dx1, dy *float32, arg *int32, n int, idx0, w int32) bool

// maxPool2x2BackwardArch is maxPool2x2BackwardPlanes with AVX-512: each
// input row pair is written once, from its output row (no clear, no
// scatter), and the rows and columns no window covers are zeroed. Every
// element gets the bits of the scatter into a cleared plane: dy+0 at the
// argmax (+0 turns a -0 gradient into +0, as adding it to the cleared +0
// does), +0 elsewhere. It reports false, leaving dx to the caller, when
// AVX-512 is missing, the indices might not fit int32, or an argmax lies
// outside its window (which the scatter allows).
func maxPool2x2BackwardArch(dx, dy []float32, arg []int32, lo, hi, h, w int) bool {
	oh, ow := h/2, w/2
	if !hasPackAVX512 || ow == 0 || oh == 0 || hi*h*w > math.MaxInt32 {
		return false
	}
	hw, ohw := h*w, oh*ow
	_ = dx[hi*hw-1]
	_ = dy[hi*ohw-1]
	_ = arg[hi*ohw-1]
	for p := lo; p < hi; p++ {
		d := dx[p*hw : (p+1)*hw]
		for i := 0; i < oh; i++ {
			r0 := 2 * i * w
			o := p*ohw + i*ow
			if !poolBack2x2AVX512(&d[r0], &d[r0+w], &dy[o], &arg[o], ow, int32(p*hw+r0), int32(w)) {
				return false
			}
			if w%2 == 1 {
				d[r0+w-1], d[r0+2*w-1] = 0, 0
			}
		}
		if h%2 == 1 {
			clear(d[(h-1)*w:])
		}
	}
	return true
}
