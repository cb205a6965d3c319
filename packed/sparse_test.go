package packed

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/quant"
)

// sparseCodes returns n random codes of b bits, a fraction density of
// them nonzero.
func sparseCodes(r *rand.Rand, n, b int, density float64) []int8 {
	q := qmax(b)
	c := make([]int8, n)
	for i := range c {
		if r.Float64() < density {
			v := int8(1 + r.IntN(q))
			if r.IntN(2) == 0 {
				v = -v
			}
			c[i] = v
		}
	}
	return c
}

func TestSparseRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 1))
	for _, b := range []int{2, 3, 5, 8} {
		for _, n := range []int{1, 3, 17, 129, 4000} {
			for _, dens := range []float64{0, 0.01, 0.1, 0.5, 1} {
				codes := sparseCodes(r, n, b, dens)
				for g := 1; g <= maxGapBits; g++ {
					entries, nbits := sparseCost(codes, b, g)
					s := packSparse(codes, b, g)
					if int64(len(s)) != (nbits+7)/8 {
						t.Fatalf("b=%d n=%d g=%d: stream %d bytes, cost %d bits", b, n, g, len(s), nbits)
					}
					if entries == 0 {
						continue
					}
					got := make([]int8, n)
					if err := unpackSparse(got, s, b, g, entries); err != nil {
						t.Fatalf("b=%d n=%d dens=%g g=%d: %v", b, n, dens, g, err)
					}
					if !slices.Equal(got, codes) {
						t.Fatalf("b=%d n=%d dens=%g g=%d: codes differ after the round trip", b, n, dens, g)
					}
				}
			}
		}
	}
}

// TestSparseLayout checks the byte layout of FORMAT.md's example.
func TestSparseLayout(t *testing.T) {
	// Ternary, 3-bit gaps (filler 7): +1 after 2 zeros, -1 after 9 zeros.
	codes := []int8{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1}
	s := packSparse(codes, 2, 3)
	// fields: gap 2 (010), value 1 (1), filler 7 (111), gap 2 (010), value 0 (0)
	// stream bits LSB first: 0,1,0, 1, 1,1,1, 0,1,0, 0 -> 0b01111010, 0b00000001
	if want := []byte{0x7a, 0x01}; !bytes.Equal(s, want) {
		t.Errorf("stream %#v, want %#v", s, want)
	}
	e, _ := sparseCost(codes, 2, 3)
	if e != 3 {
		t.Errorf("%d entries, want 3", e)
	}
}

func TestUnpackSparseRejects(t *testing.T) {
	codes := []int8{0, 0, 3, 0, -2}
	s := packSparse(codes, 3, 2) // entries: gap 2 + value, gap 1 + value
	dst := make([]int8, len(codes))
	for _, tt := range []struct {
		name    string
		src     []byte
		n       int
		entries int64
		want    string
	}{
		{"too many entries", s, 5, 3, "past"},
		{"too few codes", s, 3, 2, "past the layer"},
		{"extra byte", append(slices.Clone(s), 0), 5, 2, "take"},
		{"padding", []byte{s[0], s[1] | 0x80}, 5, 2, "padding"},
		{"bad value", []byte{0x1e | 0x18}, 5, 1, "not a nonzero"},
	} {
		err := unpackSparse(dst[:tt.n], tt.src, 3, 2, tt.entries)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
}

// prunedNet is randNet with a fraction density of nonzero codes, stored
// sparse where that is smaller.
func prunedNet(r *rand.Rand, in int, widths []int, classes, b int, density float64) testNet {
	n := randNet(r, in, widths, classes, b, "relu", true, false)
	for i, l := range n.a.Layers {
		if l.weighted() {
			n.data[i].Codes = sparseCodes(r, len(n.data[i].Codes), b, density)
			if i < len(n.a.Layers)-1 { // the last layer stays dense
				chooseSparse(&n.a.Layers[i], n.data[i])
			}
		}
	}
	return n
}

// withoutSparse returns a copy of m that runs every layer with the dense
// kernels.
func (m *Model) withoutSparse() *Model {
	c := &Model{In: m.In, Classes: m.Classes, Spec: m.Spec, Meta: m.Meta, dim: m.dim, chunk: m.chunk,
		actMax: m.actMax, xqMax: m.xqMax, accMax: m.accMax, sampleMax: m.sampleMax}
	for _, o := range m.ops {
		d := *o
		d.sp = nil
		c.ops = append(c.ops, &d)
	}
	return c
}

// TestSparseEngineIdentical checks that sparse-stored layers load to the
// same codes and that the sparse kernel gives exactly the dense kernels'
// logits and predictions, over odd sizes and bit widths.
func TestSparseEngineIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 2))
	for _, tt := range []struct {
		bits    int
		density float64
		signed  bool
	}{{2, 0.08, false}, {2, 0.2, true}, {3, 0.1, false}, {5, 0.03, true}, {8, 0.1, false}} {
		name := fmt.Sprintf("bits%d_d%g_signed%v", tt.bits, tt.density, tt.signed)
		n := prunedNet(r, 129, []int{17, 33}, 10, tt.bits, tt.density)
		if n.a.Layers[0].Encoding != EncSparse {
			t.Fatalf("%s: first layer stored %s, want sparse", name, n.a.Layers[0].Encoding)
		}
		m, err := LoadBytes(n.bytes(t))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.ops[0].sp == nil {
			t.Fatalf("%s: first layer runs the dense kernel", name)
		}
		d := m.withoutSparse()
		for _, batch := range []int{1, 3, 17, 129} {
			x := randInputs(r, batch, 129, tt.signed)
			got, want := make([]float32, batch*10), make([]float32, batch*10)
			m.Infer(got, x, batch)
			d.Infer(want, x, batch)
			if !slices.Equal(got, want) {
				t.Fatalf("%s batch %d: sparse logits differ from dense", name, batch)
			}
			pg, pw := make([]int32, batch), make([]int32, batch)
			m.Predict(pg, x, batch)
			d.Predict(pw, x, batch)
			if !slices.Equal(pg, pw) {
				t.Fatalf("%s batch %d: sparse predictions differ from dense", name, batch)
			}
		}
	}
}

// TestSparseStoredBytes checks that StoredBytes with the sparse option
// counts exactly the tensor bytes Export writes, and that a pruned layer
// goes sparse while a dense one stays dense.
func TestSparseStoredBytes(t *testing.T) {
	m, err := nn.Build("mlp:100-50-10", nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := m.Params()[0].W.Data // the first layer: 90% pruned
	for i := range w {
		if i%10 != 0 {
			w[i] = 0
		}
	}
	s, err := quant.Attach(m, quant.Config{Bits: 3})
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Sparse: true}
	a, data, err := fromModel(m, stateQuant(s), opt, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.Layers[0].Encoding != EncSparse || a.Layers[2].Encoding != EncBits {
		t.Errorf("encodings %s, %s: want sparse, bits", a.Layers[0].Encoding, a.Layers[2].Encoding)
	}
	var buf bytes.Buffer
	if err := encode(&buf, a, m.Spec, data, Meta{Options: opt}); err != nil {
		t.Fatal(err)
	}
	f, err := LoadBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	_ = f
	var tensors int64
	for i, l := range a.Layers {
		if l.weighted() {
			tensors += int64(len(packSparseOrDense(l, data[i]))) + 4*int64(len(data[i].Step)+l.rows())
		}
	}
	if got := StoredBytes(m, s, opt); got != tensors {
		t.Errorf("StoredBytes %d, written tensors %d", got, tensors)
	}
	if dense := StoredBytes(m, s, Options{}); dense <= tensors {
		t.Errorf("dense %d bytes not above sparse %d", dense, tensors)
	}
}

// packSparseOrDense returns a layer's code bytes as encode writes them.
func packSparseOrDense(l archLayer, d *denseData) []byte {
	if l.Encoding == EncSparse {
		return packSparse(d.Codes, l.Bits, l.GapBits)
	}
	b := make([]byte, codeBytes(int64(len(d.Codes)), l.Bits, l.Encoding))
	packBits(b, d.Codes, l.Bits)
	return b
}

// TestSparseNeedsVersion3 checks that older versions and the integer mode
// refuse sparse layers.
func TestSparseNeedsVersion3(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 3))
	n := prunedNet(r, 64, []int{16}, 4, 2, 0.05)
	for _, v := range []string{"1", "2"} {
		if _, err := LoadBytes(rewriteMeta(t, n.bytes(t), "format_version", v)); err == nil || !strings.Contains(err.Error(), "version 3") {
			t.Errorf("version %s with sparse layers: err %v", v, err)
		}
	}
}
