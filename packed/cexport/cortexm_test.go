package cexport

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCortexM cross-compiles the generated C for a Cortex-M4 (QEMU
// mps2-an386) and a Cortex-M0 (QEMU microbit) with scripts/mcu's startup
// code and linker script, runs it under newlib semihosting and compares
// its lines with the Go engine's. It skips when arm-none-eabi-gcc or
// qemu-system-arm is missing (scripts/mcu-check.sh installs both).
func TestCortexM(t *testing.T) {
	gcc, err1 := exec.LookPath("arm-none-eabi-gcc")
	qemu, err2 := exec.LookPath("qemu-system-arm")
	if err1 != nil || err2 != nil {
		t.Skip("arm-none-eabi-gcc or qemu-system-arm not found: no Cortex-M run")
	}
	mcu, err := filepath.Abs("../../scripts/mcu")
	if err != nil {
		t.Fatal(err)
	}
	ld, err := os.ReadFile(filepath.Join(mcu, "link.ld.in"))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(17, 9))
	const n = 20
	x := make([]float32, n*1*13*11)
	for i := range x {
		x[i] = float32(r.IntN(256)) / 255
	}
	m := intModel(t, "cnn:4c3-p2-6c3-p2-fc9-3", []int{1, 13, 11}, 2, false, true, x, n)
	u := make([]uint8, len(x))
	m.QuantizeInput(u, x)
	want := goLines(m, u, n)
	for _, b := range []struct{ board, cpu, flash, ram, stack string }{
		{"mps2-an386", "cortex-m4", "4M", "4M", "8192"},
		{"microbit", "cortex-m0", "256K", "16K", "2048"},
	} {
		dir := t.TempDir()
		if err := Write(dir, m, Options{Board: b.board}); err != nil {
			t.Fatal(err)
		}
		script := strings.NewReplacer("@FLASH@", b.flash, "@RAM@", b.ram, "@STACK@", b.stack).Replace(string(ld))
		if err := os.WriteFile(filepath.Join(dir, "link.ld"), []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "in.bin"), u, 0o644); err != nil {
			t.Fatal(err)
		}
		build := exec.Command(gcc, "-mcpu="+b.cpu, "-mthumb", "-mfloat-abi=soft", "-O2", "-std=c99", "-Wall", "-Wextra",
			"--specs=nano.specs", "--specs=rdimon.specs", "-nostartfiles", "-T", "link.ld", "-Wl,--gc-sections",
			"-o", "h.elf", filepath.Join(mcu, "startup.c"), "main.c", "model.c")
		build.Dir = dir
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", b.board, err, out)
		}
		run := exec.Command(qemu, "-M", b.board, "-nographic", "-monitor", "none", "-serial", "none",
			"-semihosting-config", "enable=on,target=native,arg=h,arg=in.bin", "-kernel", "h.elf")
		run.Dir = dir
		var stderr bytes.Buffer
		run.Stderr = &stderr
		got, err := run.Output()
		if err != nil {
			t.Fatalf("%s: qemu: %v\n%s", b.board, err, stderr.Bytes())
		}
		if string(got) != want {
			t.Fatalf("%s: device lines\n%s\nGo engine\n%s", b.board, got, want)
		}
		if !strings.Contains(stderr.String(), "stack-bytes") {
			t.Errorf("%s: no stack report: %q", b.board, stderr.String())
		}
	}
}
