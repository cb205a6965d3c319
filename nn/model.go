package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/resq-dev/resq/tensor"
)

// Model is a feed-forward classifier: a chain of layers ending in logits,
// and a softmax cross-entropy loss.
type Model struct {
	Spec    string     // the spec it was built from
	In      []int      // per-sample input shape: [D] (mlp) or [C, H, W] (cnn)
	Classes int        // number of classes (width of the logits)
	Layers  []Layer    // in forward order
	Loss    *SoftmaxCE // the training loss

	image  bool           // cnn: Forward views x as [batch, C, H, W]
	xv     *tensor.Tensor // model-owned view of the input with shape [batch, In...]
	params []*Param
}

// Buffer is a named non-trainable state tensor (BatchNorm running
// statistics) that a checkpoint must save next to the params.
type Buffer struct {
	Name string // "3.running_mean", ...
	T    *tensor.Tensor
}

// indexer is implemented by every layer of this package: Build tells each
// layer its position for error messages.
type indexer interface{ setIndex(int) }

// Seed streams: independent PCG streams derived from the model seed.
const (
	streamInit    = 0x696e6974 // "init"
	streamDropout = 0x64726f70 // "drop", + layer index
)

// Build constructs the model described by spec (see the package
// documentation for the grammar) for per-sample inputs of shape in, with
// weights drawn from seed. It is deterministic in (spec, in, seed).
//
// For an mlp spec, in may be nil (the spec's input width is used) and
// otherwise its product must equal the spec's input width. A cnn spec needs
// in = [C, H, W].
//
// Build first plans the model without allocating (SpecSize reports the
// plan's counts) and fails, before any allocation, for models beyond
// MaxParams, MaxActivation, MaxInputRank or MaxSpecLayers.
func Build(spec string, in []int, seed uint64) (*Model, error) {
	pl, err := planModel(spec, in)
	if err != nil {
		return nil, err
	}
	return pl.build(spec, seed), nil
}

func tokString(t token) string {
	switch t.kind {
	case tokConv:
		return fmt.Sprintf("%dc%ds%d", t.n, t.k, t.stride)
	case tokPool:
		return fmt.Sprintf("p%ds%d", t.k, t.stride)
	}
	return "?"
}

func newAct(name string) Layer {
	switch name {
	case "sigmoid":
		return &Sigmoid{}
	case "tanh":
		return &Tanh{}
	}
	return &ReLU{}
}

// Weight initialisations (the spec option init=).
const (
	// InitUniform draws every Dense and Conv2D weight and bias from
	// U(±1/sqrt(fan_in)), the default of PyTorch's nn.Linear and nn.Conv2d.
	InitUniform = "uniform"
	// InitHe draws a weight followed by ReLU He normal, N(0, 2/fan_in), the
	// others (sigmoid, tanh, the output layer) Glorot uniform, with zero
	// biases.
	InitHe = "he"
	// DefaultInit is the initialisation of a spec without init=.
	DefaultInit = InitUniform
)

// finish names the params, marks the first parameterised layer as not
// needing its input gradient, and initialises the weights with init:
//   - InitUniform: weights and biases U(±1/sqrt(fan_in));
//   - InitHe: a weight followed by ReLU He normal, std = sqrt(2/fan_in);
//     followed by sigmoid or tanh, and the output layer, Glorot uniform,
//     U(±sqrt(6/(fan_in+fan_out))); biases zero;
//   - BatchNorm gamma 1, beta 0 in both.
//
// fan_in = In (dense) or C*R*S (conv); fan_out = Out or K*R*S.
func (m *Model) finish(acts []string, init string, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, streamInit))
	first := true
	pi := 0
	for i, l := range m.Layers {
		if x, ok := l.(indexer); ok {
			x.setIndex(i)
		}
		for _, p := range l.Params() {
			p.Name = fmt.Sprintf("%d.%s", i, p.Name)
			m.params = append(m.params, p)
		}
		var w, b *Param
		var fanIn, fanOut int
		switch l := l.(type) {
		case *Dense:
			l.SkipInputGrad = first
			w, b, fanIn, fanOut = l.W, l.B, l.In, l.Out
		case *Conv2D:
			l.SkipInputGrad = first
			w, b, fanIn, fanOut = l.W, l.B, l.C*l.R*l.S, l.K*l.R*l.S
		case *LSTM, *GRU:
			r, _ := RecurrentOf(l)
			r.SkipInputGrad = first
			first = false
			initRecurrent(l, r.Hidden, rng)
			pi++
			continue
		}
		if len(l.Params()) > 0 {
			first = false
		}
		if w == nil {
			continue
		}
		if init == InitUniform {
			lim := 1 / math.Sqrt(float64(fanIn))
			for _, t := range [][]float32{w.W.Data, b.W.Data} {
				for j := range t {
					t[j] = float32((2*rng.Float64() - 1) * lim)
				}
			}
		} else if acts[pi] == "relu" {
			std := math.Sqrt(2 / float64(fanIn))
			for j := range w.W.Data {
				w.W.Data[j] = float32(rng.NormFloat64() * std)
			}
		} else {
			lim := math.Sqrt(6 / float64(fanIn+fanOut))
			for j := range w.W.Data {
				w.W.Data[j] = float32((2*rng.Float64() - 1) * lim)
			}
		}
		pi++
	}
}

// ReseedDropout restarts the random source of every Dropout layer from
// (seed, "drop"+layer index), as Build does with its seed. A model loaded
// from a checkpoint (built with seed 0) gets masks of its own this way, and
// a second training of the same model does not replay the masks of the
// first.
func (m *Model) ReseedDropout(seed uint64) {
	for i, l := range m.Layers {
		if d, ok := l.(*Dropout); ok {
			d.rng = rand.New(rand.NewPCG(seed, streamDropout+uint64(i)))
		}
	}
}

// Forward runs the network on x [batch, D] (D = product of In; rows are
// flattened samples) and returns the logits [batch, Classes], owned by the
// last layer. train selects dropout and batch statistics.
func (m *Model) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	d := tensor.Numel(m.In)
	if len(x.Shape) != 2 || x.Shape[1] != d {
		panic(fmt.Sprintf("nn: model: input %v does not match [batch %d]", x.Shape, d))
	}
	h := x
	if m.image {
		n := x.Shape[0]
		if m.xv == nil {
			m.xv = &tensor.Tensor{Shape: make([]int, 0, 1+len(m.In))}
		}
		m.xv.Data = x.Data
		m.xv.Shape = append(append(m.xv.Shape[:0], n), m.In...)
		h = m.xv
	}
	for i := 0; i < len(m.Layers); i++ {
		if r, ok := m.Layers[i].(*ReLU); ok && i+1 < len(m.Layers) {
			if p, ok := m.Layers[i+1].(*MaxPool); ok {
				// ReLU then max pool: pool first, then the ReLU on a
				// quarter of the values (MaxPool.forwardReLU).
				h = p.forwardReLU(r, h, train)
				i++
				continue
			}
		}
		h = m.Layers[i].Forward(h, train)
	}
	return h
}

// Backward backpropagates dlogits [batch, Classes] (usually
// m.Loss.Backward()) through the last Forward and overwrites every param's
// G. It stops at the first parameterised layer: input gradients are not
// computed.
func (m *Model) Backward(dlogits *tensor.Tensor) {
	g := dlogits
	for i := len(m.Layers) - 1; i >= 0; i-- {
		l := m.Layers[i]
		if p, ok := l.(*MaxPool); ok && p.relu != nil && i > 0 && m.Layers[i-1] == Layer(p.relu) {
			g = p.backwardReLU(g) // both layers of a fused forward
			i--
			continue
		}
		g = l.Backward(g)
		if g == nil {
			return
		}
	}
}

// Params returns every trainable param in layer order (weight before bias),
// the same order on every call and for every model built from the same spec.
func (m *Model) Params() []*Param { return m.params }

// Buffers returns the non-trainable state (BatchNorm running mean and
// variance) in layer order; nil for models without BatchNorm.
func (m *Model) Buffers() []Buffer {
	var bs []Buffer
	for i, l := range m.Layers {
		if b, ok := l.(*BatchNorm); ok {
			bs = append(bs,
				Buffer{Name: fmt.Sprintf("%d.running_mean", i), T: b.RunMean},
				Buffer{Name: fmt.Sprintf("%d.running_var", i), T: b.RunVar})
		}
	}
	return bs
}

// Count returns the number of quantizable weights (dense matrices and conv
// kernels) and of all params (weights, biases, BatchNorm gamma and beta).
func (m *Model) Count() (weights, params int64) {
	for _, p := range m.params {
		n := int64(p.W.Size())
		params += n
		if p.Quantizable {
			weights += n
		}
	}
	return weights, params
}

// Predict writes the predicted class of each row of x [batch, D] into dst
// [batch] (evaluation mode: no dropout, running BatchNorm statistics).
func (m *Model) Predict(dst []int32, x *tensor.Tensor) {
	y := m.Forward(x, false)
	n, c := y.Shape[0], y.Shape[1]
	if len(dst) < n {
		panic(fmt.Sprintf("nn: model: Predict dst has %d elements, batch is %d", len(dst), n))
	}
	for i := 0; i < n; i++ {
		dst[i] = int32(tensor.Argmax(y.Data[i*c : i*c+c]))
	}
}

// Freeze prepares m for inference in batches of about batch rows: dense
// layers pack their (quantized, if quantized) weights once, so that every
// Forward without training until Thaw skips that packing (results are
// unchanged). The weights must not change until Thaw: a Forward with train
// set ignores the packed copy, but an inference Forward after a weight
// update would use stale weights. The packed copy's memory (about one more
// copy of the dense weights) is kept for the next Freeze.
//
//	m.Freeze(100)
//	defer m.Thaw()
func (m *Model) Freeze(batch int) {
	for _, l := range m.Layers {
		if d, ok := l.(*Dense); ok {
			d.freeze(max(1, batch))
		}
	}
}

// Thaw ends Freeze: inference uses the weights as they are again.
func (m *Model) Thaw() {
	for _, l := range m.Layers {
		if d, ok := l.(*Dense); ok {
			d.thaw()
		}
	}
}

// String describes the layers with their per-sample output shapes, one per
// line.
func (m *Model) String() string {
	var b strings.Builder
	w, p := m.Count()
	fmt.Fprintf(&b, "%s  in %v  weights %d  params %d\n", m.Spec, m.In, w, p)
	shape := append([]int(nil), m.In...)
	if !m.image {
		shape = []int{tensor.Numel(m.In)}
	}
	for i, l := range m.Layers {
		switch l := l.(type) {
		case *Dense:
			shape = []int{l.Out}
			fmt.Fprintf(&b, "%3d dense %d->%d", i, l.In, l.Out)
		case *Conv2D:
			o, _ := l.OutShape(shape[0], shape[1], shape[2])
			shape = o[:]
			fmt.Fprintf(&b, "%3d conv %dx%d stride %d pad %d", i, l.R, l.S, l.Stride, l.Pad)
		case *MaxPool:
			shape = []int{shape[0], (shape[1]-l.K)/l.Stride + 1, (shape[2]-l.K)/l.Stride + 1}
			fmt.Fprintf(&b, "%3d maxpool %dx%d stride %d", i, l.K, l.K, l.Stride)
		case *Flatten:
			shape = []int{tensor.Numel(shape)}
			fmt.Fprintf(&b, "%3d flatten", i)
		case *Dropout:
			fmt.Fprintf(&b, "%3d dropout %g", i, l.P)
		case *LSTM, *GRU:
			r, _ := RecurrentOf(l)
			t, _ := m.Steps()
			shape = []int{r.Hidden}
			if r.Seq {
				shape = []int{t, r.Hidden}
			}
			fmt.Fprintf(&b, "%3d %s %d->%d", i, l.Kind(), r.In, r.Hidden)
		case *SeqRows:
			shape = []int{l.Width}
			fmt.Fprintf(&b, "%3d seqrows (one row per step)", i)
		default:
			fmt.Fprintf(&b, "%3d %s", i, l.Kind())
		}
		fmt.Fprintf(&b, " -> %v\n", shape)
	}
	return b.String()
}
