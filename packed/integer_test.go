package packed

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/resq-dev/resq/internal/safetensors"
	"github.com/resq-dev/resq/packed/internal/kernels"
)

// intRef is the naive integer forward: direct loops over the unpacked
// codes, no GEMM kernel, no padding. It is what every kernel must match.
func intRef(n *intNet, x []uint8) []int32 {
	h := make([]int32, len(x))
	for i, v := range x {
		h[i] = int32(min(v, uint8(n.InMax)))
	}
	var logits []int32
	for _, l := range n.Layers {
		out := make([]int32, l.OutSize)
		switch l.Kind {
		case "dense":
			for j := 0; j < l.Rows; j++ {
				var s int32
				for k := 0; k < l.Cols; k++ {
					s += int32(l.codes[j*l.Cols+k]) * h[k]
				}
				out[j] = l.requant(s, j)
			}
		case "conv":
			for k := 0; k < l.Rows; k++ {
				for oy := 0; oy < l.OH; oy++ {
					for ox := 0; ox < l.OW; ox++ {
						var s int32
						for c := 0; c < l.C; c++ {
							for r := 0; r < l.R; r++ {
								for t := 0; t < l.S; t++ {
									iy, ix := oy*l.Stride-l.Pad+r, ox*l.Stride-l.Pad+t
									v := int32(l.PadValue)
									if iy >= 0 && iy < l.H && ix >= 0 && ix < l.W {
										v = h[(c*l.H+iy)*l.W+ix]
									}
									s += int32(l.codes[k*l.Cols+(c*l.R+r)*l.S+t]) * v
								}
							}
						}
						out[(k*l.OH+oy)*l.OW+ox] = l.requant(s, k)
					}
				}
			}
		case "maxpool":
			for c := 0; c < l.C; c++ {
				for oy := 0; oy < l.OH; oy++ {
					for ox := 0; ox < l.OW; ox++ {
						var best int32
						for r := 0; r < l.R; r++ {
							for t := 0; t < l.R; t++ {
								best = max(best, h[(c*l.H+oy*l.Stride+r)*l.W+ox*l.Stride+t])
							}
						}
						out[(c*l.OH+oy)*l.OW+ox] = best
					}
				}
			}
		}
		h, logits = out, out
	}
	return logits
}

// toIntModel converts a random float-mode test network to the integer
// mode with calibration inputs x [n, D] and loads it.
func toIntModel(t *testing.T, tn testNet, x []float32, n int) *Model {
	t.Helper()
	ia, idata, err := toInteger(tn.a, tn.data, x, n, IntOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := encodeInt(&b, ia, "test", idata, Meta{Dataset: "synthetic"}); err != nil {
		t.Fatal(err)
	}
	m, err := LoadBytes(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randInputs(r *rand.Rand, n, d int, signed bool) []float32 {
	x := make([]float32, n*d)
	for i := range x {
		if signed {
			x[i] = float32(r.NormFloat64())
		} else {
			x[i] = float32(r.IntN(256)) / 255
		}
	}
	return x
}

// TestIntegerKernelsMatchReference runs MLPs and CNNs of odd sizes at
// every weight width and both ternary encodings through every kernel the
// CPU has and compares the int32 logits with the naive reference.
func TestIntegerKernelsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 1))
	type tc struct {
		name string
		net  testNet
		in   int
	}
	var cases []tc
	for _, bits := range []int{2, 3, 4, 5, 6, 7, 8} {
		for _, sz := range []int{1, 3, 17, 129} {
			cases = append(cases, tc{"mlp", randNet(r, sz, []int{sz, 17}, 3, bits, "relu", sz%2 == 1, false), sz})
		}
		cases = append(cases, tc{"cnn", randCNN(r, 3, 9, 7, 5, 3, 4, bits, bits%2 == 0), 3 * 9 * 7})
	}
	cases = append(cases, tc{"base3", randNet(r, 129, []int{17}, 10, 2, "relu", false, true), 129})
	for _, c := range cases {
		bits := c.net.a.Layers[0].Bits
		for _, signed := range []bool{false, true} {
			batch := 1 + r.IntN(70)
			x := randInputs(r, batch, c.in, signed)
			m := toIntModel(t, c.net, x, batch)
			u := make([]uint8, len(x))
			m.QuantizeInput(u, x)
			var want []int32
			for i := 0; i < batch; i++ {
				want = append(want, intRef(m.intNet, u[i*c.in:(i+1)*c.in])...)
			}
			for _, kern := range kernels.Available() {
				prev, _ := kernels.Force(kern)
				got := make([]int32, batch*m.Classes)
				pred := make([]int32, batch)
				m.InferInt(got, pred, u, batch)
				kernels.Force(prev)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s %d bits in %d signed %v kernel %s: logit %d = %d, reference %d", c.name, bits, c.in, signed, kern, i, got[i], want[i])
					}
				}
				for i, p := range pred {
					if int(p) != ArgmaxInt(want[i*m.Classes:(i+1)*m.Classes]) {
						t.Fatalf("%s kernel %s: sample %d predicted %d", c.name, kern, i, p)
					}
				}
			}
		}
	}
}

// TestIntegerCloseToFloat checks that the integer-only logits, scaled by
// LogitScale, follow the simulated-quantized float forward of the same
// network: within 5% of the largest logit on calibration-like inputs.
func TestIntegerCloseToFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 2))
	for _, bits := range []int{2, 3, 8} {
		n := randNet(r, 64, []int{96, 48}, 10, bits, "relu", true, false)
		x := randInputs(r, 200, 64, false)
		m := toIntModel(t, n, x, 200)
		x64 := make([]float64, len(x))
		for i, v := range x {
			x64[i] = float64(v)
		}
		ref := n.forwardRef(x64, 200)
		got := make([]float32, 200*10)
		m.Infer(got, x, 200)
		var worst float64
		for s := 0; s < 200; s++ {
			var top float64
			for _, v := range ref[s*10 : (s+1)*10] {
				top = max(top, math.Abs(v))
			}
			for j := 0; j < 10; j++ {
				worst = max(worst, math.Abs(float64(got[s*10+j])-ref[s*10+j])/max(1, top))
			}
		}
		if worst > 0.05 {
			t.Errorf("%d bits: integer logits differ from the float forward by up to %.3g of the largest logit", bits, worst)
		}
	}
}

func TestRequant(t *testing.T) {
	for _, tt := range []struct {
		v      int64
		m, sh  int32
		want   int64
		factor float64
	}{
		{5, 1 << 30, 30, 5, 1}, {-5, 1 << 30, 30, -5, 1},
		{3, 1 << 30, 31, 2, 0.5}, {-3, 1 << 30, 31, -1, 0.5}, // halves go up: 1.5 -> 2, -1.5 -> -1
		{1 << 31, 1<<31 - 1, 62, 1, 0}, {-(1 << 31), 1<<31 - 1, 32, -(1<<30 - 1), 0}, // 0.99999 -> 1, -2^30+0.5 -> -2^30+1
	} {
		if got := Requant(tt.v, tt.m, tt.sh); got != tt.want {
			t.Errorf("Requant(%d, %d, %d) = %d, want %d", tt.v, tt.m, tt.sh, got, tt.want)
		}
	}
	r := rand.New(rand.NewPCG(17, 3))
	for i := 0; i < 1000; i++ {
		x := math.Exp(r.Float64()*30 - 20)
		m, sh, err := quantizeMultiplier(x)
		if err != nil {
			t.Fatal(err)
		}
		if got := float64(m) / math.Pow(2, float64(sh)); math.Abs(got-x) > x*1e-9 || m < 1<<30 {
			t.Fatalf("quantizeMultiplier(%g) = %d / 2^%d = %g", x, m, sh, got)
		}
	}
	if _, _, err := quantizeMultiplier(math.Pow(2, 31)); err == nil {
		t.Error("multiplier 2^31 accepted")
	}
}

func TestIntegerRejects(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 4))
	for _, tt := range []struct {
		act, want string
	}{{"sigmoid", "no integer form"}, {"tanh", "no integer form"}} {
		n := randNet(r, 8, []int{4}, 3, 2, tt.act, false, false)
		if _, _, err := toInteger(n.a, n.data, randInputs(r, 2, 8, false), 2, IntOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.act, err, tt.want)
		}
	}
	// A float-mode file claiming integer fields, and a bad mode.
	n := randNet(r, 8, []int{4}, 3, 2, "relu", false, false)
	n.a.Layers[0].OutMax = 3
	if _, err := LoadBytes(n.bytes(t)); err == nil || !strings.Contains(err.Error(), "integer-mode fields") {
		t.Errorf("float file with omax: err %v", err)
	}
}

// rewriteMeta re-encodes a packed file with one metadata entry changed
// ("" deletes it).
func rewriteMeta(t *testing.T, b []byte, key, value string) []byte {
	t.Helper()
	f, err := safetensors.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	md := map[string]string{}
	for k, v := range f.Meta {
		md[k] = v
	}
	if value == "" {
		delete(md, key)
	} else {
		md[key] = value
	}
	var out bytes.Buffer
	if err := safetensors.Write(&out, f.Tensors, md); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestFormatVersions checks that version 1 and 2 files still load, that the
// integer mode needs version 2, and that unknown modes are refused.
func TestFormatVersions(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 5))
	n := randNet(r, 8, []int{4}, 3, 2, "relu", false, false)
	for _, v := range []string{"1", "2"} {
		if _, err := LoadBytes(rewriteMeta(t, n.bytes(t), "format_version", v)); err != nil {
			t.Errorf("version %s file: %v", v, err)
		}
	}
	for _, tt := range []struct{ key, value, want string }{
		{"format_version", "5", "not supported"},
		{"mode", "fixed", "mode"},
	} {
		if _, err := LoadBytes(rewriteMeta(t, n.bytes(t), tt.key, tt.value)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s=%s: err %v", tt.key, tt.value, err)
		}
	}
	x := randInputs(r, 4, 8, false)
	ia, idata, err := toInteger(n.a, n.data, x, 4, IntOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := encodeInt(&b, ia, "test", idata, Meta{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ key, value, want string }{
		{"format_version", "1", "version 2"},
		{"mode", "", "no mode"},
	} {
		if _, err := LoadBytes(rewriteMeta(t, b.Bytes(), tt.key, tt.value)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("integer file with %s=%q: err %v", tt.key, tt.value, err)
		}
	}
}
