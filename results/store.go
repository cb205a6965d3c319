package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
)

// appendMu serialises Append calls of this process.
var appendMu sync.Mutex

// Append adds r as one JSON line at the end of the file path, creating the
// file if needed. The line is written with a single write call on a file
// opened with O_APPEND and then fsynced; a torn last line left by a killed
// writer is cut off first (see the package documentation).
func Append(path string, r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("results: %s: encode record %s: %v", path, r.ID, err)
	}
	if bytes.IndexByte(line, '\n') >= 0 {
		// encoding/json escapes control characters; this cannot happen.
		panic("results: encoded record contains a newline")
	}
	return appendLine(path, line, "record "+r.ID)
}

// appendLine appends one encoded JSON line (without its newline) to the
// file path as Append describes; what names the line in errors.
func appendLine(path string, line []byte, what string) error {
	line = append(line, '\n')

	appendMu.Lock()
	defer appendMu.Unlock()
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("results: %v", err)
	}
	defer f.Close()
	if err := cutTornTail(f); err != nil {
		return fmt.Errorf("results: %s: %v", path, err)
	}
	if n, err := f.Write(line); err != nil {
		return fmt.Errorf("results: %q: write %s: %w (wrote %d of %d bytes)%s", path, what, err, n, len(line), spaceHint(err))
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("results: %q: fsync: %w%s", path, err, spaceHint(err))
	}
	if created {
		if d, err := os.Open(filepath.Dir(path)); err == nil {
			d.Sync() // best effort: some file systems cannot sync folders
			d.Close()
		}
	}
	return f.Close()
}

// cutTornTail truncates f after its last newline when the file does not
// end with one: the remains of a write interrupted by a kill.
func cutTornTail(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return fmt.Errorf("read last byte: %v", err)
	}
	if last[0] == '\n' {
		return nil
	}
	// Scan backwards in blocks for the previous newline.
	const block = 64 << 10
	buf := make([]byte, block)
	end := size
	for end > 0 {
		start := max(end-block, 0)
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil && err != io.EOF {
			return fmt.Errorf("scan for torn tail: %v", err)
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return f.Truncate(start + int64(i) + 1)
		}
		end = start
	}
	return f.Truncate(0)
}

// ReadFile returns the records of the JSONL file path in file order. A torn
// last line (no newline: a writer was killed) is ignored; ReadFileTorn also
// reports it. A line that does not decode anywhere else is an error naming
// the file and line.
func ReadFile(path string) ([]Record, error) {
	recs, _, err := ReadFileTorn(path)
	return recs, err
}

// ReadFileTorn is ReadFile that also returns the number of torn lines
// ignored (0 or 1).
func ReadFileTorn(path string) (recs []Record, torn int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("results: %v", err)
	}
	return parse(path, b)
}

func parse(path string, b []byte) (recs []Record, torn int, err error) {
	lineNo := 0
	for len(b) > 0 {
		lineNo++
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			// The last line has no newline: a writer died mid-line.
			return recs, 1, nil
		}
		line := bytes.TrimSpace(b[:i])
		b = b[i+1:]
		if len(line) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, 0, fmt.Errorf("results: %s:%d: corrupt record: %v", path, lineNo, err)
		}
		if r.ID == "" {
			return nil, 0, fmt.Errorf("results: %s:%d: record has no id", path, lineNo)
		}
		if err := r.plausible(); err != nil {
			return nil, 0, fmt.Errorf("results: %s:%d: corrupt record %s: %v", path, lineNo, r.ID, err)
		}
		recs = append(recs, r)
	}
	return recs, 0, nil
}

// plausible checks the numbers of an ok record that no cell can produce
// (an edited or damaged line): errors outside [0, 100] percent, negative
// sizes or times.
func (r *Record) plausible() error {
	if r.Status != StatusOK {
		return nil
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"test_error_pct", r.TestErrPct}, {"val_error_pct", r.ValErrPct}} {
		if !(p.v >= 0 && p.v <= 100) {
			return fmt.Errorf("%s %g is not a percentage", p.name, p.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int64
	}{{"weights", r.Weights}, {"params", r.Params}, {"stored_bytes", r.StoredBytes}} {
		if n.v < 0 {
			return fmt.Errorf("%s %d is negative", n.name, n.v)
		}
	}
	if r.TrainSeconds < 0 || r.EvalSeconds < 0 {
		return fmt.Errorf("negative time (train %g s, eval %g s)", r.TrainSeconds, r.EvalSeconds)
	}
	return nil
}

// Stats describes what ReadDirStats read.
type Stats struct {
	Files      []string // the files read, in the order read
	Lines      int      // records decoded, before deduplication
	Torn       int      // torn last lines ignored
	Duplicates int      // records dropped because another one had the same ID
}

// ReadDir merges every results*.jsonl file in dir (a sweep and its shards),
// deduplicated by ID (ok wins over failed) and sorted deterministically;
// see the package documentation. A folder without results files gives no
// records and no error.
func ReadDir(dir string) ([]Record, error) {
	recs, _, err := ReadDirStats(dir)
	return recs, err
}

// ReadDirStats is ReadDir that also reports what it read.
func ReadDirStats(dir string) ([]Record, Stats, error) {
	var st Stats
	if fi, err := os.Stat(dir); err != nil {
		return nil, st, fmt.Errorf("results: %v", err)
	} else if !fi.IsDir() {
		return nil, st, fmt.Errorf("results: %s: not a folder", dir)
	}
	files, err := filepath.Glob(filepath.Join(dir, "results*.jsonl"))
	if err != nil {
		return nil, st, fmt.Errorf("results: %s: %v", dir, err)
	}
	sort.Strings(files)
	var all []Record
	for _, f := range files {
		recs, torn, err := ReadFileTorn(f)
		if err != nil {
			return nil, st, err
		}
		st.Files = append(st.Files, f)
		st.Lines += len(recs)
		st.Torn += torn
		all = append(all, recs...)
	}
	merged := Merge(all)
	st.Duplicates = len(all) - len(merged)
	am, err := ReadAmendments(dir)
	if err != nil {
		return nil, st, err
	}
	Amend(merged, am)
	return merged, st, nil
}

// spaceHint is the advice for an error that a full or read-only disk
// causes, as the other writers (atomicfile) give it; "" for other errors.
// A torn line a failed write leaves is cut by the next Append.
func spaceHint(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return " (disk full: free space on that file system, then rerun the same command to resume)"
	case errors.Is(err, syscall.EDQUOT):
		return " (disk quota exceeded: free space, then rerun the same command to resume)"
	case errors.Is(err, syscall.EROFS):
		return " (read-only file system: choose a writable folder)"
	}
	return ""
}

// Merge deduplicates recs by ID (the first ok record wins; a failed record
// is kept only when no ok record has its ID) and sorts the result with
// Sort. Ok records of one ID computed on different data (another dataset
// checksum: the files changed between runs) are all kept, the first of
// each checksum, so that no reader mistakes one data set's results for
// the other's. recs is not modified.
func Merge(recs []Record) []Record {
	okAt := make(map[string]int, len(recs))  // ID + checksum -> index into out
	first := make(map[string]int, len(recs)) // ID -> index of its first record
	out := make([]Record, 0, len(recs))
	for _, r := range recs {
		i, seen := first[r.ID]
		if r.Status != StatusOK {
			if !seen {
				first[r.ID] = len(out)
				out = append(out, r)
			}
			continue
		}
		key := r.ID + "\x00" + r.DatasetChecksum
		if _, dup := okAt[key]; dup {
			continue
		}
		if seen && out[i].Status != StatusOK {
			out[i] = r // an ok record replaces the failure
			okAt[key] = i
			continue
		}
		if !seen {
			first[r.ID] = len(out)
		}
		okAt[key] = len(out)
		out = append(out, r)
	}
	Sort(out)
	return out
}

// modeRank orders modes as a reader expects them.
func modeRank(m string) int {
	switch m {
	case ModeFloat:
		return 0
	case ModeDirect:
		return 1
	case ModeRetrain:
		return 2
	}
	return 3
}

// Sort orders recs by dataset, family, depth, width, scale, mode, bits,
// seed and finally ID.
func Sort(recs []Record) {
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := &recs[i], &recs[j]
		switch {
		case a.Dataset != b.Dataset:
			return a.Dataset < b.Dataset
		case a.Family != b.Family:
			return a.Family < b.Family
		case a.Depth != b.Depth:
			return a.Depth < b.Depth
		case a.Width != b.Width:
			return a.Width < b.Width
		case a.Scale != b.Scale:
			return a.Scale < b.Scale
		case modeRank(a.Mode) != modeRank(b.Mode):
			return modeRank(a.Mode) < modeRank(b.Mode)
		case a.Mode != b.Mode:
			return a.Mode < b.Mode
		case a.Bits != b.Bits:
			return a.Bits < b.Bits
		case a.Seed != b.Seed:
			return a.Seed < b.Seed
		}
		return a.ID < b.ID
	})
}
