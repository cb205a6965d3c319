package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// idxBytes encodes an unsigned-byte IDX array.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(t testing.TB, raw []byte, level int) []byte {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw)
	w.Close()
	return b.Bytes()
}

// synthImages returns n random images of d bytes and labels below classes.
func synthImages(rng *rand.Rand, n, d, classes int) (px, lab []byte) {
	px = make([]byte, n*d)
	for i := range px {
		px[i] = byte(rng.IntN(256))
	}
	lab = make([]byte, n)
	for i := range lab {
		lab[i] = byte(rng.IntN(classes))
	}
	return px, lab
}

// cifarBytes encodes records in the CIFAR-10 binary format.
func cifarBytes(px, lab []byte) []byte {
	var b bytes.Buffer
	for i, l := range lab {
		b.WriteByte(l)
		b.Write(px[i*cifarPixels : (i+1)*cifarPixels])
	}
	return b.Bytes()
}

type tarEntry struct {
	name string
	body []byte
	size int64 // header size; -1: len(body)
	typ  byte
}

func tarGz(t testing.TB, entries []tarEntry) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	writeTar(t, zw, entries)
	zw.Close()
	return b.Bytes()
}

// tarRaw is tarGz without compression (readCIFARTar accepts both).
func tarRaw(t testing.TB, entries []tarEntry) []byte {
	var b bytes.Buffer
	writeTar(t, &b, entries)
	return b.Bytes()
}

func writeTar(t testing.TB, w io.Writer, entries []tarEntry) {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		size := e.size
		if size < 0 {
			size = int64(len(e.body))
		}
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Size: size, Mode: 0o644, Typeflag: typ}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.body)
	}
	tw.Close()
}

// synthCIFAR builds a CIFAR-10 archive with per-batch record counts
// (5 training batches, then the test batch) and returns it with the labels
// and pixels of training and test sets, in order.
func synthCIFAR(t testing.TB, rng *rand.Rand, counts [6]int) (archive []byte, batches [6][]byte, trainLab, testLab, trainPx, testPx []byte) {
	var entries []tarEntry
	entries = append(entries, tarEntry{name: "cifar-10-batches-bin/", typ: tar.TypeDir, size: 0})
	names := append(append([]string{}, cifarTrainBatches...), cifarTestBatch)
	for i, n := range counts {
		px, lab := synthImages(rng, n, cifarPixels, 10)
		batches[i] = cifarBytes(px, lab)
		entries = append(entries, tarEntry{name: "cifar-10-batches-bin/" + names[i], body: batches[i], size: -1})
		if i < 5 {
			trainLab = append(trainLab, lab...)
			trainPx = append(trainPx, px...)
		} else {
			testLab, testPx = lab, px
		}
	}
	entries = append(entries, tarEntry{name: "cifar-10-batches-bin/batches.meta.txt", body: []byte("airplane\n"), size: -1})
	return tarGz(t, entries), batches, trainLab, testLab, trainPx, testPx
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func md5hex(b []byte) string    { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
func sha256hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// fakeIDXSource is a small MNIST-like dataset: its four files (gzipped)
// and a source describing them with their true checksums.
type fakeIDX struct {
	src                                *source
	files                              map[string][]byte // name -> .gz bytes as served
	trainPx, trainLab, testPx, testLab []byte
}

func newFakeIDX(t testing.TB, name string, seed uint64, ntrain, ntest int) *fakeIDX {
	rng := rand.New(rand.NewPCG(seed, seed))
	f := &fakeIDX{files: map[string][]byte{}}
	f.trainPx, f.trainLab = synthImages(rng, ntrain, 28*28, 10)
	f.testPx, f.testLab = synthImages(rng, ntest, 28*28, 10)
	raws := []struct {
		name string
		raw  []byte
	}{
		{"train-images-idx3-ubyte.gz", idxBytes([]int{ntrain, 28, 28}, f.trainPx)},
		{"train-labels-idx1-ubyte.gz", idxBytes([]int{ntrain}, f.trainLab)},
		{"t10k-images-idx3-ubyte.gz", idxBytes([]int{ntest, 28, 28}, f.testPx)},
		{"t10k-labels-idx1-ubyte.gz", idxBytes([]int{ntest}, f.testLab)},
	}
	f.src = &source{Name: name, Shape: []int{1, 28, 28}, Classes: 10}
	for _, r := range raws {
		z := gz(t, r.raw, gzip.BestSpeed)
		f.files[r.name] = z
		f.src.Files = append(f.src.Files, fileSpec{Name: r.name, MD5: md5hex(z), SHA256: sha256hex(r.raw), Size: int64(len(r.raw))})
	}
	return f
}

// install writes the files into cache/NAME/.
func (f *fakeIDX) install(t testing.TB, cache string) {
	for n, b := range f.files {
		writeFile(t, filepath.Join(cache, f.src.Name, n), b)
	}
}

// withSource replaces the source of the same name for the test's duration.
func withSource(t *testing.T, s *source) {
	t.Helper()
	old := sources
	sources = append([]*source{}, old...)
	found := false
	for i, o := range sources {
		if o.Name == s.Name {
			sources[i] = s
			found = true
		}
	}
	if !found {
		sources = append(sources, s)
	}
	t.Cleanup(func() { sources = old })
}
