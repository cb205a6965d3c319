package packed

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/resq-dev/resq/internal/safetensors"
	"github.com/resq-dev/resq/packed/internal/kernels"
)

// Image is the bit image of a packed model's weighted layers: the words a
// device holds in memory after loading the file. Fault models (package
// faults) flip its bits and run the result with Model.WithImage.
type Image struct {
	Integer bool         // integer-mode model (Bias, Mult and Shift are int32 words)
	Layers  []ImageLayer // weighted layers in forward order
}

// ImageLayer is one weighted layer's stored words, little-endian bit
// order within each word as in the file.
type ImageLayer struct {
	Kind       string // "dense" or "conv"
	Bits       int    // bits per weight code
	Encoding   string // EncBits or EncBase3
	Rows, Cols int    // outputs and inputs per output
	Codes      []byte // packed codes (FORMAT.md)
	// Float mode: Step holds the float32 bit patterns of the steps ([1] or
	// [Rows]) and Bias those of the biases. Integer mode: Step is nil and
	// Bias, Mult and Shift hold the int32 words.
	Step, Bias, Mult, Shift []uint32
}

// Clone returns a deep copy of img.
func (img *Image) Clone() *Image {
	c := &Image{Integer: img.Integer, Layers: make([]ImageLayer, len(img.Layers))}
	for i, l := range img.Layers {
		l.Codes = append([]byte(nil), l.Codes...)
		l.Step = cloneWords(l.Step)
		l.Bias = cloneWords(l.Bias)
		l.Mult = cloneWords(l.Mult)
		l.Shift = cloneWords(l.Shift)
		c.Layers[i] = l
	}
	return c
}

func cloneWords(w []uint32) []uint32 {
	if w == nil {
		return nil
	}
	return append([]uint32(nil), w...)
}

// ReadImage loads the packed model in b (validating it as LoadBytes does:
// a file that does not load gives LoadBytes's error) and returns it with
// its bit image.
func ReadImage(b []byte) (*Model, *Image, error) {
	m, err := LoadBytes(b)
	if err != nil {
		return nil, nil, err
	}
	f, err := safetensors.Read(b)
	if err != nil {
		return nil, nil, fmt.Errorf("packed: %v", err)
	}
	var a arch
	if err := json.NewDecoder(bytes.NewReader([]byte(f.Meta["arch"]))).Decode(&a); err != nil {
		return nil, nil, fmt.Errorf("packed: arch metadata: %v", err)
	}
	img := &Image{Integer: a.Integer != nil}
	for i, l := range a.Layers {
		if !l.weighted() {
			continue
		}
		if l.Encoding == EncSparse {
			return nil, nil, fmt.Errorf("packed: layer %d stores sparse codes (relative indices); bit-error images cover dense codes only (export without the sparse encoding)", i)
		}
		il := ImageLayer{Kind: l.Kind, Bits: l.Bits, Encoding: l.Encoding, Rows: l.rows(), Cols: l.cols()}
		il.Codes = append([]byte(nil), tensorData(f, i, "codes")...)
		if img.Integer {
			il.Bias = words(tensorData(f, i, "bias"))
			il.Mult = words(tensorData(f, i, "mult"))
			il.Shift = words(tensorData(f, i, "shift"))
		} else {
			il.Step = words(tensorData(f, i, "step"))
			il.Bias = words(tensorData(f, i, "bias"))
		}
		img.Layers = append(img.Layers, il)
	}
	return m, img, nil
}

func tensorData(f *safetensors.File, i int, what string) []byte {
	t, _ := f.Get(tensorName(i, what)) // present: LoadBytes checked every tensor
	return t.Data
}

func words(b []byte) []uint32 {
	w := make([]uint32, len(b)/4)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return w
}

// WithImage returns a model that runs img in place of m's weights; img
// must come from ReadImage of m's file (the same layers and sizes), its
// bits possibly flipped. Nothing in img is validated beyond its sizes,
// because it stands for memory corrupted after a validated load:
//
//   - a code field holding the pattern -2^(Bits-1), which is not a level,
//     decodes as 0, and so does every code of a base-3 byte above 242;
//     padding bits and digits are ignored;
//   - float steps and biases are used as stored: negative, huge or
//     non-finite values flow into the outputs (a non-finite hidden row
//     is coded as all zero points by the next layer, see quantizeRow; a
//     non-finite last layer gives non-finite logits);
//   - integer biases and multipliers are used as stored (v*m stays within
//     int64: |v| < 2^32, |m| <= 2^31), and a shift outside 1..62 reads as
//     the nearest of 1 and 62.
//
// m itself is not changed; the result is as safe for concurrent use as m.
func (m *Model) WithImage(img *Image) (*Model, error) {
	nm := &Model{In: m.In, Classes: m.Classes, Spec: m.Spec, Meta: m.Meta, dim: m.dim, chunk: m.chunk,
		actMax: m.actMax, xqMax: m.xqMax, accMax: m.accMax, sampleMax: m.sampleMax}
	if m.intNet != nil {
		if !img.Integer {
			return nil, fmt.Errorf("packed: WithImage: a float-mode image for an integer-mode model")
		}
		n, err := m.intNet.withImage(img)
		nm.intNet = n
		return nm, err
	}
	if img.Integer {
		return nil, fmt.Errorf("packed: WithImage: an integer-mode image for a float-mode model")
	}
	li := 0
	for _, o := range m.ops {
		if o.kind != opDense && o.kind != opConv {
			nm.ops = append(nm.ops, o) // stateless stages are shared
			continue
		}
		if li >= len(img.Layers) {
			return nil, fmt.Errorf("packed: WithImage: %d image layers, the model has more", len(img.Layers))
		}
		l := &img.Layers[li]
		li++
		codes, err := imageCodes(l, o.rows, o.cols)
		if err != nil {
			return nil, err
		}
		if (len(l.Step) != 1 && len(l.Step) != o.rows) || len(l.Bias) != o.rows {
			return nil, fmt.Errorf("packed: WithImage: layer %d: %d steps and %d biases for %d rows", li-1, len(l.Step), len(l.Bias), o.rows)
		}
		n := *o
		n.step = make([]float32, o.rows)
		n.bias = make([]float32, o.rows)
		for j := range n.step {
			n.step[j] = math.Float32frombits(l.Step[j%len(l.Step)])
			n.bias[j] = math.Float32frombits(l.Bias[j])
		}
		n.setCodes(codes, o.w2 != nil)
		nm.ops = append(nm.ops, &n)
	}
	if li != len(img.Layers) {
		return nil, fmt.Errorf("packed: WithImage: %d image layers for %d weighted layers", len(img.Layers), li)
	}
	return nm, nil
}

// withImage is WithImage for the integer network.
func (n *intNet) withImage(img *Image) (*intNet, error) {
	c := *n
	c.Layers = nil
	li := 0
	for _, l := range n.Layers {
		if l.Kind == "maxpool" {
			c.Layers = append(c.Layers, l)
			continue
		}
		if li >= len(img.Layers) {
			return nil, fmt.Errorf("packed: WithImage: %d image layers, the model has more", len(img.Layers))
		}
		il := &img.Layers[li]
		li++
		codes, err := imageCodes(il, l.Rows, l.Cols)
		if err != nil {
			return nil, err
		}
		if len(il.Bias) != l.Rows || len(il.Mult) != l.Rows || len(il.Shift) != l.Rows {
			return nil, fmt.Errorf("packed: WithImage: layer %d: bias, mult and shift need %d words", li-1, l.Rows)
		}
		nl := *l
		nl.Codes = append([]byte(nil), il.Codes...)
		nl.codes = codes
		nl.Bias = make([]int32, l.Rows)
		nl.Mult = make([]int32, l.Rows)
		nl.Shift = make([]int32, l.Rows)
		for j := range nl.Bias {
			nl.Bias[j] = int32(il.Bias[j])
			nl.Mult[j] = int32(il.Mult[j])
			nl.Shift[j] = min(max(int32(il.Shift[j]), 1), 62)
		}
		nl.wp = make([]int8, kernels.PackedLen(l.Rows, l.Cols))
		kernels.PackW(nl.wp, codes, l.Rows, l.Cols)
		c.Layers = append(c.Layers, &nl)
	}
	if li != len(img.Layers) {
		return nil, fmt.Errorf("packed: WithImage: %d image layers for %d weighted layers", len(img.Layers), li)
	}
	return &c, nil
}

// imageCodes decodes a layer's codes leniently (see WithImage).
func imageCodes(l *ImageLayer, rows, cols int) ([]int8, error) {
	n := int64(rows) * int64(cols)
	if l.Rows != rows || l.Cols != cols || int64(len(l.Codes)) != codeBytes(n, l.Bits, l.Encoding) {
		return nil, fmt.Errorf("packed: WithImage: image layer %dx%d with %d code bytes does not match the model's %dx%d", l.Rows, l.Cols, len(l.Codes), rows, cols)
	}
	codes := make([]int8, n)
	if l.Encoding == EncBase3 {
		DecodeBase3(codes, l.Codes)
	} else {
		DecodeBits(codes, l.Codes, l.Bits)
	}
	return codes, nil
}

// DecodeBits unpacks len(dst) codes of the given width from src (FORMAT.md)
// without validation: the pattern -2^(bits-1), which is not a level,
// decodes as 0, and padding bits are ignored. src must hold the codes.
func DecodeBits(dst []int8, src []byte, bits int) {
	decodeBits(dst, src, bits, false)
}

// DecodeBase3 unpacks len(dst) base-3 ternary codes from src without
// validation: every code of a byte above 242 decodes as 0, and padding
// digits are ignored.
func DecodeBase3(dst []int8, src []byte) {
	for i, b := range src {
		v := int(b)
		for j := 5 * i; j < min(5*i+5, len(dst)); j++ {
			if b > 242 {
				dst[j] = 0
				continue
			}
			dst[j] = int8(v%3 - 1)
			v /= 3
		}
	}
}

// InferIntHook is InferInt with a hook that sees, and may change, the
// activation codes every stage but the last writes, sample by sample
// (stage: the index in Integer().Layers; sample: the row of x), before the
// next stage reads them; fault models flip their bits. Samples run in
// order on the caller's goroutine. A hook must keep each code within its
// stage's range (OutMax of the stage or of the weighted layer before a
// pool), the bound the exact int16 pairs of the kernels rely on.
func (m *Model) InferIntHook(logits, pred []int32, x []uint8, batch int, hook func(stage, sample int, codes []uint8)) {
	if m.intNet == nil {
		panic("packed: InferIntHook on a float-mode model")
	}
	if batch < 0 || len(x) != batch*m.dim || len(logits) < batch*m.Classes || (pred != nil && len(pred) < batch) {
		panic(fmt.Sprintf("packed: InferIntHook: x has %d codes, logits %d, want [%d, %d] and [%d, %d]", len(x), len(logits), batch, m.dim, batch, m.Classes))
	}
	s := m.intNet.newScratch()
	s.hook = hook
	for r0 := 0; r0 < batch; r0 += intChunk {
		rows := min(intChunk, batch-r0)
		s.r0 = r0
		lg := logits[r0*m.Classes : (r0+rows)*m.Classes]
		m.intNet.forward(s, lg, x[r0*m.dim:(r0+rows)*m.dim], rows)
		if pred != nil {
			for i := 0; i < rows; i++ {
				pred[r0+i] = int32(ArgmaxInt(lg[i*m.Classes : (i+1)*m.Classes]))
			}
		}
	}
}

// InferHook is Infer on a float-epilogue model with a hook that sees, and
// may change, the activation codes each weighted layer's kernel reads,
// sample by sample, after the per-sample quantization and before the
// integer dot products: layer is the weighted layer's index (as in
// Image.Layers; layer 0 reads the model's input), sample the row of x,
// and codes the layer's input codes of that sample (dense: its Cols
// codes; conv: the sample's [C, H, W] codes, before im2col, whose padding
// is the zero point and never passes through the hook). A code the hook
// leaves above the layer's largest code (255, or 127 for 8-bit weights,
// the bound of the kernels' pairs) reads as that code, as a saturating
// load would; every other code reads as (code - off) * scale on the
// sample's grid, beyond the grid's range for codes it does not use.
// Samples run in order on the caller's goroutine; each sample's logits
// depend only on its own input and hook, never on batch. Recurrent
// layers are not weighted layers here: the hook does not see their codes.
// It panics on an
// integer-mode model or if the slices do not match batch.
func (m *Model) InferHook(dst, x []float32, batch int, hook func(layer, sample int, codes []uint8)) {
	if m.intNet != nil {
		panic("packed: InferHook on an integer-mode model (use InferIntHook)")
	}
	if batch < 0 || len(x) != batch*m.dim || len(dst) < batch*m.Classes {
		panic(fmt.Sprintf("packed: InferHook: x has %d values, dst %d, want [%d, %d] and [%d, %d]", len(x), len(dst), batch, m.dim, batch, m.Classes))
	}
	s := m.getScratch()
	s.threads, s.hook = 1, hook
	defer func() {
		s.hook = nil
		m.pool.Put(s)
	}()
	for r0 := 0; r0 < batch; r0 += m.chunk {
		rows := min(m.chunk, batch-r0)
		s.r0 = r0
		m.forward(s, dst[r0*m.Classes:(r0+rows)*m.Classes], x[r0*m.dim:(r0+rows)*m.dim], rows, false)
	}
}
