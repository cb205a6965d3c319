package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/resq-dev/resq/tensor"
)

// Heads of a recurrent model (the option head=).
const (
	// HeadLast classifies each sequence from the top layer's hidden state
	// at the last step (many-to-one): logits [batch, Classes].
	HeadLast = "last"
	// HeadSeq predicts a class at every step, e.g. the next token
	// (many-to-many): logits [batch*T, Classes], row b*T+t for sample b,
	// step t.
	HeadSeq = "seq"
)

// recOpts are the options of a recurrent spec.
type recOpts struct {
	head   string
	tokens bool
	bptt   int
}

// parseRecurrent parses the layers and options of lstm:... and gru:...
// specs: IN-HIDDEN[xLAYERS]-...-CLASSES[,options].
func parseRecurrent(spec, fam, rest string) (*parsed, error) {
	parts := strings.Split(rest, ",")
	p := &parsed{family: fam, act: "tanh", scale: 1, init: DefaultInit, rec: recOpts{head: HeadLast}}
	for _, o := range parts[1:] {
		if err := p.recOption(spec, o); err != nil {
			return nil, err
		}
	}
	toks := strings.Split(parts[0], "-")
	if len(toks) < 3 {
		return nil, specErr(spec, "want IN-HIDDEN[xLAYERS]-CLASSES, e.g. %s:28-128x2-10", fam)
	}
	in, ok := posInt(toks[0])
	if !ok {
		return nil, specErr(spec, "bad input width %q (want the positive number of features per step)", toks[0])
	}
	p.in = in
	for _, t := range toks[1 : len(toks)-1] {
		w, cnt, hasX := strings.Cut(t, "x")
		wv, ok1 := posInt(w)
		c, ok2 := 1, true
		if hasX {
			c, ok2 = posInt(cnt)
		}
		if !ok1 || !ok2 {
			return nil, specErr(spec, "bad layer %q (want HIDDEN or HIDDENxLAYERS)", t)
		}
		if c > MaxSpecLayers || len(p.toks)+c > MaxSpecLayers {
			return nil, specErr(spec, "more than %d layers", MaxSpecLayers)
		}
		for range c {
			p.toks = append(p.toks, token{kind: tokDense, n: wv})
		}
	}
	last := toks[len(toks)-1]
	c, ok := posInt(last)
	if !ok || c < 2 {
		return nil, specErr(spec, "bad class count %q (the last token must be an integer >= 2)", last)
	}
	p.classes = c
	return p, nil
}

func (p *parsed) recOption(spec, o string) error {
	key, val, hasEq := strings.Cut(o, "=")
	switch {
	case key == "head" && hasEq:
		if val != HeadLast && val != HeadSeq {
			return specErr(spec, "bad option %q (want head=%s or head=%s)", o, HeadLast, HeadSeq)
		}
		p.rec.head = val
	case o == "tokens":
		p.rec.tokens = true
	case key == "bptt" && hasEq:
		v, ok := posInt(val)
		if !ok {
			return specErr(spec, "bad option %q (want bptt=STEPS with STEPS >= 1)", o)
		}
		p.rec.bptt = v
	case key == "drop" && hasEq:
		v, err := strconv.ParseFloat(val, 64)
		if err != nil || !(v >= 0 && v < 1) {
			return specErr(spec, "bad option %q (want a probability in [0, 1))", o)
		}
		p.drop = v
	case key == "init" && hasEq:
		if val != InitUniform {
			return specErr(spec, "bad option %q (recurrent models take init=%s only)", o, InitUniform)
		}
	default:
		return specErr(spec, "bad option %q (want head=, tokens, bptt=, drop= or init=uniform)", o)
	}
	p.opts = append(p.opts, o)
	return nil
}

// recurrentSteps derives the number of steps from the per-sample input
// shape: its size over IN, or its size with tokens.
func (b *planner) recurrentSteps(in []int, inSize int64) (int, error) {
	p := b.p
	if in == nil {
		return 0, fmt.Errorf("nn: model spec %q: a recurrent model needs the input shape (steps x features)", b.spec)
	}
	if err := b.activation("the input", inSize); err != nil {
		return 0, err
	}
	if p.rec.tokens {
		return int(inSize), nil
	}
	if inSize%int64(p.in) != 0 || (len(in) > 1 && in[len(in)-1] != p.in) {
		return 0, fmt.Errorf("nn: model %s takes %d features per step, dataset has samples of shape %v", b.spec, p.in, in)
	}
	return int(inSize / int64(p.in)), nil
}

// recurrent lays out a recurrent network: the stacked layers (every one
// but the top returning all steps), dropout between them and before the
// head, and the head.
func (b *planner) recurrent(in []int, inSize int64) error {
	p := b.p
	steps, err := b.recurrentSteps(in, inSize)
	if err != nil {
		return err
	}
	b.pl.in = append([]int(nil), in...)
	gates := int64(4)
	if p.family == "gru" {
		gates = 3
	}
	w := p.in
	for i, t := range p.toks {
		seq := i < len(p.toks)-1 || p.rec.head == HeadSeq
		if err := b.activation(fmt.Sprintf("%s layer %d", p.family, i), satMul(int64(steps), int64(t.n))); err != nil {
			return err
		}
		gh := satMul(gates, int64(t.n))
		wn := satMul(gh, int64(w+t.n))
		bias := gh
		if p.family == "gru" {
			bias = 2 * gh
		}
		if err := b.count(wn, satAdd(wn, bias)); err != nil {
			return err
		}
		b.add(layerPlan{kind: planRecurrent, in: w, out: t.n, act: p.family, seq: seq, tokens: i == 0 && p.rec.tokens, stride: p.rec.bptt})
		b.dropout(p.drop)
		w = t.n
	}
	if p.rec.head == HeadSeq {
		b.add(layerPlan{kind: planSeqRows, in: w})
	}
	return b.dense(w, p.classes, "")
}

// newRecurrentLayer builds the layer a planRecurrent entry describes.
func newRecurrentLayer(lp layerPlan) Layer {
	var r *Recurrent
	var l Layer
	if lp.act == "gru" {
		g := NewGRU(lp.in, lp.out, lp.tokens)
		l, r = g, &g.Recurrent
	} else {
		s := NewLSTM(lp.in, lp.out, lp.tokens)
		l, r = s, &s.Recurrent
	}
	r.Seq, r.BPTT = lp.seq, lp.stride
	return l
}

// initRecurrent draws every param of a recurrent layer from U(±1/sqrt(H)),
// PyTorch's initialisation of nn.LSTM and nn.GRU.
func initRecurrent(l Layer, hidden int, rng *rand.Rand) {
	lim := 1 / math.Sqrt(float64(hidden))
	for _, p := range l.Params() {
		for j := range p.W.Data {
			p.W.Data[j] = float32((2*rng.Float64() - 1) * lim)
		}
	}
}

// RecurrentOf returns the configuration shared by LSTM and GRU layers, and
// false for other layers. Package quant sets StateBits through it.
func RecurrentOf(l Layer) (r *Recurrent, ok bool) {
	switch l := l.(type) {
	case *LSTM:
		return &l.Recurrent, true
	case *GRU:
		return &l.Recurrent, true
	}
	return nil, false
}

// SeqRows views the per-step outputs of a recurrent layer, [batch,
// T*Width], as one row per step, [batch*T, Width], so that a Dense layer
// after it acts on every step (the many-to-many head).
type SeqRows struct {
	Width int

	idx    int
	y, dx  tensor.Tensor
	inCols int
}

// Kind returns "seqrows".
func (s *SeqRows) Kind() string { return "seqrows" }

// Params returns nil.
func (s *SeqRows) Params() []*Param { return nil }

func (s *SeqRows) setIndex(i int) { s.idx = i }

// Forward returns x [batch, T*Width] viewed as [batch*T, Width].
func (s *SeqRows) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	if len(x.Shape) != 2 || x.Shape[1]%s.Width != 0 {
		panic(fmt.Sprintf("nn: seqrows %d: input %v is not [batch, steps*%d]", s.idx, x.Shape, s.Width))
	}
	s.inCols = x.Shape[1]
	view(&s.y, x.Data, x.Shape[0]*x.Shape[1]/s.Width, s.Width)
	return &s.y
}

// Backward returns dy [batch*T, Width] viewed as [batch, T*Width].
func (s *SeqRows) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkSame(dy, &s.y, "seqrows", s.idx)
	view(&s.dx, dy.Data, len(dy.Data)/s.inCols, s.inCols)
	return &s.dx
}

// Steps returns the number of steps of a recurrent model's input, and
// whether its head predicts a class at every step (HeadSeq); 0 and false
// for other models.
func (m *Model) Steps() (steps int, perStep bool) {
	for _, l := range m.Layers {
		if r, ok := RecurrentOf(l); ok {
			t := tensor.Numel(m.In)
			if !r.Tokens {
				t /= r.In
			}
			return t, m.perStep()
		}
	}
	return 0, false
}

func (m *Model) perStep() bool {
	for _, l := range m.Layers {
		if _, ok := l.(*SeqRows); ok {
			return true
		}
	}
	return false
}
