package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/resq-dev/resq/tensor"
)

// Dropout is inverted dropout: in training each element is zeroed with
// probability P and the survivors are scaled by 1/(1-P), so evaluation is
// the identity (Forward with train=false returns x itself).
//
// The layer owns its random source, seeded deterministically by Build from
// the model seed and the layer index, so a run is reproducible. The drop
// decision uses 16 random bits per element (P is rounded to a multiple of
// 2⁻¹⁶); one Uint64 serves four elements.
type Dropout struct {
	P float64

	idx    int
	rng    *rand.Rand
	thresh uint32 // drop when the 16-bit draw < thresh
	scale  float32
	train  bool
	mask   []float32      // [batch*features]: 0 or scale
	bits   []uint64       // [ceil(batch*features/4)]: the random draws of the last Forward
	out    *tensor.Tensor // owned training output
	y      *tensor.Tensor // what the last Forward returned (out, or x at evaluation)
	dx     *tensor.Tensor
}

// NewDropout returns a dropout layer with drop probability p in [0, 1)
// drawing from a PCG source seeded with (seed, stream).
func NewDropout(p float64, seed, stream uint64) *Dropout {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("nn: dropout: probability %v not in [0, 1)", p))
	}
	t := uint32(p*65536 + 0.5)
	return &Dropout{P: p, rng: rand.New(rand.NewPCG(seed, stream)), thresh: t, scale: float32(1 / (1 - p))}
}

// Kind returns "dropout".
func (*Dropout) Kind() string { return "dropout" }

// Params returns nil.
func (*Dropout) Params() []*Param { return nil }

func (d *Dropout) setIndex(i int) { d.idx = i }

// Forward drops and rescales elements of x in training; at evaluation it
// returns x unchanged.
func (d *Dropout) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	if d.rng == nil { // a literal &Dropout{P: p}: seed (0, layer index)
		idx := d.idx
		*d = *NewDropout(d.P, 0, uint64(idx))
		d.idx = idx
	}
	d.train = train
	if !train || d.thresh == 0 {
		d.y = x
		return x
	}
	d.out = ensure(d.out, x.Shape...)
	d.y = d.out
	n := len(x.Data)
	if cap(d.mask) < n {
		d.mask = make([]float32, n)
	}
	nb := (n + 3) / 4
	if cap(d.bits) < nb {
		d.bits = make([]uint64, nb)
	}
	bits := d.bits[:nb]
	for i := range bits {
		bits[i] = d.rng.Uint64()
	}
	// Element i drops when its 16-bit word of bits is < thresh.
	tensor.Dropout(d.y.Data[:n], d.mask[:n], x.Data[:n], bits, d.thresh, d.scale)
	return d.y
}

// Backward applies the last training mask to dy (identity after an
// evaluation Forward).
func (d *Dropout) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkSame(dy, d.y, "dropout", d.idx)
	if !d.train || d.thresh == 0 {
		return dy
	}
	d.dx = ensure(d.dx, dy.Shape...)
	tensor.Mul(d.dx.Data, dy.Data, d.mask[:len(dy.Data)])
	return d.dx
}
