//go:build linux

package main

// More reliability tests: outputs that are not regular files,
// data and weights that are not finite, empty splits and lists, sweeps
// whose cells fail, changed data, damaged float models and long dataset
// paths, all through run() as a user would type them.

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/resq-dev/resq/data"
)

// runLine runs a command line and returns its exit status, stdout and
// stderr; it fails the test on a panic trace.
func runLine(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	for _, bad := range []string{"panic", "goroutine ", ".go:"} {
		if strings.Contains(errb.String(), bad) {
			t.Errorf("resq %s: stderr has %q:\n%s", strings.Join(args, " "), bad, errb.String())
		}
	}
	return code, out.String(), errb.String()
}

// lastLine is the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// wantFail checks that a command line fails with one "resq" error line, the
// last on stderr, containing every string of want.
func wantFail(t *testing.T, code int, stderr string, want ...string) {
	t.Helper()
	if code == 0 {
		t.Fatalf("exit status 0, want an error; stderr:\n%s", stderr)
	}
	n := 0
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if strings.HasPrefix(l, "resq ") {
			n++
		}
	}
	last := lastLine(stderr)
	if n != 1 || !strings.HasPrefix(last, "resq ") {
		t.Errorf("want one error line, last on stderr:\n%s", stderr)
	}
	for _, w := range want {
		if !strings.Contains(last, w) {
			t.Errorf("error line %q does not mention %q", last, w)
		}
	}
}

// writeNPY writes one NPY file.
func writeNPY(t *testing.T, path string, shape []int, v any) {
	t.Helper()
	var b bytes.Buffer
	if err := data.WriteNPY(&b, shape, v); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b.Bytes())
}

func TestReliabilityOutputsNotRegular(t *testing.T) {
	f := newRelFixture(t)
	want, err := os.ReadFile(f.packed)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("symlink", func(t *testing.T) {
		target := filepath.Join(f.dir, "target.rqm")
		writeFile(t, target, []byte("old"))
		link := filepath.Join(f.dir, "link.rqm")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		mustRun(t, "export", f.qckpt, "--out", link)
		if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("the link was replaced (%v)", err)
		}
		if got, _ := os.ReadFile(target); !bytes.Equal(got, want) {
			t.Error("the link's target does not hold the model")
		}
	})
	t.Run("named pipe", func(t *testing.T) {
		fifo := filepath.Join(f.dir, "pipe")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Skip(err)
		}
		got := make(chan []byte)
		go func() { b, _ := os.ReadFile(fifo); got <- b }()
		code, stdout, stderr := runLine(t, "export", f.qckpt, "--out", fifo)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if b := <-got; !bytes.Equal(b, want) {
			t.Errorf("the reader got %d bytes, want the %d of the model", len(b), len(want))
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
			t.Fatalf("the pipe was replaced (%v)", err)
		}
		if !strings.Contains(stdout, ": "+itoa(len(want))+" bytes") {
			t.Errorf("stdout %q does not give the %d bytes written", stdout, len(want))
		}
	})
	t.Run("full device", func(t *testing.T) {
		full := filepath.Join(f.dir, "full")
		if err := syscall.Mknod(full, syscall.S_IFCHR|0o666, 1<<8|7); err != nil {
			t.Skip(err)
		}
		code, _, stderr := runLine(t, "export", f.qckpt, "--out", full)
		wantFail(t, code, stderr, "full", "no space left", "disk full")
		if st, err := os.Lstat(full); err != nil || st.Mode()&fs.ModeCharDevice == 0 {
			t.Fatalf("the device was replaced (%v)", err)
		}
	})
	t.Run("read-only file system", func(t *testing.T) {
		ro := filepath.Join(f.dir, "ro")
		if err := os.Mkdir(ro, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount("tmpfs", ro, "tmpfs", syscall.MS_RDONLY, "size=64k"); err != nil {
			t.Skipf("cannot mount a read-only tmpfs: %v", err)
		}
		defer syscall.Unmount(ro, 0)
		for _, args := range [][]string{
			{"train", "--model", "mlp:6-5-3", "--data", f.dataA, "--epochs", "1", "--out", filepath.Join(ro, "m.st")},
			{"retrain", f.ckpt, "--bits", "2", "--data", f.dataA, "--epochs", "1", "--out", filepath.Join(ro, "r.st")},
		} {
			code, _, stderr := runLine(t, args...)
			wantFail(t, code, stderr, "read-only file system")
			if strings.Count(stderr, "\n") != 1 {
				t.Errorf("resq %s: trained before failing:\n%s", args[0], stderr)
			}
		}
	})
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

func TestReliabilityBadData(t *testing.T) {
	f := newRelFixture(t)
	d := f.dir
	p := func(n string) string { return filepath.Join(d, n) }
	parts := strings.Split(strings.TrimPrefix(f.dataA, "npy:"), ",")
	set := func(i int, path string) string {
		q := append([]string(nil), parts...)
		q[i] = path
		return "npy:" + strings.Join(q, ",")
	}
	nan := make([]float32, 30*6)
	nan[7*6+2] = float32(nanValue())
	writeNPY(t, p("nan_x.npy"), []int{30, 6}, nan)
	writeNPY(t, p("empty_x.npy"), []int{0, 6}, []float32{})
	writeNPY(t, p("empty_y.npy"), []int{0}, []uint8{})
	huge := make([]float64, 60)
	huge[4] = 1e20
	writeNPY(t, p("huge_y.npy"), []int{60}, huge)
	if err := os.Mkdir(p("dir.npy"), 0o755); err != nil {
		t.Fatal(err)
	}
	emptyTest := "npy:" + parts[0] + "," + parts[1] + "," + p("empty_x.npy") + "," + p("empty_y.npy")
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"NaN test features (eval)", []string{"eval", f.ckpt, "--data", set(2, p("nan_x.npy"))}, []string{"nan_x.npy", "row 7, feature 2 is NaN"}},
		{"NaN test features (infer)", []string{"infer", f.packed, "--data", set(2, p("nan_x.npy"))}, []string{"nan_x.npy", "NaN"}},
		{"empty test split (eval)", []string{"eval", f.ckpt, "--data", emptyTest}, []string{"empty_x.npy", "no rows"}},
		{"empty test split (infer)", []string{"infer", f.packed, "--data", emptyTest}, []string{"empty_x.npy", "no rows"}},
		{"label 1e20", []string{"eval", f.ckpt, "--data", set(1, p("huge_y.npy"))}, []string{"huge_y.npy", "label 1e+20 of row 4 out of range"}},
		{"folder as NPY file", []string{"eval", f.ckpt, "--data", set(0, p("dir.npy"))}, []string{"dir.npy", "is a folder"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runLine(t, c.args...)
			wantFail(t, code, stderr, c.want...)
		})
	}
}

func nanValue() float64 { var z float64; return z / z }

func TestReliabilitySweeps(t *testing.T) {
	f := newRelFixture(t)
	spec := func(name, extra string) string {
		return writeFile(t, filepath.Join(f.dir, name+".yaml"), []byte(f.sweepSpecA+extra))
	}
	t.Run("empty list", func(t *testing.T) {
		s := writeFile(t, filepath.Join(f.dir, "empty.yaml"), []byte(strings.Replace(f.sweepSpecA, "bits: [2]", "bits: []", 1)))
		code, _, stderr := runLine(t, "sweep", s, "--out", filepath.Join(f.dir, "e"))
		wantFail(t, code, stderr, "empty.yaml:5", "bits is an empty list")
	})
	t.Run("negative workers", func(t *testing.T) {
		code, _, stderr := runLine(t, "sweep", spec("w", ""), "--out", filepath.Join(f.dir, "w"), "--workers", "-1")
		wantFail(t, code, stderr, "--workers -1")
		if code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
	t.Run("cells that cannot run", func(t *testing.T) {
		for _, c := range []struct{ name, extra, want string }{
			{"val", "val_size: 1000\n", "validation size 1000"},
			{"twn", "quant: {rule: twn}\n", "rule twn is ternary only"},
		} {
			src := strings.Replace(f.sweepSpecA, "bits: [2]", "bits: [2, 3]", 1) + c.extra
			s := writeFile(t, filepath.Join(f.dir, c.name+".yaml"), []byte(src))
			out := filepath.Join(f.dir, "cant-"+c.name)
			code, _, stderr := runLine(t, "sweep", s, "--out", out)
			wantFail(t, code, stderr, c.want)
			if _, err := os.Stat(filepath.Join(out, "results.jsonl")); err == nil {
				t.Errorf("%s: a cell was recorded", c.name)
			}
		}
	})
	t.Run("every cell fails", func(t *testing.T) {
		s := spec("nan", "")
		src, _ := os.ReadFile(s)
		s = writeFile(t, s, []byte(strings.Replace(string(src), "float: {epochs: 1, batch: 20}", "float: {epochs: 2, batch: 20, lr: 1e30}", 1)))
		code, _, stderr := runLine(t, "sweep", s, "--out", filepath.Join(f.dir, "nan"))
		wantFail(t, code, stderr, "3 of 3 cells run failed")
	})
	t.Run("long dataset path", func(t *testing.T) {
		long := filepath.Join(f.dir, strings.Repeat("a-rather-long-folder-name-", 3)[:70])
		if err := os.Mkdir(long, 0o755); err != nil {
			t.Fatal(err)
		}
		ds := writeRelNPY(t, long, "a", 60, 6, 3, 1)
		s := writeFile(t, filepath.Join(f.dir, "long.yaml"), []byte(strings.Replace(f.sweepSpecA, f.dataA, ds, 1)))
		out := filepath.Join(f.dir, "long")
		if code, _, stderr := runLine(t, "sweep", s, "--out", out); code != 0 {
			t.Fatalf("sweep: exit %d\n%s", code, stderr)
		}
		if code, _, stderr := runLine(t, "report", out); code != 0 {
			t.Fatalf("report: exit %d\n%s", code, stderr)
		}
	})
	t.Run("changed data", func(t *testing.T) {
		dir := filepath.Join(f.dir, "changing")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		ds := writeRelNPY(t, dir, "c", 60, 6, 3, 1)
		s := writeFile(t, filepath.Join(f.dir, "changing.yaml"), []byte(strings.Replace(f.sweepSpecA, f.dataA, ds, 1)))
		out := filepath.Join(f.dir, "changed")
		mustRun(t, "sweep", s, "--out", out)
		writeRelNPY(t, dir, "c", 60, 6, 3, 2)
		code, _, stderr := runLine(t, "sweep", s, "--out", out)
		wantFail(t, code, stderr, "the data changed", "new --out folder")
	})
	t.Run("corrupt float model", func(t *testing.T) {
		s := spec("heal", "")
		out := filepath.Join(f.dir, "heal")
		mustRun(t, "sweep", s, "--out", out, "--no-report")
		// Keep the float record only and truncate its model.
		res := filepath.Join(out, "results.jsonl")
		b, _ := os.ReadFile(res)
		writeFile(t, res, []byte(strings.SplitAfter(string(b), "\n")[0]))
		models, _ := filepath.Glob(filepath.Join(out, "models", "*.safetensors"))
		if len(models) != 1 {
			t.Fatalf("models %v, want the float model only", models)
		}
		mb, _ := os.ReadFile(models[0])
		writeFile(t, models[0], mb[:len(mb)/3])
		code, _, stderr := runLine(t, "sweep", s, "--out", out, "--no-report")
		if code != 0 || !strings.Contains(stderr, "saved model cannot be used") {
			t.Fatalf("exit %d, want the float model trained again:\n%s", code, stderr)
		}
	})
}

// TestReliabilityReproduceSaysWhere checks that reproduce without --out
// says where it writes before it starts (here it then stops at a bad flag).
func TestReliabilityReproduceSaysWhere(t *testing.T) {
	t.Chdir(t.TempDir())
	code, _, stderr := runLine(t, "reproduce", "--preset", "quick", "--workers", "-1")
	if code != 2 || !strings.HasPrefix(stderr, `reproduce: writing into "out/quick"`) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat("out"); err == nil {
		t.Error("out/ was created by a command that stopped at its flags")
	}
}
