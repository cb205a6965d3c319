package tensor

// Stride-1 im2col and col2im through the zero-padded image. Once the image
// is padded, col row (c, r, s) is OH segments of OW floats, segment i at
// offset c*Hp*Wp + r*Wp + s + i*Wp: no edge columns to clear or skip per
// tap, and the segments move 16 floats per masked load and store
// (convRowsSeg) instead of one memmove call per tap and a short loop per
// edge.

// usePadded reports whether the im2col and col2im of the gradient passes
// go through the padded image (stride 1, not pointwise, the masked-move
// kernels on this CPU, offsets that fit int32).
func (g ConvGeom) usePadded() bool {
	return g.Stride == 1 && !g.isPointwise() && hasConvPack(16) && g.paddedFitsInt32()
}

// convRowOffsets returns i*Wp for the output rows i < OH: the offset of
// output row i's first input pixel from output row 0's (dst reused).
func convRowOffsets(dst []int32, g ConvGeom) []int32 {
	wp := g.W + 2*g.Pad
	dst = dst[:0]
	for i := 0; i < g.OutH(); i++ {
		dst = append(dst, int32(i*wp))
	}
	return dst
}

// im2colPadded is Im2col with stride 1 from the padded image xp
// (padImage), with offs from convTapOffsets and rows from
// convRowOffsets: the same bits.
func im2colPadded(col, xp []float32, offs, rows []int32, g ConvGeom) {
	im2colPadRows(false, col, g.OutH()*g.OutW(), xp, offs, rows, g)
}

// col2imPadded is Col2im with stride 1 (dx overwritten) from col rows ld
// floats apart (ld >= OH*OW), accumulating in the padded image buf
// (reused when large enough; returned) and copying its interior to dx.
// Each pixel receives its additions in the order col2imRef makes them,
// from +0: the same bits.
func col2imPadded(dx, col []float32, ld int, buf []float32, offs, rows []int32, g ConvGeom) []float32 {
	chw := g.C * g.H * g.W
	if g.Pad == 0 {
		clear(dx[:chw])
		im2colPadRows(true, col, ld, dx[:chw], offs, rows, g)
		return buf
	}
	hp, wp := g.H+2*g.Pad, g.W+2*g.Pad
	buf = zeroPadded(buf, g)
	xp := buf
	im2colPadRows(true, col, ld, xp, offs, rows, g)
	for c := 0; c < g.C; c++ {
		for i := 0; i < g.H; i++ {
			copy(dx[(c*g.H+i)*g.W:][:g.W], xp[(c*hp+i+g.Pad)*wp+g.Pad:][:g.W])
		}
	}
	return buf
}

// im2colPadRows copies every col row (ld floats apart) from xp (add
// false) or adds it into xp (add true), tap by tap in weight order, 16
// columns at a time.
func im2colPadRows(add bool, col []float32, ld int, xp []float32, offs, rows []int32, g ConvGeom) {
	oh, ow := g.OutH(), g.OutW()
	ohw := oh * ow
	last := int(rows[oh-1])
	_ = col[(len(offs)-1)*ld+ohw-1]
	for p, o := range offs {
		for j0 := 0; j0 < ow; j0 += 16 {
			n := min(16, ow-j0)
			x := xp[int(o)+j0 : int(o)+j0+last+n]
			c := col[p*ld+j0 : p*ld+(oh-1)*ow+j0+n]
			convRowsSeg(add, c, ow, x, rows, n)
		}
	}
}
