package data

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// Dataset and file states reported by List.
const (
	StateMissing  = "missing"  // not in the cache (a .part file may be waiting to resume)
	StateCached   = "cached"   // present, not verifiable (CIFAR-10 extracted folder)
	StateVerified = "verified" // present and matching the known-good checksums
	StateCorrupt  = "corrupt"  // present but failing its checksum or format check
)

// Status is the state of one named dataset in a cache folder.
type Status struct {
	Name  string // "mnist", ...
	State string // StateMissing, StateCached, StateVerified or StateCorrupt
	Path  string // the dataset's cache folder
	Files []FileStatus
}

// FileStatus is the state of one file of a dataset.
type FileStatus struct {
	Name   string
	State  string
	Path   string
	Size   int64  // bytes on disk (of the .part file when only that exists); 0 when missing
	Detail string // the checksum found, or why the file is corrupt, or "partial download"
}

// List reports every named dataset's state in cacheDir ("" means
// DefaultCacheDir()), verifying the checksums of the files present (this
// reads them: about a second for all datasets).
func List(cacheDir string) ([]Status, error) {
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	if st, err := os.Stat(cacheDir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("data: cache folder %q is a file: choose a folder with --cache or $RESQ_CACHE", cacheDir)
	}
	var out []Status
	for _, src := range sources {
		st, err := statusOf(src, cacheDir, true)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// statusOf reports src's state; with verify false, present files count as
// cached without reading them.
func statusOf(src *source, cacheDir string, verify bool) (Status, error) {
	dir := filepath.Join(cacheDir, src.Name)
	st := Status{Name: src.Name, Path: dir}
	for _, spec := range src.Files {
		p := filepath.Join(dir, spec.Name)
		fs := FileStatus{Name: spec.Name, Path: p, State: StateMissing}
		if fi, err := os.Stat(p); err == nil {
			fs.Size = fi.Size()
			fs.State = StateCached
			if verify {
				res, err := verifyFile(p, spec)
				switch {
				case err != nil:
					fs.State = StateCorrupt
					fs.Detail = strings.TrimPrefix(err.Error(), "data: "+p+": ")
				case spec.SHA256 != "":
					fs.State = StateVerified
					fs.Detail = "sha256 " + res.SHA256[:12] + "... (decompressed)"
				default:
					fs.State = StateVerified
					fs.Detail = "md5 " + res.MD5
				}
			}
		} else if fi, err := os.Stat(p + ".part"); err == nil {
			fs.Size = fi.Size()
			fs.Detail = "partial download: fetch again to resume"
		}
		st.Files = append(st.Files, fs)
	}
	if src.Name == "cifar10" && st.Files[0].State == StateMissing {
		if fs, ok := cifarDirStatus(filepath.Join(dir, "cifar-10-batches-bin")); ok {
			st.Files = fs
		}
	}
	st.State = StateVerified
	for _, f := range st.Files {
		switch {
		case f.State == StateMissing:
			st.State = StateMissing
		case f.State == StateCorrupt && st.State != StateMissing:
			st.State = StateCorrupt
		case f.State == StateCached && st.State == StateVerified:
			st.State = StateCached
		}
	}
	return st, nil
}

// cifarDirStatus reports the extracted batches when all six are present.
// Their sizes are checked; there are no published checksums to verify.
func cifarDirStatus(bin string) ([]FileStatus, bool) {
	names := append(append([]string{}, cifarTrainBatches...), cifarTestBatch)
	var out []FileStatus
	for _, n := range names {
		p := filepath.Join(bin, n)
		fi, err := os.Stat(p)
		if err != nil {
			return nil, false
		}
		fs := FileStatus{Name: "cifar-10-batches-bin/" + n, Path: p, Size: fi.Size(), State: StateCached, Detail: "extracted batch (no published checksum)"}
		if fi.Size() != cifarBatchRecords*cifarRecord {
			fs.State = StateCorrupt
			fs.Detail = fmt.Sprintf("size %d, want %d", fi.Size(), cifarBatchRecords*cifarRecord)
		}
		out = append(out, fs)
	}
	return out, true
}

// FormatList writes statuses as an aligned table: one line per dataset, then
// one indented line per file that is not verified.
func FormatList(w io.Writer, sts []Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATASET\tSTATE\tPATH")
	for _, s := range sts {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.State, s.Path)
		for _, f := range s.Files {
			if f.State == StateVerified && s.State == StateVerified {
				continue
			}
			if f.Detail == "" {
				fmt.Fprintf(tw, "  %s\t%s\n", f.Name, f.State)
			} else {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Name, f.State, f.Detail)
			}
		}
	}
	return tw.Flush()
}
