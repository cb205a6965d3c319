package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.bin")
	for _, want := range []string{"first", "second, longer contents", ""} {
		if err := WriteFile(p, func(w io.Writer) error {
			_, err := io.WriteString(w, want)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("contents %q, want %q", got, want)
		}
		if names := listDir(t, dir); len(names) != 1 || names[0] != "out.bin" {
			t.Fatalf("folder holds %v, want only out.bin", names)
		}
	}
}

func TestWriteFileKeepsMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, func(w io.Writer) error { _, err := w.Write([]byte("y")); return err }); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
}

func TestWriteFileFailureLeavesOldFile(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		wantHint string
	}{
		{"enospc", &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, "disk full"},
		{"edquot", syscall.EDQUOT, "quota"},
		{"erofs", syscall.EROFS, "read-only"},
		{"eacces", syscall.EACCES, "permission denied"},
		{"plain", errors.New("encoder broke"), "encoder broke"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "keep.txt")
			if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := WriteFile(p, func(w io.Writer) error {
				// Write more than the buffer so part of it reaches the temp file.
				if _, err := w.Write(make([]byte, 200000)); err != nil {
					return err
				}
				return tc.err
			})
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, fmt.Sprintf("atomicfile: %q: ", p)) || !strings.Contains(msg, tc.wantHint) {
				t.Errorf("error %q: want prefix %q and %q", msg, "atomicfile: "+p, tc.wantHint)
			}
			got, _ := os.ReadFile(p)
			if string(got) != "old" {
				t.Errorf("destination now %d bytes, want old contents", len(got))
			}
			if names := listDir(t, dir); len(names) != 1 {
				t.Errorf("temporary file left behind: %v", names)
			}
		})
	}
}

func TestWriteFileMissingFolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "such", "f")
	called := false
	err := WriteFile(p, func(w io.Writer) error { called = true; return nil })
	if err == nil || called {
		t.Fatalf("err %v, called %v: want error before write", err, called)
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "create it first") {
		t.Errorf("error %q lacks cause or advice", err)
	}
}

func TestWriteFileOntoFolder(t *testing.T) {
	dir := t.TempDir()
	err := WriteFile(dir, func(w io.Writer) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("err %v, want 'is a directory'", err)
	}
}

func TestCopy(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a")
	dst := filepath.Join(dir, "b")
	if err := os.WriteFile(src, []byte("payload"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dst)
	if string(got) != "payload" {
		t.Fatalf("copied %q", got)
	}
	if err := Copy(dst, filepath.Join(dir, "missing")); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("copy of missing source: %v", err)
	}
	got, _ = os.ReadFile(dst)
	if string(got) != "payload" {
		t.Fatalf("failed copy changed destination to %q", got)
	}
}

func ExampleWriteFile() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "result.json")
	err := WriteFile(p, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, `{"accuracy": 0.98}`)
		return err
	})
	b, _ := os.ReadFile(p)
	fmt.Print(string(b), err)
	// Output:
	// {"accuracy": 0.98}
	// <nil>
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	if err := CheckWritable(filepath.Join(dir, "new.bin")); err != nil {
		t.Errorf("writable folder: %v", err)
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Errorf("CheckWritable left %v", names)
	}
	if err := CheckWritable(filepath.Join(dir, "absent", "x.bin")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing folder: %v", err)
	}
	if err := CheckWritable(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("folder as file: %v", err)
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if f, err := os.CreateTemp(ro, "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skip("running as root: a read-only mode does not stop writes")
	}
	if err := CheckWritable(filepath.Join(ro, "x.bin")); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("read-only folder: %v", err)
	}
}
