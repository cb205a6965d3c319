//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/resq-dev/resq/data"
)

// writeNPYSet writes an NPY dataset of d features and 3 classes with
// ntrain and ntest rows into dir and returns its npy: name.
func writeNPYSet(t *testing.T, dir, prefix string, ntrain, ntest, d int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var paths []string
	for _, part := range []struct {
		name string
		n    int
	}{{"train", ntrain}, {"test", ntest}} {
		x := make([]float32, part.n*d)
		y := make([]uint8, part.n)
		for i := range y {
			y[i] = uint8(rng.IntN(3))
			for j := range d {
				x[i*d+j] = rng.Float32()
			}
		}
		for _, a := range []struct {
			suffix string
			shape  []int
			v      any
		}{{"x", []int{part.n, d}, x}, {"y", []int{part.n}, y}} {
			var b bytes.Buffer
			if err := data.WriteNPY(&b, a.shape, a.v); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, prefix+"_"+part.name+"_"+a.suffix+".npy")
			writeFile(t, p, b.Bytes())
			paths = append(paths, p)
		}
	}
	return "npy:" + strings.Join(paths, ",")
}

// buildResq builds the resq binary into dir.
func buildResq(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "resq")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSignalsStopInference runs the built resq on an inference that takes
// far longer than the test waits (a wide model over 20000 samples), sends
// SIGINT or SIGTERM, and checks that it stops, with exit status 130 or 143
// and one line that says so.
func TestSignalsStopInference(t *testing.T) {
	if testing.Short() {
		t.Skip("builds resq and runs a slow inference")
	}
	dir := t.TempDir()
	bin := buildResq(t, dir)
	small := writeNPYSet(t, dir, "small", 30, 10, 64, 1)
	big := writeNPYSet(t, dir, "big", 30, 20000, 64, 2)
	ck, q, model := filepath.Join(dir, "f.st"), filepath.Join(dir, "q.st"), filepath.Join(dir, "q.rqm")
	mustRun(t, "train", "--model", "mlp:64-4096x2-3", "--data", small, "--epochs", "1", "--batch", "30", "--out", ck)
	mustRun(t, "quantize", ck, "--bits", "2", "--data", small, "--out", q)
	mustRun(t, "export", q, "--out", model)

	// infer stops between batches and a timed eval between passes (both
	// run for --seconds, so they are still running when the signal comes
	// however fast the machine); an untimed eval's pass does not watch the
	// context, so the grace period ends it.
	for _, c := range []struct {
		args []string
		sig  syscall.Signal
		code int
	}{
		{[]string{"infer", model, "--data", big, "--batch", "1", "--seconds", "600"}, syscall.SIGINT, 130},
		{[]string{"infer", model, "--data", big, "--batch", "1", "--seconds", "600"}, syscall.SIGTERM, 143},
		{[]string{"eval", ck, "--data", big, "--batch", "1", "--seconds", "600"}, syscall.SIGINT, 130},
	} {
		t.Run(c.args[0]+" "+c.sig.String(), func(t *testing.T) {
			var stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, c.args...)
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			t0 := time.Now()
			if err := cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			took := time.Since(t0)
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("%s ended with %v after the signal, want exit status %d\n%s", c.args[0], err, c.code, stderr.String())
			}
			if ee.ExitCode() != c.code {
				t.Errorf("exit status %d, want %d\n%s", ee.ExitCode(), c.code, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "resq "+c.args[0]+": ") || strings.Contains(stderr.String(), "goroutine ") {
				t.Errorf("stderr, want one error line:\n%s", stderr.String())
			}
			t.Logf("stopped %v after the signal: %s", took.Round(time.Millisecond), lines[0])
		})
	}
}
