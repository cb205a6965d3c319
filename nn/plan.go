package nn

import (
	"fmt"
	"math"
	"strconv"
)

// Limits on the models Build accepts. A spec or input shape beyond them is
// rejected with an error before anything is allocated, so that a hostile
// or corrupted spec (from a checkpoint, a flag, a sweep file) cannot make
// the process run out of memory.
const (
	// MaxParams bounds the number of params (weights, biases, BatchNorm
	// gamma and beta) of a model: 2^30, that is 4 GiB of float32 weights
	// and as much again for their gradients.
	MaxParams = 1 << 30
	// MaxActivation bounds the number of values of one sample at every
	// point of the network: the input (the product of the input shape) and
	// the output of every layer. 2^26 values are 256 MiB of float32 per
	// sample per layer.
	MaxActivation = 1 << 26
	// MaxInputRank bounds the number of dimensions of the input shape.
	MaxInputRank = 8
	// MaxSpecLayers bounds the number of layer tokens of a spec after
	// WIDTHxCOUNT expansion.
	MaxSpecLayers = 4096
)

// Layer kinds of a plan.
type planKind uint8

const (
	planDense planKind = iota
	planConv
	planBN
	planAct
	planPool
	planFlatten
	planDropout
	planRecurrent
	planSeqRows
)

// layerPlan configures one element of Model.Layers.
type layerPlan struct {
	kind      planKind
	in, out   int     // dense: In, Out; conv: C, K; bn: C
	k, stride int     // conv: R = S = k; pool: window k
	pad       int     // conv
	act       string  // act: the activation; dense/conv: the activation that follows, for the initialisation ("" for the output layer)
	p         float64 // dropout probability
	seq       bool    // recurrent: return every step (act names the cell, stride the truncation)
	tokens    bool    // recurrent: token-id input
}

// modelPlan is a model described without its tensors: what planModel
// derives from a spec and an input shape, and all that build needs.
type modelPlan struct {
	in              []int // per-sample input shape (owned by the plan)
	classes         int
	image           bool
	init            string      // InitUniform or InitHe
	layers          []layerPlan // one per element of Model.Layers, in order
	weights, params int64       // as Model.Count will report them
}

// SpecSize returns the number of quantizable weights and of all params that
// Build(spec, in, seed) would allocate, as Model.Count reports them, without
// allocating any of them. It fails exactly when Build fails, with the same
// error: bad specs, input shapes that do not fit, and models beyond
// MaxParams, MaxActivation, MaxInputRank or MaxSpecLayers.
func SpecSize(spec string, in []int) (weights, params int64, err error) {
	pl, err := planModel(spec, in)
	if err != nil {
		return 0, 0, err
	}
	return pl.weights, pl.params, nil
}

// satMul returns a*b for non-negative a and b, or math.MaxInt64 when the
// product does not fit.
func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// satAdd returns a+b for non-negative a and b, or math.MaxInt64 when the
// sum does not fit.
func satAdd(a, b int64) int64 {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

// countString prints n, a count computed with satMul.
func countString(n int64) string {
	if n == math.MaxInt64 {
		return "more than " + strconv.FormatInt(math.MaxInt64-1, 10)
	}
	return strconv.FormatInt(n, 10)
}

// planModel walks spec over the per-sample input shape in: it validates
// both, lays out every layer and counts the params, with overflow-safe
// arithmetic and no allocation proportional to the model's size.
func planModel(spec string, in []int) (*modelPlan, error) {
	p, err := parseSpec(spec)
	if err != nil {
		return nil, err
	}
	inSize, err := inputSize(in)
	if err != nil {
		return nil, err
	}
	b := &planner{spec: spec, p: p, pl: &modelPlan{classes: p.classes, init: p.init}}
	switch p.family {
	case "mlp":
		err = b.mlp(in, inSize)
	case "lstm", "gru":
		err = b.recurrent(in, inSize)
	default:
		err = b.cnn(in, inSize)
	}
	if err != nil {
		return nil, err
	}
	return b.pl, nil
}

// inputSize checks a per-sample input shape and returns its number of
// values (saturated).
func inputSize(in []int) (int64, error) {
	if len(in) > MaxInputRank {
		return 0, fmt.Errorf("nn: bad input shape %v (more than %d dimensions)", in, MaxInputRank)
	}
	n := int64(1)
	for _, d := range in {
		if d <= 0 {
			return 0, fmt.Errorf("nn: bad input shape %v", in)
		}
		n = satMul(n, int64(d))
	}
	return n, nil
}

// planner lays out the layers of one parsed spec into pl, checking every
// activation size and the running parameter count against the limits.
type planner struct {
	spec string
	p    *parsed
	pl   *modelPlan
}

// activation checks n, the per-sample size of the input or of a layer output.
func (b *planner) activation(what string, n int64) error {
	if n > MaxActivation {
		return fmt.Errorf("nn: model spec %q: %s has %s values per sample, more than the limit %d", b.spec, what, countString(n), MaxActivation)
	}
	return nil
}

// count adds the params of one layer and checks the total.
func (b *planner) count(weights, params int64) error {
	b.pl.weights = satAdd(b.pl.weights, weights)
	b.pl.params = satAdd(b.pl.params, params)
	if b.pl.params > MaxParams {
		return fmt.Errorf("nn: model spec %q: %s parameters or more, more than the limit %d", b.spec, countString(b.pl.params), MaxParams)
	}
	return nil
}

func (b *planner) add(l layerPlan) { b.pl.layers = append(b.pl.layers, l) }

// dense adds an in->out dense layer and its activation (none when act is "").
func (b *planner) dense(in, out int, act string) error {
	if err := b.activation(fmt.Sprintf("dense layer %d->%d", in, out), int64(out)); err != nil {
		return err
	}
	w := satMul(int64(in), int64(out))
	if err := b.count(w, satAdd(w, int64(out))); err != nil {
		return err
	}
	b.add(layerPlan{kind: planDense, in: in, out: out, act: act})
	if act != "" {
		b.add(layerPlan{kind: planAct, act: act})
	}
	return nil
}

// dropout adds a dropout layer when pr > 0.
func (b *planner) dropout(pr float64) {
	if pr > 0 {
		b.add(layerPlan{kind: planDropout, p: pr})
	}
}

// mlp lays out a fully connected network: input dropout, the hidden layers
// with their dropout, the output layer.
func (b *planner) mlp(in []int, inSize int64) error {
	p := b.p
	if in == nil {
		in = []int{p.in}
		inSize = int64(p.in)
	}
	if inSize != int64(p.in) {
		return fmt.Errorf("nn: model expects %d inputs, dataset has %s", p.in, countString(inSize))
	}
	if err := b.activation("the input", inSize); err != nil {
		return err
	}
	b.pl.in = append([]int(nil), in...)
	b.dropout(p.dropin)
	w := p.in
	for _, t := range p.toks {
		if err := b.dense(w, t.n, p.act); err != nil {
			return err
		}
		b.dropout(p.drop)
		w = t.n
	}
	return b.dense(w, p.classes, "")
}

// cnn lays out a convolutional network over a [C H W] input: its conv,
// pool and dense tokens in order, a flatten before the first dense layer,
// the output layer.
func (b *planner) cnn(in []int, inSize int64) error {
	p := b.p
	if len(in) != 3 {
		return fmt.Errorf("nn: cnn model needs a [C H W] input shape, dataset has %v", in)
	}
	if err := b.activation("the input", inSize); err != nil {
		return err
	}
	// From here on c*h*w <= MaxActivation, so every dimension is too.
	b.pl.in = append([]int(nil), in...)
	b.pl.image = true
	c, h, w := in[0], in[1], in[2]
	flat := false
	var err error
	for i, t := range p.toks {
		switch t.kind {
		case tokConv:
			bn := p.bn || (i+1 < len(p.toks) && p.toks[i+1].kind == tokBN)
			if c, h, w, err = b.conv(t, bn, c, h, w); err != nil {
				return err
			}
		case tokBN: // handled with its conv
		case tokPool:
			if h, w, err = b.pool(t, h, w); err != nil {
				return err
			}
		case tokDense:
			if !flat {
				b.add(layerPlan{kind: planFlatten})
				flat, c, h, w = true, c*h*w, 1, 1
			}
			b.dropout(p.drop)
			if err := b.dense(c, t.n, p.act); err != nil {
				return err
			}
			c = t.n
		}
	}
	if !flat {
		b.add(layerPlan{kind: planFlatten})
		c = c * h * w
	}
	b.dropout(p.drop)
	return b.dense(c, p.classes, "")
}

// conv adds a convolution (same padding for odd kernels), its batch
// normalisation when bn, and its activation, over a c x h x w input; it
// returns the output's shape.
func (b *planner) conv(t token, bn bool, c, h, w int) (int, int, int, error) {
	ks := math.Round(float64(t.n) * b.p.scale)
	if ks > MaxActivation {
		return 0, 0, 0, fmt.Errorf("nn: model spec %q: layer %q has %g maps, more than the limit %d", b.spec, tokString(t), ks, MaxActivation)
	}
	k := max(1, int(ks))
	// Count the params first: they bound the kernel size (k >= 1, c >= 1),
	// which keeps the geometry below from overflowing.
	wn := satMul(satMul(satMul(int64(k), int64(c)), int64(t.k)), int64(t.k))
	bnp := int64(0)
	if bn {
		bnp = 2 * int64(k)
	}
	if err := b.count(wn, satAdd(wn, int64(k)+bnp)); err != nil {
		return 0, 0, 0, err
	}
	pad := (t.k - 1) / 2
	if h+2*pad < t.k || w+2*pad < t.k {
		return 0, 0, 0, fmt.Errorf("nn: model spec %q: layer %q does not fit its %dx%d input", b.spec, tokString(t), h, w)
	}
	oh := (h+2*pad-t.k)/t.stride + 1
	ow := (w+2*pad-t.k)/t.stride + 1
	if err := b.activation(fmt.Sprintf("layer %q", tokString(t)), satMul(satMul(int64(k), int64(oh)), int64(ow))); err != nil {
		return 0, 0, 0, err
	}
	b.add(layerPlan{kind: planConv, in: c, out: k, k: t.k, stride: t.stride, pad: pad, act: b.p.act})
	if bn {
		b.add(layerPlan{kind: planBN, in: k})
	}
	b.add(layerPlan{kind: planAct, act: b.p.act})
	return k, oh, ow, nil
}

// pool adds a max-pooling layer over an h x w input and returns the
// output's height and width.
func (b *planner) pool(t token, h, w int) (int, int, error) {
	if h < t.k || w < t.k {
		return 0, 0, fmt.Errorf("nn: model spec %q: layer %q does not fit its %dx%d input", b.spec, tokString(t), h, w)
	}
	b.add(layerPlan{kind: planPool, k: t.k, stride: t.stride})
	return (h-t.k)/t.stride + 1, (w-t.k)/t.stride + 1, nil
}

// build allocates the model planned by pl, with weights drawn from seed.
func (pl *modelPlan) build(spec string, seed uint64) *Model {
	m := &Model{Spec: spec, In: pl.in, Classes: pl.classes, Loss: &SoftmaxCE{}, image: pl.image}
	m.Layers = make([]Layer, 0, len(pl.layers))
	// acts[i] names the activation that follows parameterised layer i (for
	// the initialisation); "" for the output layer.
	var acts []string
	for _, lp := range pl.layers {
		var l Layer
		switch lp.kind {
		case planDense:
			l = NewDense(lp.in, lp.out)
			acts = append(acts, lp.act)
		case planConv:
			l = NewConv2D(lp.in, lp.out, lp.k, lp.k, lp.stride, lp.pad)
			acts = append(acts, lp.act)
		case planBN:
			l = NewBatchNorm(lp.in)
		case planAct:
			l = newAct(lp.act)
		case planPool:
			l = NewMaxPool(lp.k, lp.stride)
		case planFlatten:
			l = &Flatten{}
		case planDropout:
			l = NewDropout(lp.p, seed, streamDropout+uint64(len(m.Layers)))
		case planRecurrent:
			l = newRecurrentLayer(lp)
			acts = append(acts, lp.act)
		case planSeqRows:
			l = &SeqRows{Width: lp.in}
		}
		m.Layers = append(m.Layers, l)
	}
	m.finish(acts, pl.init, seed)
	return m
}
