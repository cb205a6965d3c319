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
//
// Only regular files are replaced. A symbolic link is followed: the file it
// points to (at the end of a chain of links, existing or not) is replaced
// and the link kept. A character device (/dev/null, a terminal) or a named
// pipe is written through, in place, without a temporary file. Any other
// kind of file (a block device, a socket) is refused with an error.
func WriteFile(path string, write func(w io.Writer) error) (err error) {
	target, err := resolveLinks(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(target)
	mode := fs.FileMode(0o644)
	if st, serr := os.Stat(target); serr == nil {
		switch m := st.Mode(); {
		case m.IsDir():
			return fmt.Errorf("atomicfile: %q: is a directory", path)
		case m.IsRegular():
			mode = m.Perm()
		case m&fs.ModeCharDevice != 0 || m&fs.ModeNamedPipe != 0:
			return writeThrough(path, target, write)
		default:
			return fmt.Errorf("atomicfile: %q: is %s, not a regular file: give the path of a file", path, kindOf(m))
		}
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
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
	if err = os.Rename(tmp, target); err != nil {
		return wrap(path, "rename", err)
	}
	// The rename is done: from here on the new file is in place, so a
	// failed folder sync is reported but the temporary is already gone.
	if serr := syncDir(dir); serr != nil {
		return wrap(path, "fsync folder", serr)
	}
	return nil
}

// CheckWritable reports whether WriteFile(path, ...) could place its file
// now: the folder exists and a temporary file can be created in it (and is
// removed at once). A command that computes for a long time before it
// writes calls it first. The error is the one WriteFile would return.
func CheckWritable(path string) error {
	target, err := resolveLinks(path)
	if err != nil {
		return err
	}
	if st, err := os.Stat(target); err == nil {
		switch m := st.Mode(); {
		case m.IsDir():
			return fmt.Errorf("atomicfile: %q: is a directory", path)
		case m&fs.ModeCharDevice != 0 || m&fs.ModeNamedPipe != 0:
			return nil // written through when the time comes
		case !m.IsRegular():
			return fmt.Errorf("atomicfile: %q: is %s, not a regular file: give the path of a file", path, kindOf(m))
		}
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return wrap(path, "create temporary file", err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// maxLinks bounds the chain of symbolic links resolveLinks follows.
const maxLinks = 40

// resolveLinks follows the symbolic links at path (the last element only,
// repeatedly) and returns the path of the file they end at, which need not
// exist.
func resolveLinks(path string) (string, error) {
	p := path
	for range maxLinks {
		st, err := os.Lstat(p)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return "", wrap(path, "read symbolic link", err)
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(p), dest)
		}
		p = dest
	}
	return "", fmt.Errorf("atomicfile: %q: more than %d symbolic links in a row (a loop?)", path, maxLinks)
}

// writeThrough writes to an existing character device or named pipe in
// place: there is nothing to replace atomically.
func writeThrough(path, target string, write func(w io.Writer) error) (err error) {
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return wrap(path, "open", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = wrap(path, "close", cerr)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := write(bw); err != nil {
		return wrap(path, "write", err)
	}
	if err := bw.Flush(); err != nil {
		return wrap(path, "write", err)
	}
	return nil
}

// kindOf names the kind of a file that is not regular, for errors.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "a special file"
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
		hint = fmt.Sprintf("folder %q does not exist: create it first", filepath.Dir(path))
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
		return fmt.Sprintf("atomicfile: %q: %s: %v (%s)", e.Path, e.Op, e.Err, e.hint)
	}
	return fmt.Sprintf("atomicfile: %q: %s: %v", e.Path, e.Op, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
