package ckpt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/resq-dev/resq/internal/safetensors"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/tensor"
)

// perturb sets every param and buffer to seeded random values so that a
// round trip cannot pass by rebuilding the same initialisation.
func perturb(m *nn.Model, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	for _, p := range m.Params() {
		for i := range p.W.Data {
			p.W.Data[i] = float32(rng.NormFloat64())
		}
	}
	for _, b := range m.Buffers() {
		for i := range b.T.Data {
			b.T.Data[i] = float32(rng.Float64() + 0.5)
		}
	}
}

func build(t *testing.T, spec string, in []int, seed uint64) *nn.Model {
	t.Helper()
	m, err := nn.Build(spec, in, seed)
	if err != nil {
		t.Fatal(err)
	}
	perturb(m, seed)
	return m
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		spec string
		in   []int
	}{
		{"mlp:17-9x2-3", nil},
		{"mlp:12-5-4,act=tanh,drop=0.2", []int{1, 3, 4}},
		{"cnn:4c3-bn-p2-8c3s2-fc6-3,drop=0.5", []int{3, 9, 9}},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		m := build(t, tt.spec, tt.in, uint64(i+1))
		path := filepath.Join(dir, "m"+strconv.Itoa(i)+".safetensors")
		cfg := json.RawMessage(`{"epochs":3}`)
		meta := Meta{Dataset: "synthetic", DatasetChecksum: "sha256:00", Train: cfg, Extra: map[string]string{"note": "x"}}
		if err := Save(path, m, meta); err != nil {
			t.Fatal(err)
		}
		got, gm, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		if gm.Format != FormatVersion || gm.Spec != tt.spec || !slices.Equal(gm.In, m.In) || gm.Classes != m.Classes ||
			gm.Dataset != "synthetic" || string(gm.Train) != string(cfg) || gm.Extra["note"] != "x" || gm.Version == "" {
			t.Errorf("%s: meta %+v", tt.spec, gm)
		}
		for j, p := range m.Params() {
			q := got.Params()[j]
			if q.Name != p.Name || !slices.Equal(q.W.Shape, p.W.Shape) || !slices.Equal(q.W.Data, p.W.Data) {
				t.Errorf("%s: param %q differs after the round trip", tt.spec, p.Name)
			}
		}
		bs := got.Buffers()
		for j, b := range m.Buffers() {
			if !slices.Equal(bs[j].T.Data, b.T.Data) {
				t.Errorf("%s: buffer %q differs after the round trip", tt.spec, b.Name)
			}
		}
		// The loaded model computes the same logits.
		d := 1
		for _, v := range m.In {
			d *= v
		}
		x := tensor.New(2, d)
		for k := range x.Data {
			x.Data[k] = float32(k%7) - 3
		}
		want := slices.Clone(m.Forward(x, false).Data)
		if y := got.Forward(x, false).Data; !slices.Equal(y, want) {
			t.Errorf("%s: logits %v, want %v", tt.spec, y, want)
		}
		// Deterministic bytes.
		var b1, b2 bytes.Buffer
		if err := Encode(&b1, m, meta); err != nil {
			t.Fatal(err)
		}
		if err := Encode(&b2, got, gm); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
			t.Errorf("%s: re-encoding a loaded checkpoint changed its bytes", tt.spec)
		}
	}
}

// rewrite re-encodes a valid checkpoint after edit has changed its tensors
// or metadata.
func rewrite(t *testing.T, b []byte, edit func(ts []safetensors.Tensor, meta map[string]string) []safetensors.Tensor) []byte {
	t.Helper()
	f, err := safetensors.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	ts := edit(slices.Clone(f.Tensors), f.Meta)
	var out bytes.Buffer
	if err := safetensors.Write(&out, ts, f.Meta); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func editMeta(t *testing.T, meta map[string]string, f func(*Meta)) {
	var m Meta
	if err := json.Unmarshal([]byte(meta["resq"]), &m); err != nil {
		t.Fatal(err)
	}
	f(&m)
	js, _ := json.Marshal(m)
	meta["resq"] = string(js)
}

func TestLoadRejects(t *testing.T) {
	m := build(t, "mlp:8-4-3", nil, 3)
	var buf bytes.Buffer
	if err := Encode(&buf, m, Meta{}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	tests := []struct {
		name string
		edit func([]safetensors.Tensor, map[string]string) []safetensors.Tensor
		want string
	}{
		{"missing tensor", func(ts []safetensors.Tensor, _ map[string]string) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(t safetensors.Tensor) bool { return t.Name == "2.bias" })
		}, `tensor "2.bias" of model spec "mlp:8-4-3" is missing`},
		{"wrong shape", func(ts []safetensors.Tensor, _ map[string]string) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "2.weight" {
					ts[i] = safetensors.FromF32("2.weight", []int{3, 2}, make([]float32, 6))
				}
			}
			return ts
		}, `tensor "2.weight" has shape [3 2], model spec wants [3 4]`},
		{"wrong dtype", func(ts []safetensors.Tensor, _ map[string]string) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "0.bias" {
					ts[i].DType = "I32"
				}
			}
			return ts
		}, `has dtype I32, want F32`},
		{"extra tensor", func(ts []safetensors.Tensor, _ map[string]string) []safetensors.Tensor {
			return append(ts, safetensors.FromF32("9.weight", []int{1}, []float32{1}))
		}, `tensor "9.weight" is not part of model spec`},
		{"newer format", func(ts []safetensors.Tensor, meta map[string]string) []safetensors.Tensor {
			meta["format"] = "2"
			return ts
		}, "format 2: this resq"},
		{"older format", func(ts []safetensors.Tensor, meta map[string]string) []safetensors.Tensor {
			meta["format"] = "0"
			return ts
		}, "retrain with `resq train`"},
		{"no format", func(ts []safetensors.Tensor, meta map[string]string) []safetensors.Tensor {
			delete(meta, "format")
			return ts
		}, "not a resq checkpoint"},
		{"bad meta json", func(ts []safetensors.Tensor, meta map[string]string) []safetensors.Tensor {
			meta["resq"] = "{"
			return ts
		}, `bad "resq" metadata`},
		{"bad spec", func(ts []safetensors.Tensor, meta map[string]string) []safetensors.Tensor {
			editMeta(t, meta, func(m *Meta) { m.Spec = "mlp:8" })
			return ts
		}, `"model.safetensors": nn: `},
		{"NaN weight", func(ts []safetensors.Tensor, _ map[string]string) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "2.weight" {
					w := make([]float32, 12)
					w[5] = float32(math.NaN())
					ts[i] = safetensors.FromF32("2.weight", []int{3, 4}, w)
				}
			}
			return ts
		}, `tensor "2.weight" holds NaN at element 5`},
		{"infinite bias", func(ts []safetensors.Tensor, _ map[string]string) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "0.bias" {
					ts[i] = safetensors.FromF32("0.bias", []int{4}, []float32{0, float32(math.Inf(1)), 0, 0})
				}
			}
			return ts
		}, `tensor "0.bias" holds +Inf at element 1`},
		{"classes", func(ts []safetensors.Tensor, meta map[string]string) []safetensors.Tensor {
			editMeta(t, meta, func(m *Meta) { m.Classes = 5 })
			return ts
		}, "metadata says 5 classes"},
	}
	for _, tt := range tests {
		b := rewrite(t, good, tt.edit)
		_, _, err := LoadBytes(b, "model.safetensors")
		if err == nil || !strings.HasPrefix(err.Error(), `ckpt: "model.safetensors": `) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
		if strings.Contains(tt.name, "format") && tt.name != "no format" && !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error does not wrap ErrFormat", tt.name)
		}
	}
	if _, _, err := LoadBytes(good[:len(good)-1], "model.safetensors"); err == nil || !strings.Contains(err.Error(), "safetensors:") {
		t.Errorf("truncated file: error %v", err)
	}
	if _, _, err := Load(filepath.Join(t.TempDir(), "absent")); err == nil || !strings.HasPrefix(err.Error(), "ckpt: ") {
		t.Errorf("absent file: error %v", err)
	}
	if err := Encode(&bytes.Buffer{}, m, Meta{Spec: "mlp:8-5-3"}); err == nil {
		t.Error("Encode accepted a meta spec that differs from the model's")
	}
}

func TestSaveKeepsOldFileOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := build(t, "mlp:4-3", nil, 1)
	if err := Save(path, m, Meta{Spec: "mlp:4-2"}); err == nil {
		t.Fatal("Save with a mismatched spec succeeded")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("failed Save changed the file to %q", b)
	}
}

// Hostile metadata (a corrupted or crafted file) asking for a huge model or
// input fails quickly, before the model is allocated.
func TestLoadHostile(t *testing.T) {
	m := build(t, "mlp:8-4-3", nil, 3) // 51 params
	var buf bytes.Buffer
	if err := Encode(&buf, m, Meta{}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	tests := []struct {
		spec string
		in   []int
		want string
	}{
		{"mlp:784-100000-10", nil, `spec "mlp:784-100000-10" needs 79500010 parameters, the file holds 51`},
		{"mlp:784-100000x1000-10", nil, "nn: model spec \"mlp:784-100000x1000-10\": 10078600000 parameters or more, more than the limit 1073741824"},
		{"mlp:8-1000x1000-3", []int{8}, "needs 1000011003 parameters, the file holds 51"},
		{"mlp:8-100000-3", []int{8}, "needs 1200003 parameters, the file holds 51"}, // above sizeSlack
		// Below sizeSlack the model is built and the first tensor that does
		// not fit is named.
		{"mlp:8-1000-3", []int{8}, `tensor "0.weight" has shape [4 8], model spec wants [1000 8]`},
		{"cnn:4096c3-4096c3-10", []int{3, 32, 32}, "needs 193056778 parameters, the file holds 51"},
		{"cnn:100000c3-100000c3-10", []int{3, 4, 4}, "parameters or more, more than the limit"},
		{"cnn:1c1-p100000-2", []int{1, 100000, 100000}, "the input has 10000000000 values per sample, more than the limit 67108864"},
		{"cnn:1c3-2", []int{1 << 40, 1 << 40, 1 << 40}, "the input has more than"},
		{"cnn:64c3-10", []int{3, 4096, 4096}, "values per sample, more than the limit"},
		{"cnn:1c9223372036854775807-10", []int{1, 8, 8}, "parameters or more"},
		{"cnn:8c3-10,x1e300", []int{1, 8, 8}, "maps, more than the limit"},
		{"mlp:8-4-3", []int{1 << 32, 1 << 32}, "model expects 8 inputs, dataset has more than"},
		{"mlp:8-4-3", []int{1 << 62, 4, 1, 1, 1, 1, 1, 1, 1}, "more than 8 dimensions"},
		{"mlp:8-" + strings.Repeat("1x1000-", 5) + "3", nil, "more than 4096 layers"},
	}
	for _, tt := range tests {
		b := rewrite(t, good, func(ts []safetensors.Tensor, meta map[string]string) []safetensors.Tensor {
			editMeta(t, meta, func(m *Meta) { m.Spec, m.In = tt.spec, tt.in })
			return ts
		})
		var err error
		var a, z runtime.MemStats
		runtime.ReadMemStats(&a)
		_, _, err = LoadBytes(b, "model.safetensors")
		runtime.ReadMemStats(&z)
		name := tt.spec
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		if err == nil || !strings.HasPrefix(err.Error(), `ckpt: "model.safetensors": `) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s %v: error %v, want one line containing %q", name, tt.in, err, tt.want)
		}
		if n := z.TotalAlloc - a.TotalAlloc; n > 2<<20 {
			t.Errorf("%s %v: LoadBytes allocated %d bytes before failing", name, tt.in, n)
		}
	}
}

func FuzzLoadBytes(f *testing.F) {
	for i, s := range []struct {
		spec string
		in   []int
	}{{"mlp:6-4-3", nil}, {"cnn:2c3-bn-p2-4,drop=0.5", []int{1, 6, 6}}} {
		m, err := nn.Build(s.spec, s.in, uint64(i))
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Encode(&buf, m, Meta{Dataset: "d", Extra: map[string]string{"k": "v"}}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, meta, err := LoadBytes(b, "fuzz.safetensors")
		if err != nil {
			if !strings.HasPrefix(err.Error(), `ckpt: "fuzz.safetensors": `) {
				t.Fatalf("error without prefix and name: %v", err)
			}
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, m, meta); err != nil {
			t.Fatalf("Encode of a loaded checkpoint: %v", err)
		}
		if _, _, err := LoadBytes(out.Bytes(), "fuzz.safetensors"); err != nil {
			t.Fatalf("reload of a re-encoded checkpoint: %v", err)
		}
	})
}

func ExampleSave() {
	m, err := nn.Build("mlp:4-3-2", nil, 1)
	if err != nil {
		panic(err)
	}
	path := filepath.Join(os.TempDir(), "resq-example.safetensors")
	defer os.Remove(path)
	if err := Save(path, m, Meta{Dataset: "synthetic"}); err != nil {
		panic(err)
	}
	m2, meta, err := Load(path)
	if err != nil {
		panic(err)
	}
	w, p := m2.Count()
	fmt.Println(meta.Spec, meta.In, meta.Classes, w, p)
	// Output: mlp:4-3-2 [4] 2 18 23
}
