package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestWriteFileSpecialFiles checks that only regular files are replaced:
// a symbolic link is followed (its target replaced, the link kept), a
// character device and a named pipe are written through, and a socket is
// refused.
func TestWriteFileSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	put := func(p, s string) error {
		return WriteFile(p, func(w io.Writer) error { _, err := io.WriteString(w, s); return err })
	}

	t.Run("symlink", func(t *testing.T) {
		target := filepath.Join(dir, "target.bin")
		if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "link.bin")
		if err := os.Symlink("target.bin", link); err != nil {
			t.Fatal(err)
		}
		if err := put(link, "new"); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("link replaced by a file (%v)", err)
		}
		got, _ := os.ReadFile(target)
		if string(got) != "new" {
			t.Errorf("target holds %q, want %q", got, "new")
		}
		if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
			t.Errorf("target mode %v, want 0600 kept", st.Mode().Perm())
		}
	})

	t.Run("dangling symlink", func(t *testing.T) {
		link := filepath.Join(dir, "dangling")
		if err := os.Symlink("absent.bin", link); err != nil {
			t.Fatal(err)
		}
		if err := put(link, "x"); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "absent.bin"))
		if err != nil || string(got) != "x" {
			t.Errorf("link target: %q, %v", got, err)
		}
	})

	t.Run("symlink loop", func(t *testing.T) {
		a, b := filepath.Join(dir, "loopa"), filepath.Join(dir, "loopb")
		if err := os.Symlink("loopb", a); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("loopa", b); err != nil {
			t.Fatal(err)
		}
		err := put(a, "x")
		if err == nil || !strings.Contains(err.Error(), "symbolic links") {
			t.Errorf("error %v, want one about symbolic links", err)
		}
	})

	// The devices are made in the test's folder (as root), never written
	// at /dev: a regression would replace the system's device node.
	t.Run("character device", func(t *testing.T) {
		null := mkCharDev(t, filepath.Join(dir, "null"), 1, 3)
		if err := put(null, "discarded"); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(null); err != nil || st.Mode()&fs.ModeCharDevice == 0 {
			t.Fatalf("the device was replaced (%v)", err)
		}
	})

	t.Run("device that is full", func(t *testing.T) {
		full := mkCharDev(t, filepath.Join(dir, "full"), 1, 7)
		err := put(full, "x")
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("error %v, want ENOSPC with advice", err)
		}
		if st, err := os.Lstat(full); err != nil || st.Mode()&fs.ModeCharDevice == 0 {
			t.Fatalf("the device was replaced (%v)", err)
		}
	})

	t.Run("named pipe", func(t *testing.T) {
		fifo := filepath.Join(dir, "pipe")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		got := make(chan string)
		go func() {
			b, _ := os.ReadFile(fifo)
			got <- string(b)
		}()
		if err := put(fifo, "through the pipe"); err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != "through the pipe" {
			t.Errorf("reader got %q", s)
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
			t.Fatalf("pipe replaced (%v)", err)
		}
	})

	t.Run("socket", func(t *testing.T) {
		sock := filepath.Join(dir, "s.sock")
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Skipf("socket: %v", err)
		}
		defer syscall.Close(fd)
		if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
			t.Skipf("bind: %v", err)
		}
		err = put(sock, "x")
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("error %v, want a refusal", err)
		}
		if st, err := os.Lstat(sock); err != nil || st.Mode()&fs.ModeSocket == 0 {
			t.Fatalf("socket replaced (%v)", err)
		}
	})
}

// mkCharDev makes a character device node major:minor at path (Linux
// numbering: 1:3 is null, 1:7 is full), or skips the test where that is not
// allowed (not root, a nodev file system).
func mkCharDev(t *testing.T, path string, major, minor int) string {
	t.Helper()
	if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, major<<8|minor); err != nil {
		t.Skipf("mknod %s: %v", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("open %s: %v (nodev file system?)", path, err)
	}
	f.Close()
	return path
}
