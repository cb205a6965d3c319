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
)

// TestCortexMFaults cross-compiles the generated C with its fault option
// for a Cortex-M4 (QEMU mps2-an386, scripts/mcu's startup code and linker
// script) and checks that the emulated device prints the lines of the Go
// engine running the same corrupted memory. It skips without
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
	x := make([]float32, n*33)
	for i := range x {
		x[i] = float32(r.IntN(256)) / 255
	}
	for _, bits := range []int{2, 3} {
		m, img := intImage(t, "mlp:33-17x2-5", []int{33}, bits, false, x, n)
		u := make([]uint8, len(x))
		m.QuantizeInput(u, x)
		state, ber := r.Uint64(), 0.01
		fm, flipped, err := Corrupt(m, img, PartAll, state, ber)
		if err != nil {
			t.Fatal(err)
		}
		want := harnessLines(fm, u, n)
		if flipped == 0 || want == harnessLines(m, u, n) {
			t.Fatalf("%d-bit: %d bits flipped, logits unchanged: the case tests nothing", bits, flipped)
		}
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
		build := exec.Command(gcc, "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-O2", "-std=c99", "-Wall", "-Wextra",
			fmt.Sprintf("-DRESQ_FAULT_SEED=%dull", state), fmt.Sprintf("-DRESQ_FAULT_BER_Q64=%dull", Threshold(ber)),
			"--specs=nano.specs", "--specs=rdimon.specs", "-nostartfiles", "-T", "link.ld", "-Wl,--gc-sections",
			"-o", "h.elf", filepath.Join(mcu, "startup.c"), "main.c", "model.c")
		build.Dir = dir
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("%d-bit: %v\n%s", bits, err, out)
		}
		run := exec.Command(qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
			"-semihosting-config", "enable=on,target=native,arg=h,arg=in.bin", "-kernel", "h.elf")
		run.Dir = dir
		got, err := run.Output()
		if err != nil {
			t.Fatalf("%d-bit: qemu: %v", bits, err)
		}
		if string(got) != want {
			t.Errorf("%d-bit: device lines\n%s\nGo engine\n%s", bits, firstLines(got, 3), firstLines([]byte(want), 3))
		}
	}
}
