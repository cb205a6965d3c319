package data

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadNamedIDX(t *testing.T) {
	f := newFakeIDX(t, "mnist", 7, 40, 9)
	withSource(t, f.src)
	cache := t.TempDir()
	f.install(t, cache)
	ds, err := Load("mnist", Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N != 40 || ds.Test.N != 9 || ds.Val.N != 0 || ds.Train.D != 784 || ds.Classes != 10 || !slices.Equal(ds.Shape, []int{1, 28, 28}) {
		t.Fatalf("got train %d test %d val %d D %d", ds.Train.N, ds.Test.N, ds.Val.N, ds.Train.D)
	}
	for i, b := range f.trainPx {
		if ds.Train.X[i] != float32(b)/255 {
			t.Fatalf("pixel %d = %g, want %d/255", i, ds.Train.X[i], b)
		}
	}
	for i, l := range f.testLab {
		if ds.Test.Y[i] != int32(l) {
			t.Fatalf("test label %d = %d, want %d", i, ds.Test.Y[i], l)
		}
	}
	// Same bytes, same provenance; a Limit changes it.
	again, _ := Load("mnist", Options{CacheDir: cache})
	lim, err := Load("mnist", Options{CacheDir: cache, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if again.Checksum != ds.Checksum || lim.Checksum == ds.Checksum || lim.Train.N != 5 || lim.Test.N != 5 {
		t.Fatalf("checksums %s %s %s, limit rows %d %d", ds.Checksum, again.Checksum, lim.Checksum, lim.Train.N, lim.Test.N)
	}
	if !slices.Equal(lim.Train.X, ds.Train.X[:5*784]) {
		t.Fatal("limited rows differ from the first rows")
	}
}

func TestLoadValSplit(t *testing.T) {
	f := newFakeIDX(t, "fashion-mnist", 8, 50, 3)
	withSource(t, f.src)
	cache := t.TempDir()
	f.install(t, cache)
	full, err := Load("fashion-mnist", Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	rowOf := map[string]int{}
	for i := 0; i < full.Train.N; i++ {
		rowOf[string(f.trainPx[i*784:(i+1)*784])] = i
	}
	key := func(s Split, i int) string {
		b := make([]byte, s.D)
		for j := range b {
			b[j] = byte(s.X[i*s.D+j]*255 + 0.5)
		}
		return string(b)
	}
	for _, tc := range []struct {
		opt     Options
		wantVal int
	}{
		{Options{ValSize: 7, Seed: 1}, 7},
		{Options{ValSize: 7, Seed: 2}, 7},
		{Options{ValFraction: 0.1, Seed: 1}, 5},
		{Options{ValSize: 49}, 49},
	} {
		tc.opt.CacheDir = cache
		a, err := Load("fashion-mnist", tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Load("fashion-mnist", tc.opt)
		if a.Val.N != tc.wantVal || a.Train.N != 50-tc.wantVal || len(a.Val.X) != a.Val.N*784 || len(a.Train.Y) != a.Train.N {
			t.Fatalf("%+v: val %d train %d", tc.opt, a.Val.N, a.Train.N)
		}
		if !slices.Equal(a.Val.Y, b.Val.Y) || !slices.Equal(a.Val.X, b.Val.X) {
			t.Fatalf("%+v: same seed gave different splits", tc.opt)
		}
		// Disjoint, covering, each part in file order, labels attached to their rows.
		seen := map[int]bool{}
		for _, s := range []Split{a.Train, a.Val} {
			last := -1
			for i := 0; i < s.N; i++ {
				r, ok := rowOf[key(s, i)]
				if !ok || seen[r] || r <= last {
					t.Fatalf("%+v: row %d maps to %d (ok %v, seen %v, after %d)", tc.opt, i, r, ok, seen[r], last)
				}
				if s.Y[i] != int32(f.trainLab[r]) {
					t.Fatalf("%+v: label of row %d is %d, want %d", tc.opt, r, s.Y[i], f.trainLab[r])
				}
				seen[r], last = true, r
			}
		}
		if len(seen) != 50 {
			t.Fatalf("%+v: %d rows covered", tc.opt, len(seen))
		}
	}
	a, _ := Load("fashion-mnist", Options{CacheDir: cache, ValSize: 7, Seed: 1})
	b, _ := Load("fashion-mnist", Options{CacheDir: cache, ValSize: 7, Seed: 2})
	if slices.Equal(a.Val.X, b.Val.X) {
		t.Fatal("seeds 1 and 2 gave the same validation rows")
	}
	for _, opt := range []Options{{ValSize: 50}, {ValFraction: 1}, {ValSize: -1}, {Limit: -2}} {
		opt.CacheDir = cache
		if _, err := Load("fashion-mnist", opt); err == nil {
			t.Errorf("%+v: no error", opt)
		}
	}
}

func TestLoadNamedErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	f := newFakeIDX(t, "mnist", 9, 6, 4)
	withSource(t, f.src)
	mk := func(mod func(dir string)) string {
		cache := t.TempDir()
		f.install(t, cache)
		mod(filepath.Join(cache, "mnist"))
		return cache
	}
	px, _ := synthImages(rng, 5, 784, 10)
	cases := []struct {
		name  string
		cache string
		opt   Options
		want  string
	}{
		{"not cached", t.TempDir(), Options{}, "not in the cache folder"},
		{"count mismatch", mk(func(d string) {
			writeFile(t, filepath.Join(d, "train-images-idx3-ubyte.gz"), gz(t, idxBytes([]int{5, 28, 28}, px), gzip.BestSpeed))
		}), Options{Limit: 100}, "has 5 images but"},
		{"label range", mk(func(d string) {
			writeFile(t, filepath.Join(d, "t10k-labels-idx1-ubyte.gz"), idxBytes([]int{4}, []byte{1, 2, 10, 3}))
		}), Options{Limit: 100}, "label 10 of item 2 out of range 0..9"},
		{"image shape", mk(func(d string) {
			writeFile(t, filepath.Join(d, "t10k-images-idx3-ubyte.gz"), idxBytes([]int{4, 27, 28}, make([]byte, 4*27*28)))
		}), Options{Limit: 100}, "image dimensions [4 27 28], want [N 1 28 28]"},
		{"checksum", mk(func(d string) {
			writeFile(t, filepath.Join(d, "train-labels-idx1-ubyte.gz"), idxBytes([]int{6}, []byte{1, 1, 1, 1, 1, 1}))
		}), Options{}, "checksum mismatch"},
		{"truncated", mk(func(d string) {
			p := filepath.Join(d, "train-images-idx3-ubyte.gz")
			raw := idxBytes([]int{6, 28, 28}, f.trainPx)
			writeFile(t, p, raw[:1000])
		}), Options{}, "truncated at byte 1000 of 4720"},
		{"unknown", t.TempDir(), Options{}, "unknown dataset"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.CacheDir = tc.cache
			name := "mnist"
			if tc.name == "unknown" {
				name = "imagenet"
			}
			_, err := Load(name, tc.opt)
			if err == nil || !strings.HasPrefix(err.Error(), "data: ") || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadCIFARFromCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	archive, batches, trainLab, testLab, _, _ := synthCIFAR(t, rng, [6]int{2, 2, 2, 2, 2, 3})
	src := *lookupSource("cifar10")
	src.Files = []fileSpec{{Name: "cifar-10-binary.tar.gz", MD5: md5hex(archive), Size: int64(len(archive))}}
	withSource(t, &src)
	cache := t.TempDir()
	writeFile(t, filepath.Join(cache, "cifar10", "cifar-10-binary.tar.gz"), archive)
	ds, err := Load("cifar10", Options{CacheDir: cache, ValSize: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N+ds.Val.N != len(trainLab) || ds.Test.N != len(testLab) || !slices.Equal(ds.Shape, []int{3, 32, 32}) {
		t.Fatalf("train %d val %d test %d", ds.Train.N, ds.Val.N, ds.Test.N)
	}
	// The extracted folder gives the same data.
	cache2 := t.TempDir()
	names := append(append([]string{}, cifarTrainBatches...), cifarTestBatch)
	for i, b := range batches {
		writeFile(t, filepath.Join(cache2, "cifar10", "cifar-10-batches-bin", names[i]), b)
	}
	ds2, err := Load("cifar10", Options{CacheDir: cache2, ValSize: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Train.X, ds2.Train.X) || !slices.Equal(ds.Test.Y, ds2.Test.Y) {
		t.Fatal("archive and folder disagree")
	}
	// A corrupted archive fails its MD5.
	bad := bytes.Clone(archive)
	writeFile(t, filepath.Join(cache, "cifar10", "cifar-10-binary.tar.gz"), append(bad, 0))
	if _, err := Load("cifar10", Options{CacheDir: cache}); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("corrupt archive: %v", err)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("RESQ_CACHE", "/a/b")
	if d := DefaultCacheDir(); d != "/a/b" {
		t.Fatalf("RESQ_CACHE: %s", d)
	}
	t.Setenv("RESQ_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/x")
	if d := DefaultCacheDir(); d != filepath.Join("/x", "resq") {
		t.Fatalf("XDG: %s", d)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d := DefaultCacheDir(); d != filepath.Join("/home/u", ".cache", "resq") {
		t.Fatalf("HOME: %s", d)
	}
}
