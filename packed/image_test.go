package packed

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// intBytes converts a random float-mode test network to integer-mode
// file bytes.
func intBytes(t *testing.T, tn testNet, x []float32, n int) []byte {
	t.Helper()
	ia, idata, err := toInteger(tn.a, tn.data, x, n, IntOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := encodeInt(&b, ia, "test", idata, Meta{Dataset: "synthetic"}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestWithImageIdentity checks that an unmodified image runs exactly as
// the loaded model, in both modes and every encoding.
func TestWithImageIdentity(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		bits  int
		base3 bool
	}{{2, false}, {2, true}, {3, false}, {5, false}, {8, false}} {
		tn := randNet(r, 37, []int{19, 11}, 5, tc.bits, "relu", tc.bits == 3, tc.base3)
		x := randInputs(r, 40, 37, false)
		for _, b := range [][]byte{tn.bytes(t), intBytes(t, tn, x, 40)} {
			m, img, err := ReadImage(b)
			if err != nil {
				t.Fatal(err)
			}
			fm, err := m.WithImage(img.Clone())
			if err != nil {
				t.Fatal(err)
			}
			want, got := make([]float32, 40*5), make([]float32, 40*5)
			m.Infer(want, x, 40)
			fm.Infer(got, x, 40)
			if !slices.Equal(want, got) {
				t.Errorf("bits %d base3 %v integer %v: logits differ", tc.bits, tc.base3, img.Integer)
			}
		}
	}
}

// TestWithImageLenient checks the decode rules of a corrupted image:
// invalid code patterns read as 0, non-finite steps flow through, shifts
// are clamped.
func TestWithImageLenient(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	tn := randNet(r, 16, []int{8}, 3, 2, "relu", false, false)
	m, img, err := ReadImage(tn.bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	bad := img.Clone()
	bad.Layers[0].Codes[0] = 0b10101010 // four invalid ternary fields
	zero := img.Clone()
	zero.Layers[0].Codes[0] = 0
	x := randInputs(r, 4, 16, false)
	a, b := runImage(t, m, bad, x), runImage(t, m, zero, x)
	if !slices.Equal(a, b) {
		t.Errorf("invalid patterns do not decode as zero: %v vs %v", a, b)
	}
	inf := img.Clone()
	inf.Layers[1].Bias[0] = math.Float32bits(float32(math.Inf(1)))
	if v := runImage(t, m, inf, x)[0]; !math.IsInf(float64(v), 1) {
		t.Errorf("an infinite last-layer bias gives logit %v", v)
	}
	codes := make([]int8, 5)
	DecodeBase3(codes, []byte{250})
	if !slices.Equal(codes, make([]int8, 5)) {
		t.Errorf("base-3 byte 250 decodes as %v, want zeros", codes)
	}
	im, iimg, err := ReadImage(intBytes(t, tn, x, 4))
	if err != nil {
		t.Fatal(err)
	}
	sh := iimg.Clone()
	for j := range sh.Layers[0].Shift {
		sh.Layers[0].Shift[j] = 1 << 31 // negative: reads as shift 1
	}
	if _, err := im.WithImage(sh); err != nil {
		t.Fatal(err)
	}
	runImage(t, im, sh, x) // must not panic
	if _, err := im.WithImage(img); err == nil {
		t.Error("a float image on an integer model is accepted")
	}
}

func runImage(t *testing.T, m *Model, img *Image, x []float32) []float32 {
	t.Helper()
	fm, err := m.WithImage(img)
	if err != nil {
		t.Fatal(err)
	}
	n := len(x) / fm.dim
	out := make([]float32, n*fm.Classes)
	fm.Infer(out, x, n)
	return out
}

// TestInferIntHook checks that a hook that changes nothing leaves InferInt's
// logits alone, sees every sample of every stage but the last once, and
// that a changed code reaches the next stage.
func TestInferIntHook(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	tn := randNet(r, 21, []int{13, 7}, 4, 3, "relu", false, false)
	const n = 300 // more than one chunk
	x := randInputs(r, n, 21, false)
	m := toIntModel(t, tn, x, n)
	u := make([]uint8, len(x))
	m.QuantizeInput(u, x)
	want := make([]int32, n*4)
	m.InferInt(want, nil, u, n)
	got := make([]int32, n*4)
	seen := map[[2]int]int{}
	m.InferIntHook(got, nil, u, n, func(stage, sample int, codes []uint8) { seen[[2]int{stage, sample}]++ })
	if !slices.Equal(want, got) || len(seen) != 2*n {
		t.Fatalf("identity hook: logits equal %v, %d (stage, sample) calls, want %d", slices.Equal(want, got), len(seen), 2*n)
	}
	m.InferIntHook(got, nil, u, n, func(stage, sample int, codes []uint8) { clear(codes) })
	if slices.Equal(want, got) {
		t.Error("zeroed activations do not change the logits")
	}
}

// TestInferHook checks InferHook on float-epilogue MLPs and a CNN: a hook
// that changes nothing leaves Infer's logits alone and sees each weighted
// layer's codes of every sample once; a hook that changes codes by sample
// gives the same logits in one batch as in pieces; a code above the
// layer's largest code reads as that code.
func TestInferHook(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 3))
	const n = 300 // more than one chunk
	for _, tc := range []struct {
		name string
		tn   testNet
		d    int
	}{
		{"mlp/3-bit", randNet(r, 21, []int{13, 7}, 4, 3, "relu", false, false), 21},
		{"mlp/8-bit", randNet(r, 21, []int{13, 7}, 4, 8, "relu", true, false), 21},
		{"cnn/4-bit", randCNN(r, 3, 11, 9, 5, 6, 4, 4, true), 3 * 11 * 9},
	} {
		m, err := LoadBytes(tc.tn.bytes(t))
		if err != nil {
			t.Fatal(err)
		}
		x := randInputs(r, n, tc.d, true)
		c := m.Classes
		want, got := make([]float32, n*c), make([]float32, n*c)
		m.Infer(want, x, n)
		seen := map[[2]int]int{}
		m.InferHook(got, x, n, func(layer, sample int, codes []uint8) { seen[[2]int{layer, sample}] += len(codes) })
		layers := len(tc.tn.a.Layers)
		wl := 0
		for _, o := range m.ops {
			if o.kind == opDense || o.kind == opConv {
				if seen[[2]int{wl, n - 1}] != o.inSize {
					t.Errorf("%s: layer %d: hook saw %d codes of the last sample, want %d", tc.name, wl, seen[[2]int{wl, n - 1}], o.inSize)
				}
				wl++
			}
		}
		if !slices.Equal(want, got) || len(seen) != wl*n {
			t.Fatalf("%s (%d arch layers): identity hook: logits equal %v, %d (layer, sample) pairs, want %d", tc.name, layers, slices.Equal(want, got), len(seen), wl*n)
		}
		change := func(off int) func(layer, sample int, codes []uint8) {
			return func(layer, sample int, codes []uint8) {
				if layer > 0 {
					codes[(off+sample)%len(codes)] ^= 0x81
				}
			}
		}
		m.InferHook(want, x, n, change(0))
		for _, cut := range []int{1, 77, 200} {
			m.InferHook(got[:cut*c], x[:cut*tc.d], cut, change(0))
			m.InferHook(got[cut*c:], x[cut*tc.d:], n-cut, change(cut))
			if !slices.Equal(want, got) {
				t.Errorf("%s: logits of a batch of %d differ from pieces of %d and %d", tc.name, n, cut, n-cut)
			}
		}
		set := func(v uint8) func(layer, sample int, codes []uint8) {
			return func(layer, sample int, codes []uint8) {
				if layer > 0 {
					for j := range codes {
						codes[j] = v
					}
				}
			}
		}
		m.InferHook(want, x, n, set(127))
		m.InferHook(got, x, n, set(255))
		if eq := slices.Equal(want, got); eq != (tc.name == "mlp/8-bit") {
			t.Errorf("%s: codes 255 and 127 read the same: %v", tc.name, eq)
		}
	}
}
