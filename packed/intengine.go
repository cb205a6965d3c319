package packed

import (
	"fmt"
	"math"

	"github.com/resq-dev/resq/packed/internal/kernels"
)

// intChunk is the number of samples InferInt runs through the network at
// a time.
const intChunk = 64

// intScratch is one InferInt call's working memory.
type intScratch struct {
	a0, a1 []uint8 // [intChunk, MaxAct] activation codes between stages
	xq     []uint8 // GEMM input: [Pad4(chunk), Kp] (dense) or im2col [Pad4(OH*OW), Kp]
	acc    []int32 // GEMM output [.., Pad16(rows)]
	// hook, when set, sees (and may change) every stage's output codes
	// but the last one's, per sample: r0 is the first sample of the chunk.
	hook func(stage, sample int, codes []uint8)
	r0   int
}

func (n *intNet) newScratch() *intScratch {
	xq, acc := 0, 0
	for _, l := range n.Layers {
		kp, np := kernels.Pad4(l.Cols), kernels.Pad16(l.Rows)
		switch l.Kind {
		case "dense":
			xq, acc = max(xq, intChunk*kp), max(acc, intChunk*np)
		case "conv":
			mp := kernels.Pad4(l.OH * l.OW)
			xq, acc = max(xq, mp*kp), max(acc, mp*np)
		}
	}
	return &intScratch{a0: make([]uint8, intChunk*n.MaxAct), a1: make([]uint8, intChunk*n.MaxAct),
		xq: make([]uint8, xq), acc: make([]int32, acc)}
}

// InferInt runs an integer-mode model on input codes x [batch, D] (codes
// above the input grid's InMax read as InMax) and writes the int32 logits
// [batch, Classes] into logits and, when pred is not nil, the predicted
// class of each sample into pred [batch]: the first index of the largest
// logit (ties go to the lowest index, as in the generated C). Nothing but
// integer arithmetic runs; the result does not depend on the kernel the
// CPU selects. It panics if m is not an integer-mode model or the slices
// do not match batch.
func (m *Model) InferInt(logits, pred []int32, x []uint8, batch int) {
	if m.intNet == nil {
		panic("packed: InferInt on a float-mode model")
	}
	if batch < 0 || len(x) != batch*m.dim || len(logits) < batch*m.Classes || (pred != nil && len(pred) < batch) {
		panic(fmt.Sprintf("packed: InferInt: x has %d codes, logits %d, want [%d, %d] and [%d, %d]", len(x), len(logits), batch, m.dim, batch, m.Classes))
	}
	s := m.intNet.newScratch()
	for r0 := 0; r0 < batch; r0 += intChunk {
		rows := min(intChunk, batch-r0)
		lg := logits[r0*m.Classes : (r0+rows)*m.Classes]
		m.intNet.forward(s, lg, x[r0*m.dim:(r0+rows)*m.dim], rows)
		if pred != nil {
			for i := 0; i < rows; i++ {
				pred[r0+i] = int32(ArgmaxInt(lg[i*m.Classes : (i+1)*m.Classes]))
			}
		}
	}
}

// ArgmaxInt returns the index of the largest value of v, the lowest one
// on ties (and 0 for an empty v).
func ArgmaxInt(v []int32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// QuantizeInput codes float inputs x [n*D] on an integer-mode model's
// input grid: u = clamp(floor(x/InScale + 0.5) + InZero, 0, InMax). It is
// the only floating-point step of the integer mode and runs before it (on
// the host, or in the sensor's own units). It panics on a float-mode
// model.
func (m *Model) QuantizeInput(u []uint8, x []float32) {
	n := m.intNet
	if n == nil {
		panic("packed: QuantizeInput on a float-mode model")
	}
	for i, v := range x {
		q := math.Floor(float64(v)/float64(n.InScale)+0.5) + float64(n.InZero)
		u[i] = uint8(min(max(q, 0), float64(n.InMax)))
	}
}

// inferFloatAPI serves Infer and Predict on an integer-mode model: the
// inputs are coded with QuantizeInput, the network runs in integers, and
// the logits are scaled by LogitScale (pred, when not nil, gets the
// integer argmax).
func (m *Model) inferFloatAPI(dst []float32, pred []int32, x []float32, batch int) {
	u := make([]uint8, len(x))
	m.QuantizeInput(u, x)
	lg := make([]int32, batch*m.Classes)
	m.InferInt(lg, pred, u, batch)
	for i, v := range lg {
		dst[i] = float32(v) * m.intNet.LogitScale
	}
}

// forward runs rows (<= intChunk) samples.
func (n *intNet) forward(s *intScratch, logits []int32, x []uint8, rows int) {
	in := s.a0[:rows*len(x)/rows]
	for i, v := range x {
		in[i] = min(v, uint8(n.InMax))
	}
	for li, l := range n.Layers {
		out := s.a1[:rows*l.OutSize]
		if li%2 == 1 {
			out = s.a0[:rows*l.OutSize]
		}
		switch l.Kind {
		case "dense":
			l.dense(s, out, logits, in, rows)
		case "conv":
			for i := 0; i < rows; i++ {
				l.conv(s, out[i*l.OutSize:(i+1)*l.OutSize], logits, in[i*l.InSize:(i+1)*l.InSize], i)
			}
		case "maxpool":
			for i := 0; i < rows; i++ {
				l.maxPool(out[i*l.OutSize:(i+1)*l.OutSize], in[i*l.InSize:(i+1)*l.InSize])
			}
		}
		if s.hook != nil && li < len(n.Layers)-1 {
			for i := 0; i < rows; i++ {
				s.hook(li, s.r0+i, out[i*l.OutSize:(i+1)*l.OutSize])
			}
		}
		in = out
	}
}

// requant returns output j of a sum acc: Requant(acc + bias) clamped to
// 0..OutMax, or to the int32 range for the last layer.
func (l *IntLayer) requant(acc int32, j int) int32 {
	q := Requant(int64(acc)+int64(l.Bias[j]), l.Mult[j], l.Shift[j])
	lo, hi := int64(0), int64(l.OutMax)
	if l.OutMax == 0 {
		lo, hi = math.MinInt32, math.MaxInt32
	}
	return int32(min(max(q, lo), hi))
}

// dense computes out [rows, Rows] codes (or the logits) from in [rows, Cols].
func (l *IntLayer) dense(s *intScratch, out []uint8, logits []int32, in []uint8, rows int) {
	mp := kernels.Pad4(rows)
	kp, np := kernels.Pad4(l.Cols), kernels.Pad16(l.Rows)
	xq := s.xq[:mp*kp]
	clear(xq)
	for i := 0; i < rows; i++ {
		copy(xq[i*kp:], in[i*l.Cols:(i+1)*l.Cols])
	}
	acc := s.acc[:mp*np]
	kernels.Gemm(0, l.pairMax, mp, l.Rows, l.Cols, xq, kp, l.wp, acc, np)
	for i := 0; i < rows; i++ {
		a := acc[i*np : i*np+l.Rows]
		if l.OutMax == 0 {
			for j, v := range a {
				logits[i*l.Rows+j] = l.requant(v, j)
			}
			continue
		}
		o := out[i*l.Rows : (i+1)*l.Rows]
		for j, v := range a {
			o[j] = uint8(l.requant(v, j))
		}
	}
}

// conv computes sample i: out [K, OH, OW] codes (or the logits) from in
// [C, H, W], through an im2col [OH*OW, C*R*S] and one GEMM.
func (l *IntLayer) conv(s *intScratch, out []uint8, logits []int32, in []uint8, i int) {
	npix := l.OH * l.OW
	mp := kernels.Pad4(npix)
	kp, np := kernels.Pad4(l.Cols), kernels.Pad16(l.Rows)
	xq := s.xq[:mp*kp]
	o := &op{c: l.C, h: l.H, w: l.W, r: l.R, s: l.S, stride: l.Stride, pad: l.Pad, oh: l.OH, ow: l.OW, cols: l.Cols}
	o.im2col(xq, in, l.PadValue)
	acc := s.acc[:mp*np]
	kernels.Gemm(0, l.pairMax, mp, l.Rows, l.Cols, xq, kp, l.wp, acc, np)
	for k := 0; k < l.Rows; k++ {
		for p := 0; p < npix; p++ {
			v := l.requant(acc[p*np+k], k)
			if l.OutMax == 0 {
				logits[i*l.OutSize+k*npix+p] = v
			} else {
				out[k*npix+p] = uint8(v)
			}
		}
	}
}

// maxPool pools one sample of codes [C, H, W] to [C, OH, OW].
func (l *IntLayer) maxPool(out, in []uint8) {
	for c := 0; c < l.C; c++ {
		plane := in[c*l.H*l.W : (c+1)*l.H*l.W]
		for oy := 0; oy < l.OH; oy++ {
			for ox := 0; ox < l.OW; ox++ {
				var best uint8
				for r := 0; r < l.R; r++ {
					base := (oy*l.Stride+r)*l.W + ox*l.Stride
					for _, v := range plane[base : base+l.R] {
						best = max(best, v)
					}
				}
				out[(c*l.OH+oy)*l.OW+ox] = best
			}
		}
	}
}
