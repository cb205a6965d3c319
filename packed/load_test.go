package packed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/internal/safetensors"
)

// smallNet is a valid 2-layer model used by the bad-input tests.
func smallNet() testNet {
	return randNet(rand.New(rand.NewPCG(4, 4)), 6, []int{5}, 3, 2, "relu", false, false)
}

// rewrite re-encodes a valid file after edit changes its tensors or
// metadata (the edited file is still a well-formed safetensors container).
func rewrite(t *testing.T, b []byte, edit func(ts []safetensors.Tensor, meta map[string]string) []safetensors.Tensor) []byte {
	t.Helper()
	f, err := safetensors.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	ts := append([]safetensors.Tensor(nil), f.Tensors...)
	meta := map[string]string{}
	for k, v := range f.Meta {
		meta[k] = v
	}
	ts = edit(ts, meta)
	var out bytes.Buffer
	if err := safetensors.Write(&out, ts, meta); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func editArch(t *testing.T, edit func(a map[string]any)) func([]safetensors.Tensor, map[string]string) []safetensors.Tensor {
	return func(ts []safetensors.Tensor, meta map[string]string) []safetensors.Tensor {
		var a map[string]any
		if err := json.Unmarshal([]byte(meta["arch"]), &a); err != nil {
			t.Fatal(err)
		}
		edit(a)
		j, _ := json.Marshal(a)
		meta["arch"] = string(j)
		return ts
	}
}

func layer0(a map[string]any) map[string]any { return a["layers"].([]any)[0].(map[string]any) }

func TestLoadRejects(t *testing.T) {
	good := smallNet().bytes(t)
	if _, err := LoadBytes(good); err != nil {
		t.Fatalf("valid file rejected: %v", err)
	}
	setTensor := func(name string, f func(*safetensors.Tensor)) func([]safetensors.Tensor, map[string]string) []safetensors.Tensor {
		return func(ts []safetensors.Tensor, meta map[string]string) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == name {
					f(&ts[i])
				}
			}
			return ts
		}
	}
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "safetensors"},
		{"truncated", good[:len(good)-3], "safetensors"},
		{"not packed", rewrite(t, good, func(ts []safetensors.Tensor, m map[string]string) []safetensors.Tensor {
			m["format"] = "ckpt"
			return ts
		}), "not a packed model"},
		{"version", rewrite(t, good, func(ts []safetensors.Tensor, m map[string]string) []safetensors.Tensor {
			m["format_version"] = "9"
			return ts
		}), "format version"},
		{"arch json", rewrite(t, good, func(ts []safetensors.Tensor, m map[string]string) []safetensors.Tensor { m["arch"] = "{"; return ts }), "arch metadata"},
		{"unknown field", rewrite(t, good, editArch(t, func(a map[string]any) { a["zzz"] = 1 })), "unknown field"},
		{"bits 9", rewrite(t, good, editArch(t, func(a map[string]any) { layer0(a)["bits"] = 9 })), "9-bit weights not supported"},
		{"bits 1", rewrite(t, good, editArch(t, func(a map[string]any) { layer0(a)["bits"] = 1 })), "1-bit weights not supported"},
		{"absurd out", rewrite(t, good, editArch(t, func(a map[string]any) { layer0(a)["out"] = 1 << 40 })), "out of range"},
		{"absurd in", rewrite(t, good, editArch(t, func(a map[string]any) { a["in"] = []int{1 << 30, 1 << 30} })), "input shape"},
		{"shape mismatch", rewrite(t, good, editArch(t, func(a map[string]any) { layer0(a)["in"] = 7 })), "does not match"},
		{"classes", rewrite(t, good, editArch(t, func(a map[string]any) { a["classes"] = 4 })), "classes"},
		{"conv kind", rewrite(t, good, editArch(t, func(a map[string]any) { layer0(a)["kind"] = "rnn" })), "not supported"},
		{"base3 at 3 bits", rewrite(t, good, editArch(t, func(a map[string]any) { layer0(a)["bits"] = 3; layer0(a)["encoding"] = "base3" })), "encoding"},
		{"steps", rewrite(t, good, editArch(t, func(a map[string]any) { layer0(a)["steps"] = 2 })), "steps"},
		{"invalid ternary code", rewrite(t, good, setTensor("layers.0.codes", func(x *safetensors.Tensor) {
			x.Data = append([]byte(nil), x.Data...)
			x.Data[0] = 0b10
		})), "not a level"},
		{"codes size", rewrite(t, good, setTensor("layers.0.codes", func(x *safetensors.Tensor) { x.Data, x.Shape = x.Data[1:], []int{len(x.Data) - 1} })), "want U8"},
		{"codes dtype", rewrite(t, good, setTensor("layers.0.codes", func(x *safetensors.Tensor) { x.DType = "I8" })), "want U8"},
		{"nan step", rewrite(t, good, setTensor("layers.0.step", func(x *safetensors.Tensor) {
			*x = safetensors.FromF32(x.Name, []int{1}, []float32{float32(math.NaN())})
		})), "NaN"},
		{"spec of another network", rewrite(t, good, func(ts []safetensors.Tensor, m map[string]string) []safetensors.Tensor {
			m["spec"] = "mlp:6-999999-3"
			return ts
		}), "spec metadata \"mlp:6-999999-3\""},
		{"step 0", rewrite(t, good, setTensor("layers.0.step", func(x *safetensors.Tensor) {
			*x = safetensors.FromF32(x.Name, []int{1}, []float32{0})
		})), "step 0 of row 0 with non-zero codes"},
		{"step 3e38", rewrite(t, good, setTensor("layers.0.step", func(x *safetensors.Tensor) {
			*x = safetensors.FromF32(x.Name, []int{1}, []float32{3e38})
		})), "step 3e+38 of row 0 out of range"},
		{"negative step", rewrite(t, good, setTensor("layers.0.step", func(x *safetensors.Tensor) {
			*x = safetensors.FromF32(x.Name, []int{1}, []float32{-0.5})
		})), "step -0.5 of row 0 out of range"},
		{"huge bias", rewrite(t, good, setTensor("layers.0.bias", func(x *safetensors.Tensor) {
			*x = safetensors.FromF32(x.Name, []int{5}, []float32{0, 0, 3e38, 0, 0})
		})), "bias 3e+38 of row 2 out of range"},
		{"bias shape", rewrite(t, good, setTensor("layers.0.bias", func(x *safetensors.Tensor) { *x = safetensors.FromF32(x.Name, []int{4}, make([]float32, 4)) })), "want [5]"},
		{"missing tensor", rewrite(t, good, func(ts []safetensors.Tensor, m map[string]string) []safetensors.Tensor { return ts[1:] }), "missing"},
		{"extra tensor", rewrite(t, good, func(ts []safetensors.Tensor, m map[string]string) []safetensors.Tensor {
			return append(ts, safetensors.FromF32("junk", []int{1}, []float32{1}))
		}), "tensors in file"},
	}
	for _, tt := range tests {
		_, err := LoadBytes(tt.b)
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "packed: ") || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q, want one line starting with packed: and mentioning %q", tt.name, msg, tt.want)
		}
	}
}

// TestLoadTruncations cuts a valid file at every length.
func TestLoadTruncations(t *testing.T) {
	good := smallNet().bytes(t)
	for n := 0; n < len(good); n++ {
		if _, err := LoadBytes(good[:n]); err == nil {
			t.Fatalf("truncation to %d of %d bytes accepted", n, len(good))
		}
	}
}

func TestLoadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.resq")
	if err := os.WriteFile(p, smallNet().bytes(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p + ".missing"); err == nil || !strings.HasPrefix(err.Error(), "packed: ") {
		t.Fatalf("missing file: %v", err)
	}
}

// FuzzLoadBytes feeds arbitrary bytes to the loader: it must return an
// error or a model that runs, never panic. Seeds live in
// testdata/fuzz/FuzzLoadBytes.
func FuzzLoadBytes(f *testing.F) {
	f.Add(smallNet().bytes(f))
	f.Add(randNet(rand.New(rand.NewPCG(9, 9)), 4, nil, 2, 2, "relu", true, true).bytes(f))
	f.Add(randCNN(rand.New(rand.NewPCG(9, 9)), 1, 5, 5, 2, 2, 2, 3, true).bytes(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := LoadBytes(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "packed: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		if m.dim > 1<<12 {
			return
		}
		x := make([]float32, 2*m.dim)
		for i := range x {
			x[i] = float32(i%7) / 7
		}
		m.Predict(make([]int32, 2), x, 2)
	})
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzLoadBytes when
// RESQ_WRITE_FUZZ_SEEDS=1 (after a format change).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("RESQ_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set RESQ_WRITE_FUZZ_SEEDS=1 to rewrite the fuzz seed corpus")
	}
	good := smallNet().bytes(t)
	seeds := map[string][]byte{
		"mlp-ternary": good,
		"mlp-base3":   randNet(rand.New(rand.NewPCG(9, 9)), 4, []int{3}, 2, 2, "tanh", true, true).bytes(t),
		"cnn-3bit":    randCNN(rand.New(rand.NewPCG(9, 9)), 1, 5, 5, 2, 2, 2, 3, true).bytes(t),
		"truncated":   good[:len(good)/2],
		"header-only": good[:8],
		"bad-code-0b10": rewrite(t, good, func(ts []safetensors.Tensor, m map[string]string) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == "layers.0.codes" {
					ts[i].Data = append([]byte{0b10}, ts[i].Data[1:]...)
				}
			}
			return ts
		}),
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzLoadBytes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
