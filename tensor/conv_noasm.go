//go:build !amd64 || purego

package tensor

// hasConvPack reports whether packConvA has an assembly sliver packer for
// kernels of mr rows: never without assembly, where the convolutions keep
// to the im2col path.
func hasConvPack(mr int) bool { return false }

// hasConvPix reports whether packConvA has an assembly sliver packer: never
// without assembly.
func hasConvPix(mr, ow int) bool { return false }

// convPixSliver2 is never called without assembly (hasConvPix is false).
func convPixSliver2(dst []float32, offs []int32, xp []float32, b1, b2 int, mask *[16]int32, mr int) {
	panic("tensor: convPixSliver2 without assembly")
}

// convPackSeg sets dst[p*mr+i] = src[offs[p]+i-lo] for lo <= i < hi,
// p < len(offs).
func convPackSeg(dst []float32, offs []int32, src []float32, lo, hi, mr int) {
	for p, o := range offs {
		d := dst[p*mr+lo : p*mr+hi]
		copy(d, src[int(o):int(o)+len(d)])
	}
}

// convRowsSeg sets col[i*ldc+j] = xp[offs[i]+j] (add false) or
// xp[offs[i]+j] += col[i*ldc+j] (add true) for j < n, i < len(offs).
func convRowsSeg(add bool, col []float32, ldc int, xp []float32, offs []int32, n int) {
	for i, o := range offs {
		c, x := col[i*ldc:i*ldc+n], xp[int(o):int(o)+n]
		if add {
			for j, v := range c {
				x[j] += v
			}
			continue
		}
		copy(c, x)
	}
}

// convPackT8 sets dst[j*ldd+i] = xb[base+offs[i]+j] for i < 8, j < n.
func convPackT8(dst []float32, ldd int, xb []float32, base int, offs []int32, n int) {
	for i, o := range offs[:8] {
		src := xb[base+int(o):][:n]
		for j, v := range src {
			dst[j*ldd+i] = v
		}
	}
}

// transposeBias is nil without assembly (no kernel has a transpose).
var transposeBias func(blocks int, src *float32, lds int, dst *float32, ldd int, bias *float32)

// convDirectKernel is false without assembly: A is always packed.
func convDirectKernel(kern *microKernel) bool { return false }

// convDirectTile is never called without assembly (convDirectKernel is
// false).
func convDirectTile(offs []int32, x, b, c []float32, ldc int, load bool) {
	panic("tensor: convDirectTile without assembly")
}

// convDirectFilterKernel is false without assembly: col is always packed.
func convDirectFilterKernel(kern *microKernel) bool { return false }

// convFilterTile is never called without assembly
// (convDirectFilterKernel is false).
func convFilterTile(kern *microKernel, n, q0, ow, wp int, x []float32, offs []int32, b, c []float32, ldc int, load bool) {
	panic("tensor: convFilterTile without assembly")
}

// convDirectSwitch is false without assembly (no kernel has a direct form).
func convDirectSwitch() bool { return false }

// convPixDirect is 0 without assembly: A is always packed.
func convPixDirect(kern *microKernel) int { return 0 }

// convPixTile is never called without assembly (convPixDirect is 0).
func convPixTile(form, nr int, offs []int32, x []float32, bases *[6]int, b, c []float32, ldc int, load bool) {
	panic("tensor: convPixTile without assembly")
}
