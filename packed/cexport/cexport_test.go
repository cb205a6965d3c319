package cexport

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
)

// intModel builds, quantizes and exports a random network of spec to an
// integer-mode packed model, calibrated on x [n, D].
func intModel(t testing.TB, spec string, in []int, bits int, base3, perChannel bool, x []float32, n int) *packed.Model {
	t.Helper()
	m, err := nn.Build(spec, in, 3)
	if err != nil {
		t.Fatal(err)
	}
	s, err := quant.Direct(m, quant.Config{Bits: bits, PerChannel: perChannel})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.resq")
	if _, err := packed.ExportInteger(path, m, s, x, n, packed.IntOptions{}, packed.Meta{Options: packed.Options{Base3: base3}, Dataset: "synthetic"}); err != nil {
		t.Fatal(err)
	}
	pm, err := packed.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

// goLines are the harness lines of the Go engine for input codes u.
func goLines(m *packed.Model, u []uint8, n int) string {
	logits := make([]int32, n*m.Classes)
	pred := make([]int32, n)
	m.InferInt(logits, pred, u, n)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(strconv.Itoa(int(pred[i])))
		for _, v := range logits[i*m.Classes : (i+1)*m.Classes] {
			b.WriteString(" " + strconv.Itoa(int(v)))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestHostBitExact compiles the generated C with gcc -std=c99 -Wall
// -Wextra -Werror and checks that its lines equal the Go engine's, for
// MLPs and CNNs at every width 2..8 (ternary in both packings), with
// nonnegative and signed inputs.
func TestHostBitExact(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found: the generated C is not compiled")
	}
	r := rand.New(rand.NewPCG(17, 7))
	for _, tc := range []struct {
		spec              string
		in                []int
		bits              int
		base3, perChannel bool
		signed            bool // inputs in [-1, 1]: the input grid has a zero point
	}{
		{"mlp:33-17x2-5", []int{33}, 2, false, false, false},
		{"mlp:33-17x2-5", []int{33}, 3, false, false, true},
		{"cnn:4c3-p2-6c3-p2-fc9-3", []int{2, 13, 11}, 2, false, true, true},
		{"mlp:33-17x2-5", []int{33}, 2, true, true, false},
		{"mlp:33-129-3", []int{33}, 3, false, true, false},
		{"mlp:20-9-4", []int{20}, 5, false, false, false},
		{"mlp:33-17x2-5", []int{33}, 4, false, true, false},
		{"mlp:21-7-3", []int{21}, 7, false, false, false},
		{"mlp:21-7-3", []int{21}, 6, false, true, true},
		{"mlp:33-17x2-5", []int{33}, 8, false, false, false},
		{"cnn:4c3-p2-6c3-p2-fc9-3", []int{1, 13, 11}, 2, true, true, false},
		{"cnn:4c3-p2-6c3-p2-fc9-3", []int{1, 13, 11}, 3, false, false, false},
		{"cnn:4c3-p2-6c3-p2-fc9-3", []int{1, 13, 11}, 8, false, true, false},
	} {
		d := 1
		for _, v := range tc.in {
			d *= v
		}
		const n = 150
		x := make([]float32, n*d)
		for i := range x {
			x[i] = float32(r.IntN(256)) / 255
			if tc.signed {
				x[i] = 2*x[i] - 1
			}
		}
		m := intModel(t, tc.spec, tc.in, tc.bits, tc.base3, tc.perChannel, x, n)
		dir := t.TempDir()
		if err := Write(dir, m, Options{Name: "net"}); err != nil {
			t.Fatal(err)
		}
		exe := filepath.Join(dir, "harness")
		cmd := exec.Command(gcc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-o", exe, "main.c", "model.c")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %d bits: gcc: %v\n%s", tc.spec, tc.bits, err, out)
		}
		u := make([]uint8, len(x))
		m.QuantizeInput(u, x)
		// Codes above the input grid are clamped alike in Go and C.
		u[0], u[d+1] = 255, 255
		run := exec.Command(exe)
		run.Stdin = bytes.NewReader(u)
		got, err := run.Output()
		if err != nil {
			t.Fatalf("%s: harness: %v", tc.spec, err)
		}
		if want := goLines(m, u, n); string(got) != want {
			gl, wl := strings.Split(string(got), "\n"), strings.Split(want, "\n")
			for i := range wl {
				if i >= len(gl) || gl[i] != wl[i] {
					t.Fatalf("%s %d bits base3 %v: line %d: C %q, Go %q", tc.spec, tc.bits, tc.base3, i, gl[min(i, len(gl)-1)], wl[i])
				}
			}
		}
		// The model file names the file-input mode too.
		in := filepath.Join(dir, "in.bin")
		if err := os.WriteFile(in, u[:3*d], 0o644); err != nil {
			t.Fatal(err)
		}
		got, err = exec.Command(exe, in).Output()
		if err != nil || string(got) != goLines(m, u[:3*d], 3) {
			t.Fatalf("%s: file input: %v %q", tc.spec, err, got)
		}
	}
}

func TestNameAndFit(t *testing.T) {
	for _, name := range []string{"9lives", "a-b", "int", "", strings.Repeat("x", 40)} {
		if CheckName(name) == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if err := CheckName("mnist_mlp"); err != nil {
		t.Error(err)
	}
	err := Fit(Sizes{WeightBytes: 269 << 10, ScratchBytes: 2000}, "microbit")
	if err == nil || !strings.Contains(err.Error(), "flash") || !strings.Contains(err.Error(), "262144") {
		t.Errorf("int8 MLP on the micro:bit: %v", err)
	}
	if err := Fit(Sizes{WeightBytes: 70 << 10, ScratchBytes: 2000}, "microbit"); err != nil {
		t.Error(err)
	}
	if err := Fit(Sizes{WeightBytes: 1000, ScratchBytes: 15 << 10}, "microbit"); err == nil || !strings.Contains(err.Error(), "RAM") {
		t.Errorf("scratch over RAM: %v", err)
	}
}

// TestBase3Division checks the division-free v/3 of the generated code.
func TestBase3Division(t *testing.T) {
	for v := uint32(0); v < 256; v++ {
		if (v*171)>>9 != v/3 {
			t.Fatalf("(%d*171)>>9 = %d", v, (v*171)>>9)
		}
	}
}
