package tensor

// The reference convolution loops: the oracles of the fast paths.

// im2colRef is the straightforward Im2col, the oracle of the fast paths:
// it unrolls one image x [C,H,W] into col [C*R*S, OH*OW] (overwritten):
// col[(c*R+r)*S+s, oh*OW+ow] = x[c, oh*Stride-Pad+r, ow*Stride-Pad+s], zero
// outside the image. g.N is ignored.
func im2colRef(col, x []float32, g ConvGeom) {
	oh, ow := g.OutH(), g.OutW()
	checkLen("im2colRef x", len(x), g.C*g.H*g.W)
	checkLen("im2colRef col", len(col), g.C*g.R*g.S*oh*ow)
	for c := 0; c < g.C; c++ {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for r := 0; r < g.R; r++ {
			for s := 0; s < g.S; s++ {
				row := col[((c*g.R+r)*g.S+s)*oh*ow:][:oh*ow]
				for i := 0; i < oh; i++ {
					dst := row[i*ow : i*ow+ow]
					ih := i*g.Stride - g.Pad + r
					if ih < 0 || ih >= g.H {
						clear(dst)
						continue
					}
					src := xc[ih*g.W : ih*g.W+g.W]
					if g.Stride == 1 {
						// ow index j reads iw = j - Pad + s.
						lo := min(ow, max(0, g.Pad-s))
						hi := max(lo, min(ow, g.W+g.Pad-s))
						clear(dst[:lo])
						// Rows are short (OW floats): an inline loop beats a
						// memmove call per row.
						if hi > lo {
							d := dst[lo:hi]
							sv := src[lo-g.Pad+s:]
							sv = sv[:len(d)]
							for j := range d {
								d[j] = sv[j]
							}
						}
						clear(dst[hi:])
						continue
					}
					for j := range dst {
						iw := j*g.Stride - g.Pad + s
						if iw >= 0 && iw < g.W {
							dst[j] = src[iw]
						} else {
							dst[j] = 0
						}
					}
				}
			}
		}
	}
}

// col2imRef is the straightforward Col2im, the oracle of the fast path:
// the adjoint of Im2col, it overwrites dx [C,H,W] with the sum of
// every col [C*R*S, OH*OW] entry at the pixel it was read from (entries that
// came from padding are dropped). g.N is ignored.
func col2imRef(dx, col []float32, g ConvGeom) {
	oh, ow := g.OutH(), g.OutW()
	checkLen("col2imRef dx", len(dx), g.C*g.H*g.W)
	checkLen("col2imRef col", len(col), g.C*g.R*g.S*oh*ow)
	clear(dx[:g.C*g.H*g.W])
	for c := 0; c < g.C; c++ {
		xc := dx[c*g.H*g.W : (c+1)*g.H*g.W]
		for r := 0; r < g.R; r++ {
			for s := 0; s < g.S; s++ {
				row := col[((c*g.R+r)*g.S+s)*oh*ow:][:oh*ow]
				for i := 0; i < oh; i++ {
					ih := i*g.Stride - g.Pad + r
					if ih < 0 || ih >= g.H {
						continue
					}
					src := row[i*ow : i*ow+ow]
					dst := xc[ih*g.W : ih*g.W+g.W]
					if g.Stride == 1 {
						// ow index j adds into iw = j - Pad + s.
						lo := min(ow, max(0, g.Pad-s))
						hi := max(lo, min(ow, g.W+g.Pad-s))
						if hi > lo {
							sv := src[lo:hi]
							d := dst[lo-g.Pad+s:]
							d = d[:len(sv)]
							for j, v := range sv {
								d[j] += v
							}
						}
						continue
					}
					for j, v := range src {
						iw := j*g.Stride - g.Pad + s
						if iw >= 0 && iw < g.W {
							dst[iw] += v
						}
					}
				}
			}
		}
	}
}

// ConvForwardRef is the direct 7-loop convolution, the oracle for
// ConvForward. Same contract.
func ConvForwardRef(y, x, w []float32, g ConvGeom) {
	g.mustCheck("ConvForwardRef", len(x), len(w), len(y))
	oh, ow := g.OutH(), g.OutW()
	for n := 0; n < g.N; n++ {
		for k := 0; k < g.K; k++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var s float32
					for c := 0; c < g.C; c++ {
						for r := 0; r < g.R; r++ {
							ih := i*g.Stride - g.Pad + r
							if ih < 0 || ih >= g.H {
								continue
							}
							for q := 0; q < g.S; q++ {
								iw := j*g.Stride - g.Pad + q
								if iw < 0 || iw >= g.W {
									continue
								}
								s += x[((n*g.C+c)*g.H+ih)*g.W+iw] * w[((k*g.C+c)*g.R+r)*g.S+q]
							}
						}
					}
					y[((n*g.K+k)*oh+i)*ow+j] = s
				}
			}
		}
	}
}

// ConvBackwardDataRef is the direct-loop oracle for ConvBackwardData.
func ConvBackwardDataRef(dx, dy, w []float32, g ConvGeom) {
	g.mustCheck("ConvBackwardDataRef", len(dx), len(w), len(dy))
	oh, ow := g.OutH(), g.OutW()
	clear(dx[:g.N*g.C*g.H*g.W])
	for n := 0; n < g.N; n++ {
		for k := 0; k < g.K; k++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					d := dy[((n*g.K+k)*oh+i)*ow+j]
					for c := 0; c < g.C; c++ {
						for r := 0; r < g.R; r++ {
							ih := i*g.Stride - g.Pad + r
							if ih < 0 || ih >= g.H {
								continue
							}
							for q := 0; q < g.S; q++ {
								iw := j*g.Stride - g.Pad + q
								if iw < 0 || iw >= g.W {
									continue
								}
								dx[((n*g.C+c)*g.H+ih)*g.W+iw] += d * w[((k*g.C+c)*g.R+r)*g.S+q]
							}
						}
					}
				}
			}
		}
	}
}

// ConvBackwardFilterRef is the direct-loop oracle for ConvBackwardFilter.
func ConvBackwardFilterRef(dw, dy, x []float32, g ConvGeom) {
	g.mustCheck("ConvBackwardFilterRef", len(x), len(dw), len(dy))
	oh, ow := g.OutH(), g.OutW()
	clear(dw[:g.K*g.C*g.R*g.S])
	for n := 0; n < g.N; n++ {
		for k := 0; k < g.K; k++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					d := dy[((n*g.K+k)*oh+i)*ow+j]
					for c := 0; c < g.C; c++ {
						for r := 0; r < g.R; r++ {
							ih := i*g.Stride - g.Pad + r
							if ih < 0 || ih >= g.H {
								continue
							}
							for q := 0; q < g.S; q++ {
								iw := j*g.Stride - g.Pad + q
								if iw < 0 || iw >= g.W {
									continue
								}
								dw[((k*g.C+c)*g.R+r)*g.S+q] += d * x[((n*g.C+c)*g.H+ih)*g.W+iw]
							}
						}
					}
				}
			}
		}
	}
}
