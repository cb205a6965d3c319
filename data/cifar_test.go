package data

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadCIFARBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	px, lab := synthImages(rng, 17, cifarPixels, 10)
	raw := cifarBytes(px, lab)
	for _, size := range []int64{int64(len(raw)), -1} {
		for _, limit := range []int{0, 3, 17, 40} {
			b, err := ReadCIFARBatch(bytes.NewReader(raw), size, "b.bin", limit)
			if err != nil {
				t.Fatal(err)
			}
			n := 17
			if limit > 0 && limit < n {
				n = limit
			}
			if b.N() != n || !bytes.Equal(b.Labels, lab[:n]) || !bytes.Equal(b.Pixels, px[:n*cifarPixels]) {
				t.Fatalf("size %d limit %d: got %d records", size, limit, b.N())
			}
		}
	}
	bad := bytes.Clone(raw)
	bad[5*cifarRecord] = 10
	cases := []struct {
		name string
		in   []byte
		size int64
		want string
	}{
		{"label out of range", bad, int64(len(bad)), "record 5: label 10 out of range 0..9"},
		{"partial record sized", raw[:100], 100, "not a whole number"},
		{"partial record stream", raw[:cifarRecord+100], -1, "truncated at byte 3173: record 1 has 100 of 3073 bytes"},
		{"beyond format", nil, (cifarBatchRecords + 1) * cifarRecord, "beyond the format"},
	}
	for _, tc := range cases {
		_, err := ReadCIFARBatch(bytes.NewReader(tc.in), tc.size, "b.bin", 0)
		if err == nil || !strings.HasPrefix(err.Error(), "data: b.bin: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestReadCIFARTarAndDir(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	counts := [6]int{3, 1, 4, 1, 5, 9}
	archive, batches, trainLab, testLab, trainPx, testPx := synthCIFAR(t, rng, counts)
	dir := t.TempDir()
	bin := filepath.Join(dir, "cifar-10-batches-bin")
	names := append(append([]string{}, cifarTrainBatches...), cifarTestBatch)
	for i, b := range batches {
		writeFile(t, filepath.Join(bin, names[i]), b)
	}
	for _, limit := range []int{0, 2, 5, 100} {
		lim := cifarLimit{limit, limit}
		fromTar, err := readCIFARTar(bytes.NewReader(archive), "c.tar.gz", lim)
		if err != nil {
			t.Fatal(err)
		}
		fromDir, err := readCIFARDir(bin, lim)
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range []*cifarSet{fromTar, fromDir} {
			tr := cifarSplit(set.train[:], limit)
			te := cifarSplit([]*CIFARBatch{set.test}, limit)
			ntr, nte := len(trainLab), len(testLab)
			if limit > 0 {
				ntr, nte = min(ntr, limit), min(nte, limit)
			}
			if tr.N != ntr || te.N != nte || tr.D != cifarPixels {
				t.Fatalf("limit %d: train %d test %d, want %d %d", limit, tr.N, te.N, ntr, nte)
			}
			for i := 0; i < ntr; i++ {
				if tr.Y[i] != int32(trainLab[i]) {
					t.Fatalf("limit %d: train label %d = %d, want %d", limit, i, tr.Y[i], trainLab[i])
				}
			}
			// Spot-check normalisation of channel 2 of the last kept training image.
			i, j := ntr-1, 2*1024+77
			want := (float32(trainPx[i*cifarPixels+j])/255 - cifarMean[2]) / cifarStd[2]
			if got := tr.X[i*cifarPixels+j]; got != want {
				t.Fatalf("pixel %d of image %d = %g, want %g", j, i, got, want)
			}
			if te.N > 0 && te.X[5] != (float32(testPx[5])/255-cifarMean[0])/cifarStd[0] {
				t.Fatal("test pixel mismatch")
			}
		}
	}
}

func TestReadCIFARTarErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	_, batches, _, _, _, _ := synthCIFAR(t, rng, [6]int{1, 1, 1, 1, 1, 1})
	full := func(extra ...tarEntry) []tarEntry {
		var e []tarEntry
		names := append(append([]string{}, cifarTrainBatches...), cifarTestBatch)
		for i, b := range batches {
			e = append(e, tarEntry{name: "cifar-10-batches-bin/" + names[i], body: b, size: -1})
		}
		return append(e, extra...)
	}
	cases := []struct {
		name    string
		entries []tarEntry
		want    string
	}{
		{"absolute", full(tarEntry{name: "/etc/passwd", body: []byte("x"), size: -1}), "absolute path"},
		{"dotdot", full(tarEntry{name: "cifar-10-batches-bin/../../evil", body: []byte("x"), size: -1}), `contains ".."`},
		{"missing", full()[:4], "missing CIFAR-10 batches data_batch_5.bin, test_batch.bin"},
		{"duplicate", full(tarEntry{name: "cifar-10-batches-bin/test_batch.bin", body: batches[5], size: -1}), "duplicate entry"},
		{"beyond format", []tarEntry{{name: "cifar-10-batches-bin/data_batch_1.bin", body: nil, size: 20000 * cifarRecord}}, "beyond the format"},
		{"ragged", []tarEntry{{name: "cifar-10-batches-bin/data_batch_1.bin", body: make([]byte, 10), size: -1}}, "not a whole number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readCIFARTar(bytes.NewReader(tarGz(t, tc.entries)), "c.tar.gz", cifarLimit{})
			if err == nil || !strings.HasPrefix(err.Error(), "data: c.tar.gz") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// A truncated archive (an interrupted download) is an error, never a short dataset.
	arch := tarGz(t, full())
	for _, cut := range []int{10, len(arch) / 2, len(arch) - 30} {
		if _, err := readCIFARTar(bytes.NewReader(arch[:cut]), "c.tar.gz", cifarLimit{}); err == nil {
			t.Errorf("archive cut at %d of %d: no error", cut, len(arch))
		}
	}
}
