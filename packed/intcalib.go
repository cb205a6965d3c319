package packed

import "math"

// calibrate runs the float forward of a (float-mode layers without signal
// quantizers; grids maps a weighted layer's index to the quantizer that
// follows it) over the n samples of x [n, D] and returns, per weighted
// layer in order, its ReLU outputs over all samples (before any signal
// quantizer; empty for the last layer), and the range lo..hi of x.
func calibrate(a *arch, data []*denseData, grids map[int]actGrid, x []float32, n int) ([][]float32, float32, float32) {
	d := len(x) / n
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	var nw int
	idx := map[int]int{} // layer index -> weighted order
	for i, l := range a.Layers {
		if l.weighted() {
			idx[i] = nw
			nw++
		}
	}
	acts := make([][]float32, nw)
	for s := 0; s < n; s++ {
		h := make([]float64, d)
		for i, v := range x[s*d : (s+1)*d] {
			h[i] = float64(v)
		}
		shape := a.In
		for i, l := range a.Layers {
			h = floatStage(l, data[i], h, shape)
			shape, _ = l.check(shape)
			if l.Kind != "relu" || !a.Layers[i-1].weighted() || idx[i-1] == nw-1 {
				continue
			}
			w := idx[i-1]
			for _, v := range h {
				acts[w] = append(acts[w], float32(v))
			}
			if g, ok := grids[i-1]; ok && g.step > 0 {
				for j, v := range h {
					h[j] = float64(g.step) * min(math.Floor(v/float64(g.step)+0.5), float64(g.levels))
				}
			}
		}
	}
	return acts, lo, hi
}

// floatStage runs one float layer on a sample; shape is its input shape.
func floatStage(l archLayer, d *denseData, in []float64, shape []int) []float64 {
	switch l.Kind {
	case "dense":
		out := make([]float64, l.Out)
		for o := range out {
			st := float64(d.Step[0])
			if len(d.Step) > 1 {
				st = float64(d.Step[o])
			}
			var s float64
			for j, c := range d.Codes[o*l.In : (o+1)*l.In] {
				s += float64(c) * in[j]
			}
			out[o] = s*st + float64(d.Bias[o])
		}
		return out
	case "conv":
		h, w := shape[1], shape[2]
		oh, ow := (h+2*l.Pad-l.R)/l.Stride+1, (w+2*l.Pad-l.S)/l.Stride+1
		out := make([]float64, l.K*oh*ow)
		cols := l.cols()
		for k := 0; k < l.K; k++ {
			st := float64(d.Step[0])
			if len(d.Step) > 1 {
				st = float64(d.Step[k])
			}
			wk := d.Codes[k*cols : (k+1)*cols]
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					var s float64
					for c := 0; c < l.C; c++ {
						for r := 0; r < l.R; r++ {
							iy := oy*l.Stride - l.Pad + r
							if iy < 0 || iy >= h {
								continue
							}
							for t := 0; t < l.S; t++ {
								ix := ox*l.Stride - l.Pad + t
								if ix >= 0 && ix < w {
									s += float64(wk[(c*l.R+r)*l.S+t]) * in[(c*h+iy)*w+ix]
								}
							}
						}
					}
					out[(k*oh+oy)*ow+ox] = s*st + float64(d.Bias[k])
				}
			}
		}
		return out
	case "maxpool":
		c, h, w := shape[0], shape[1], shape[2]
		oh, ow := (h-l.K)/l.Stride+1, (w-l.K)/l.Stride+1
		out := make([]float64, c*oh*ow)
		for ch := 0; ch < c; ch++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					best := math.Inf(-1)
					for r := 0; r < l.K; r++ {
						for t := 0; t < l.K; t++ {
							best = max(best, in[(ch*h+oy*l.Stride+r)*w+ox*l.Stride+t])
						}
					}
					out[(ch*oh+oy)*ow+ox] = best
				}
			}
		}
		return out
	case "relu":
		for i, v := range in {
			in[i] = max(v, 0)
		}
	}
	return in
}
