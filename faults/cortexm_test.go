package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/packed/cexport"
	"github.com/resq-dev/resq/tensor"
)

// TestCortexMFaults cross-compiles the generated C with its fault option
// for a Cortex-M4 (QEMU mps2-an386, scripts/mcu's startup code and linker
// script) and checks that the emulated device prints the lines of the Go
// engine running the same trial, for weight faults, activation faults and
// both, on ternary, 3- and 8-bit MLPs and a ternary CNN. It skips without
// arm-none-eabi-gcc and qemu-system-arm (scripts/mcu-check.sh installs
// both).
func TestCortexMFaults(t *testing.T) {
	gcc, err1 := exec.LookPath("arm-none-eabi-gcc")
	qemu, err2 := exec.LookPath("qemu-system-arm")
	if err1 != nil || err2 != nil {
		t.Skip("arm-none-eabi-gcc or qemu-system-arm not found: no Cortex-M run")
	}
	mcu, err := filepath.Abs("../scripts/mcu")
	if err != nil {
		t.Fatal(err)
	}
	ld, err := os.ReadFile(filepath.Join(mcu, "link.ld.in"))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(23, 5))
	const n = 20
	for _, tc := range []struct {
		spec string
		in   []int
		bits int
	}{
		{"mlp:33-17x2-5", []int{33}, 2},
		{"mlp:33-17x2-5", []int{33}, 3},
		{"mlp:33-17x2-5", []int{33}, 8},
		{"cnn:4c3-p2-6c3-p2-fc9-3", []int{2, 13, 11}, 2},
	} {
		d := tensor.Numel(tc.in)
		x := make([]float32, n*d)
		for i := range x {
			x[i] = float32(r.IntN(256)) / 255
		}
		m, img := intImage(t, tc.spec, tc.in, tc.bits, false, x, n)
		u := make([]uint8, len(x))
		m.QuantizeInput(u, x)
		dir := t.TempDir()
		if err := cexport.Write(dir, m, cexport.Options{Board: "mps2-an386"}); err != nil {
			t.Fatal(err)
		}
		script := strings.NewReplacer("@FLASH@", "4M", "@RAM@", "4M", "@STACK@", "8192").Replace(string(ld))
		if err := os.WriteFile(filepath.Join(dir, "link.ld"), []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "in.bin"), u, 0o644); err != nil {
			t.Fatal(err)
		}
		clean := harnessLines(m, u, n)
		for _, part := range []string{PartAll, PartActs, PartBoth} {
			name := fmt.Sprintf("%s/%d-bit/%s", tc.spec, tc.bits, part)
			want, flipped, macros := faultyLines(t, m, img, u, n, part, r.Uint64(), 0.01)
			if flipped == 0 || want == clean {
				t.Fatalf("%s: %d bits flipped, logits unchanged: the case tests nothing", name, flipped)
			}
			args := append([]string{"-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-O2", "-std=c99", "-Wall", "-Wextra"}, macros...)
			build := exec.Command(gcc, append(args, "--specs=nano.specs", "--specs=rdimon.specs", "-nostartfiles", "-T", "link.ld", "-Wl,--gc-sections",
				"-o", "h.elf", filepath.Join(mcu, "startup.c"), "main.c", "model.c")...)
			build.Dir = dir
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, out)
			}
			run := exec.Command(qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
				"-semihosting-config", "enable=on,target=native,arg=h,arg=in.bin", "-kernel", "h.elf")
			run.Dir = dir
			got, err := run.Output()
			if err != nil {
				t.Fatalf("%s: qemu: %v", name, err)
			}
			if string(got) != want {
				t.Errorf("%s: device lines\n%s\nGo engine\n%s", name, firstLines(got, 3), firstLines([]byte(want), 3))
			}
		}
	}
}
