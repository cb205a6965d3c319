package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFile atomically replaces path with the bytes that write produces.
//
// write receives a buffered writer on a temporary file in path's folder; the
// buffer is flushed, the file fsynced, closed and renamed over path, and the
// folder fsynced. If write or any step fails, the temporary file is removed,
// path keeps its previous contents (or stays absent), and the error names
// path. The new file has mode 0644 (subject to umask), or the mode of the
// file it replaces.
func WriteFile(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	mode := fs.FileMode(0o644)
	if st, serr := os.Stat(path); serr == nil {
		if st.IsDir() {
			return fmt.Errorf("atomicfile: %s: is a directory", path)
		}
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return wrap(path, "create temporary file", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err = write(bw); err != nil {
		return wrap(path, "write", err)
	}
	if err = bw.Flush(); err != nil {
		return wrap(path, "write", err)
	}
	if err = f.Chmod(mode); err != nil {
		return wrap(path, "chmod", err)
	}
	if err = f.Sync(); err != nil {
		return wrap(path, "fsync", err)
	}
	if err = f.Close(); err != nil {
		return wrap(path, "close", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return wrap(path, "rename", err)
	}
	// The rename is done: from here on the new file is in place, so a
	// failed folder sync is reported but the temporary is already gone.
	if serr := syncDir(dir); serr != nil {
		return wrap(path, "fsync folder", serr)
	}
	return nil
}

// Copy atomically copies the file src to dst (see WriteFile).
func Copy(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return wrap(src, "open", err)
	}
	defer in.Close()
	return WriteFile(dst, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		// Some file systems cannot fsync folders (EINVAL); nothing to do then.
		return err
	}
	return nil
}

// wrap turns err into a one-line error naming path with advice for the
// common causes.
func wrap(path, op string, err error) error {
	var hint string
	switch {
	case errors.Is(err, syscall.ENOSPC):
		hint = "disk full: free space on that file system or choose another folder"
	case errors.Is(err, syscall.EDQUOT):
		hint = "disk quota exceeded: free space or choose another folder"
	case errors.Is(err, syscall.EROFS):
		hint = "read-only file system: choose a writable folder"
	case errors.Is(err, fs.ErrPermission):
		hint = "permission denied: make the folder writable or choose another one"
	case errors.Is(err, fs.ErrNotExist):
		hint = fmt.Sprintf("folder %s does not exist: create it first", filepath.Dir(path))
	}
	if hint != "" {
		return &Error{Path: path, Op: op, Err: err, hint: hint}
	}
	return &Error{Path: path, Op: op, Err: err}
}

// Error is the error WriteFile and Copy return. Unwrap gives the cause, so
// errors.Is(err, syscall.ENOSPC) and errors.Is(err, fs.ErrNotExist) work.
type Error struct {
	Path string // the destination (or source, for Copy's open)
	Op   string // the step that failed: "create temporary file", "write", "fsync", "rename", ...
	Err  error
	hint string
}

func (e *Error) Error() string {
	if e.hint != "" {
		return fmt.Sprintf("atomicfile: %s: %s: %v (%s)", e.Path, e.Op, e.Err, e.hint)
	}
	return fmt.Sprintf("atomicfile: %s: %s: %v", e.Path, e.Op, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
