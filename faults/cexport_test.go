package faults

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/packed/cexport"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
)

// intImage exports a random network to an integer-mode packed file and
// reads it back with its image.
func intImage(t *testing.T, spec string, in []int, bits int, base3 bool, x []float32, n int) (*packed.Model, *packed.Image) {
	t.Helper()
	m, err := nn.Build(spec, in, 5)
	if err != nil {
		t.Fatal(err)
	}
	s, err := quant.Direct(m, quant.Config{Bits: bits})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.rqp")
	if _, err := packed.ExportInteger(path, m, s, x, n, packed.IntOptions{}, packed.Meta{Options: packed.Options{Base3: base3}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pm, img, err := packed.ReadImage(b)
	if err != nil {
		t.Fatal(err)
	}
	return pm, img
}

func harnessLines(m *packed.Model, u []uint8, n int) string {
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

// TestCFaultsMatchGo compiles the generated C with its fault options and
// checks that the harness prints the lines of the Go engine running the
// same trial (Corrupt and InferActs with the same state and rate): weight
// faults, activation faults and both, for ternary (both packings), 3-, 5-
// and 8-bit MLPs and a CNN.
func TestCFaultsMatchGo(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found: the generated C is not compiled")
	}
	r := rand.New(rand.NewPCG(21, 1))
	for _, tc := range []struct {
		spec  string
		in    []int
		bits  int
		base3 bool
		ber   float64
	}{
		{"mlp:33-17x2-5", []int{33}, 2, false, 0.01},
		{"mlp:33-17x2-5", []int{33}, 2, true, 0.01},
		{"mlp:33-17x2-5", []int{33}, 3, false, 0.003},
		{"mlp:20-9-4", []int{20}, 5, false, 0.02},
		{"mlp:33-17x2-5", []int{33}, 8, false, 0.01},
		{"cnn:4c3-p2-6c3-p2-fc9-3", []int{2, 13, 11}, 2, false, 0.01},
	} {
		name := fmt.Sprintf("%s/%d-bit/base3=%v", tc.spec, tc.bits, tc.base3)
		t.Run(name, func(t *testing.T) {
			d := tensor.Numel(tc.in)
			const n = 40
			x := make([]float32, n*d)
			for i := range x {
				x[i] = float32(r.IntN(256)) / 255
			}
			m, img := intImage(t, tc.spec, tc.in, tc.bits, tc.base3, x, n)
			u := make([]uint8, n*d)
			m.QuantizeInput(u, x)
			files, err := cexport.Generate(m, cexport.Options{Name: "net"})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for f, b := range files {
				if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			in := filepath.Join(dir, "in.bin")
			if err := os.WriteFile(in, u, 0o644); err != nil {
				t.Fatal(err)
			}
			src := string(files["model.c"])
			for _, inc := range regexp.MustCompile(`#include\s*(\S+)`).FindAllStringSubmatch(src, -1) {
				if inc[1] != "<stdint.h>" && inc[1] != "<string.h>" && inc[1] != `"model.h"` {
					t.Errorf("model.c includes %s", inc[1])
				}
			}
			if regexp.MustCompile(`\b(malloc|calloc|free|printf)\b`).MatchString(src) {
				t.Error("model.c calls the allocator or stdio")
			}
			clean := harnessLines(m, u, n)
			for _, part := range []string{PartAll, PartActs, PartBoth} {
				state := r.Uint64()
				want, flipped, macros := faultyLines(t, m, img, u, n, part, state, tc.ber)
				if flipped == 0 || want == clean {
					t.Fatalf("%s: %d bits flipped, logits unchanged: the case tests nothing", part, flipped)
				}
				bin := filepath.Join(dir, "net")
				args := append([]string{"-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"}, macros...)
				cmd := exec.Command(gcc, append(args, "-o", bin, filepath.Join(dir, "model.c"), filepath.Join(dir, "main.c"))...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("gcc %s: %v\n%s", strings.Join(macros, " "), err, out)
				}
				got, err := exec.Command(bin, in).Output()
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != want {
					t.Errorf("%s: C lines differ from the Go engine's (%d bits flipped):\nC:\n%s\nGo:\n%s", part, flipped, firstLines(got, 3), firstLines([]byte(want), 3))
				}
				if runtime.GOARCH != "amd64" {
					continue
				}
				// -mgeneral-regs-only (x86) rejects any floating point.
				cmd = exec.Command(gcc, append(args, "-mgeneral-regs-only", "-c", "-o", filepath.Join(dir, "model.o"), filepath.Join(dir, "model.c"))...)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s: model.c needs floating point: %v\n%s", part, err, out)
				}
			}
		})
	}
}

// faultyLines returns the harness lines of the Go engine for one trial
// of part (PartAll: weights; PartActs; PartBoth) at state and ber, the
// bits flipped, and the C macros that compile the same trial.
func faultyLines(t *testing.T, m *packed.Model, img *packed.Image, u []uint8, n int, part string, state uint64, ber float64) (string, int, []string) {
	t.Helper()
	macros := []string{fmt.Sprintf("-DRESQ_FAULT_SEED=%dull", state)}
	fm, flipped := m, 0
	if part != PartActs {
		var err error
		if fm, flipped, err = Corrupt(m, img, PartAll, state, ber); err != nil {
			t.Fatal(err)
		}
		macros = append(macros, fmt.Sprintf("-DRESQ_FAULT_BER_Q64=%dull", Threshold(ber)))
	}
	if part == PartAll {
		return harnessLines(fm, u, n), flipped, macros
	}
	logits, pred, af, err := InferActs(fm, u, n, state, ber)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(strconv.Itoa(int(pred[i])))
		for _, v := range logits[i*m.Classes : (i+1)*m.Classes] {
			b.WriteString(" " + strconv.Itoa(int(v)))
		}
		b.WriteByte('\n')
	}
	return b.String(), flipped + af, append(macros, fmt.Sprintf("-DRESQ_FAULT_ACT_BER_Q64=%dull", Threshold(ber)))
}

func firstLines(b []byte, k int) string {
	l := bytes.SplitN(b, []byte("\n"), k+1)
	return string(bytes.Join(l[:min(k, len(l))], []byte("\n")))
}

// TestActsFlipRate checks the activation flip count against the binomial
// spread and that the samples' streams are not shifted copies of one
// another (which would make their flips coincide).
func TestActsFlipRate(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	const n = 300
	x := make([]float32, n*33)
	for i := range x {
		x[i] = float32(r.IntN(256)) / 255
	}
	m, _ := intImage(t, "mlp:33-17x2-5", []int{33}, 3, false, x, n)
	u := make([]uint8, len(x))
	m.QuantizeInput(u, x)
	const ber = 0.02
	_, _, got := inferActs(m, u, n, actFaults{seed: 4, t: Threshold(ber)})
	mean := ber * 8 * (17 + 17) * n
	if sd := math.Sqrt(mean); math.Abs(float64(got)-mean) > 5*sd {
		t.Errorf("%d activation flips, want %.0f ± %.0f", got, mean, 5*sd)
	}
	a, b := Stream{State: TrialSeed(4^saltActs, 0)}, Stream{State: TrialSeed(4^saltActs, 1)}
	a.Next()
	if a.Next() == b.Next() {
		t.Error("sample 1's stream is sample 0's shifted by one draw")
	}
	p1, _, _ := inferActs(m, u, n, actFaults{seed: 4, t: Threshold(ber)})
	p2, _, _ := inferActs(m, u, n, actFaults{seed: 4, t: Threshold(ber)})
	if !slices.Equal(p1, p2) {
		t.Error("activation faults are not reproducible")
	}
}

// floatPacked exports a random network to a float-epilogue packed model.
func floatPacked(t *testing.T, spec string, in []int, bits int) *packed.Model {
	t.Helper()
	m, err := nn.Build(spec, in, 7)
	if err != nil {
		t.Fatal(err)
	}
	s, err := quant.Direct(m, quant.Config{Bits: bits})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.rqp")
	if _, err := packed.Export(path, m, s, packed.Meta{}); err != nil {
		t.Fatal(err)
	}
	pm, err := packed.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

// TestActsFloat checks activation faults on float-epilogue models (3- and
// 8-bit MLPs, a ternary CNN): the results are reproducible and do not
// depend on the number of goroutines (and so the batch sizes) the samples
// run in, the flip count is within the binomial spread of BER times the
// bits of the codes between layers, and rate 0 leaves the logits and the
// predictions as they are.
func TestActsFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 4))
	const n = 300 // more than one chunk of the engine
	for _, tc := range []struct {
		spec string
		in   []int
		bits int
		ber  float64
	}{
		{"mlp:33-17x2-5", []int{33}, 3, 0.02},
		{"mlp:33-17x2-5", []int{33}, 8, 0.02},
		{"cnn:4c3-p2-6c3-p2-fc9-3", []int{2, 13, 11}, 2, 0.005},
	} {
		name := fmt.Sprintf("%s/%d-bit", tc.spec, tc.bits)
		m := floatPacked(t, tc.spec, tc.in, tc.bits)
		d := tensor.Numel(tc.in)
		x := make([]float32, n*d)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		clean := make([]float32, n*m.Classes)
		m.Infer(clean, x, n)
		codes := 0
		m.InferHook(make([]float32, n*m.Classes), x, n, func(layer, _ int, c []uint8) {
			if layer > 0 {
				codes += len(c)
			}
		})
		_, lg0, fl0 := inferActsFloat(m, x, n, actFaults{seed: 5, t: 0})
		if !slices.Equal(lg0, clean) || slices.Max(fl0) != 0 {
			t.Errorf("%s: rate 0 changes the logits", name)
		}
		af := actFaults{seed: 5, t: Threshold(tc.ber)}
		pred, logits, flips := inferActsFloat(m, x, n, af)
		total := 0
		for _, f := range flips {
			total += f
		}
		mean := tc.ber * 8 * float64(codes)
		if sd := math.Sqrt(mean); math.Abs(float64(total)-mean) > 5*sd {
			t.Errorf("%s: %d activation flips, want %.0f ± %.0f", name, total, mean, 5*sd)
		}
		if slices.Equal(logits, clean) {
			t.Errorf("%s: %d flips leave the logits unchanged", name, total)
		}
		for _, w := range []int{1, 3, 7} {
			af.workers = w
			p, l, f := inferActsFloat(m, x, n, af)
			if !slices.Equal(p, pred) || !slices.Equal(l, logits) || !slices.Equal(f, flips) {
				t.Errorf("%s: %d goroutines give other results than 2", name, w)
			}
		}
		p := &packedSubject{m: m, test: data.Split{N: n, D: d, X: x, Y: make([]int32, n)}}
		want := make([]int32, n)
		m.Predict(want, x, n)
		wrong0 := countWrong(want, p.test.Y)
		if w, _, f, err := p.evalDynamic(m, &actFaults{seed: 5, t: 0}); err != nil || w != wrong0 || f != 0 {
			t.Errorf("%s: rate 0: %d wrong, %d flips, %v; want %d wrong", name, w, f, err, wrong0)
		}
	}
}
