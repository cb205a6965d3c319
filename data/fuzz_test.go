package data

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// The seed corpora live in testdata/fuzz/FuzzX/. Set RESQ_WRITE_FUZZ_SEEDS=1
// to regenerate the synthetic seeds there (crashers found by fuzzing are
// added by `go test -fuzz` itself and kept as regression seeds).

func idxSeeds(t testing.TB) [][]byte {
	rng := rand.New(rand.NewPCG(20, 20))
	px, lab := synthImages(rng, 3, 4*4, 10)
	img := idxBytes([]int{3, 4, 4}, px)
	return [][]byte{
		img,
		idxBytes([]int{3}, lab),
		gz(t, img, gzip.BestSpeed),
		img[:10],
		{0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 1, 7},
	}
}

func npySeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, v := range []struct {
		shape []int
		data  any
	}{
		{[]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{[]int{3}, []int64{0, 1, 2}},
		{[]int{1, 2, 2, 1}, []uint8{1, 2, 3, 4}},
		{[]int{2}, []float64{0.5, 1}},
		{[]int{2}, []int32{1, 2}},
	} {
		var b bytes.Buffer
		if err := WriteNPY(&b, v.shape, v.data); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Bytes())
	}
	out = append(out, npyRaw(2, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", make([]byte, 4)))
	return out
}

func cifarSeeds(t testing.TB) [][]byte {
	rng := rand.New(rand.NewPCG(21, 21))
	archive, batches, _, _, _, _ := synthCIFAR(t, rng, [6]int{1, 1, 0, 1, 0, 1})
	// Uncompressed tars let mutations reach the tar and record parsing
	// rather than dying in gzip's CRC check.
	var small []tarEntry
	for i, n := range append(append([]string{}, cifarTrainBatches...), cifarTestBatch) {
		body := batches[i]
		if len(body) > 0 {
			body = body[:cifarRecord]
		}
		small = append(small, tarEntry{name: "cifar-10-batches-bin/" + n, body: body, size: -1})
	}
	return [][]byte{
		archive,
		batches[0],
		tarGz(t, []tarEntry{{name: "../x", body: []byte("a"), size: -1}}),
		tarRaw(t, small),
		tarRaw(t, small[:1]),
	}
}

func writeSeeds(t *testing.T, fuzzer string, seeds [][]byte) {
	if os.Getenv("RESQ_WRITE_FUZZ_SEEDS") == "" {
		return
	}
	dir := filepath.Join("testdata", "fuzz", fuzzer)
	for i, s := range seeds {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)))
	}
}

func TestWriteFuzzSeeds(t *testing.T) {
	writeSeeds(t, "FuzzIDX", idxSeeds(t))
	writeSeeds(t, "FuzzNPY", npySeeds(t))
	writeSeeds(t, "FuzzCIFAR", cifarSeeds(t))
}

func FuzzIDX(f *testing.F) {
	for _, s := range idxSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, limit := range []int{0, 2} {
			a, err := ReadIDX(bytes.NewReader(in), "f.idx", limit)
			if err != nil {
				continue
			}
			n := 1
			for _, d := range a.Dims {
				n *= d
			}
			if len(a.Data) != n {
				t.Fatalf("dims %v but %d bytes", a.Dims, len(a.Data))
			}
			if limit > 0 && a.Dims[0] > limit {
				t.Fatalf("limit %d but %d items", limit, a.Dims[0])
			}
		}
	})
}

func FuzzNPY(f *testing.F) {
	for _, s := range npySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		a, errSized := ReadNPY(bytes.NewReader(in), int64(len(in)), "f.npy")
		b, errStream := ReadNPY(bytes.NewReader(in), -1, "f.npy")
		if (errSized == nil) != (errStream == nil) {
			t.Fatalf("sized and streamed reads disagree: %v vs %v", errSized, errStream)
		}
		if errSized != nil {
			return
		}
		if !bytes.Equal(a.Data, b.Data) || a.Dtype != b.Dtype {
			t.Fatal("sized and streamed reads differ")
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if a.Len() != n || len(a.Data) != n*npyItemSize[a.Dtype] {
			t.Fatalf("shape %v dtype %s but %d bytes", a.Shape, a.Dtype, len(a.Data))
		}
		if n <= 1<<16 {
			a.Float32s(make([]float32, n))
			for i := 0; i < n; i++ {
				a.Int(i)
			}
		}
	})
}

func FuzzCIFAR(f *testing.F) {
	for _, s := range cifarSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if set, err := readCIFARTar(bytes.NewReader(in), "f.tar.gz", cifarLimit{train: 2}); err == nil {
			for _, b := range append(set.train[:], set.test) {
				if len(b.Pixels) != b.N()*cifarPixels {
					t.Fatalf("%d labels, %d pixel bytes", b.N(), len(b.Pixels))
				}
			}
			s := cifarSplit(set.train[:], 2)
			if s.N > 2 {
				t.Fatalf("limit 2 but %d rows", s.N)
			}
		}
		for _, size := range []int64{int64(len(in)), -1} {
			b, err := ReadCIFARBatch(bytes.NewReader(in), size, "f.bin", 0)
			if err != nil {
				continue
			}
			if len(b.Pixels) != b.N()*cifarPixels || int64(b.N()*cifarRecord) != int64(len(in)) {
				t.Fatalf("%d records from %d bytes", b.N(), len(in))
			}
			for _, l := range b.Labels {
				if l >= 10 {
					t.Fatalf("label %d accepted", l)
				}
			}
		}
	})
}
