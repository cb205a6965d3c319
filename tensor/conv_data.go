package tensor

// The data gradient as a forward convolution.
//
// With stride 1 the data gradient of a convolution is the full correlation
// of dy with the flipped filters: dx[c, i, j] = sum over (k, r, s) of
// dy[k, i+Pad-r, j+Pad-s] * w[k, c, r, s] (zero outside dy), which is a
// forward convolution of dy [K, OH, OW] with padding R-1-Pad and weights
// wf [C, K, R, S], wf[c, k, r, s] = w[k, c, R-1-r, S-1-s], to the output
// [C, H, W]. Run through the pixel-major forward path (conv_pix.go) it is
// one GEMM per image, dx[n]^T [H*W, C] = col(dy[n])^T [H*W, K*R*S] *
// wf^T [K*R*S, C], with A packed from the padded dy and no col2im: for the
// MNIST CNN's second layer (C = 32, K = 64, 14×14) the GEMM is
// 196×32×1600, which the 14×32 kernel runs without padding, against
// 800×392×64 with col2im for the im2col orientation (K = 64 per C tile
// is short, and col2im adds every tap into the padded image).

// dataAsForward returns the forward geometry whose output is the data
// gradient of g (see above), and whether ConvBackwardData runs it: stride
// 1, square filters (one Pad for both axes), padding at least "same" (else
// the full correlation multiplies more zeros than the im2col form) and at
// most R-1, the pixel-major path available for its kernel, and its GEMM
// padded to that kernel's blocks no more work than the im2col form's
// (few input channels C pad badly as the GEMM's columns: the MNIST CNN's
// first layer, C = 1, stays with im2col).
func (g ConvGeom) dataAsForward() (ConvGeom, bool) {
	if convDataIm2col || g.Stride != 1 || g.R != g.S || g.Pad > g.R-1 || 2*g.Pad < g.R-1 {
		return ConvGeom{}, false
	}
	t := ConvGeom{N: g.N, C: g.K, H: g.OutH(), W: g.OutW(), K: g.C, R: g.R, S: g.S, Stride: 1, Pad: g.R - 1 - g.Pad}
	hw, ohw, crs := g.H*g.W, g.OutH()*g.OutW(), g.C*g.R*g.S
	kern := convKernel(hw, g.C)
	if t.Check() != nil || !t.usePixelMajor(kern) {
		return ConvGeom{}, false
	}
	// The im2col form multiplies image pairs (runBackwardDataPadded).
	alt := convKernel(crs, convDataGroup*ohw)
	fwd := float64(roundUp(hw, kern.mr)) * float64(roundUp(g.C, kern.nr)) * float64(g.K*g.R*g.S)
	im2col := float64(roundUp(crs, alt.mr)) * float64(roundUp(convDataGroup*ohw, alt.nr)) * float64(g.K) / convDataGroup
	return t, fwd <= im2col
}

// roundUp returns n rounded up to a multiple of b.
func roundUp(n, b int) int { return (n + b - 1) / b * b }

// convDataIm2col, set by tests and benchmarks, keeps ConvBackwardData in
// the im2col form.
var convDataIm2col bool

// flipFilters returns wf [C, K*R*S] (dst reused when large enough),
// wf[c, (k*R+r)*S+s] = w[k, (c*R+R-1-r)*S+S-1-s], for w [K, C*R*S].
func flipFilters(dst, w []float32, g ConvGeom) []float32 {
	rs := g.R * g.S
	crs, krs := g.C*rs, g.K*rs
	n := g.C * krs
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst, w = dst[:n], w[:g.K*crs]
	for c := 0; c < g.C; c++ {
		for k := 0; k < g.K; k++ {
			d := dst[c*krs+k*rs:][:rs]
			src := w[k*crs+c*rs:][:rs]
			// Reversing the R×S block flips both axes.
			for i, v := range src {
				d[rs-1-i] = v
			}
		}
	}
	return dst
}
