package data

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestReadIDXRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, dims := range [][]int{{1}, {3}, {17, 5}, {129, 3, 7}, {2, 1, 1, 4}, {0, 28, 28}} {
		n := 1
		for _, d := range dims {
			n *= d
		}
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		raw := idxBytes(dims, data)
		for _, enc := range []string{"raw", "gzip"} {
			in := raw
			if enc == "gzip" {
				in = gz(t, raw, gzip.DefaultCompression)
			}
			for _, limit := range []int{0, 1, dims[0] + 1} {
				a, err := ReadIDX(bytes.NewReader(in), "x.idx", limit)
				if err != nil {
					t.Fatalf("%v %s limit %d: %v", dims, enc, limit, err)
				}
				want := slices.Clone(dims)
				wantData := data
				if limit > 0 && limit < dims[0] {
					want[0] = limit
					wantData = data[:len(data)/dims[0]*limit]
				}
				if !slices.Equal(a.Dims, want) || !bytes.Equal(a.Data, wantData) {
					t.Fatalf("%v %s limit %d: got dims %v and %d bytes", dims, enc, limit, a.Dims, len(a.Data))
				}
			}
			// The size hint path must agree with the growing-buffer path.
			a, err := readIDX(bytes.NewReader(raw), "x", 0, int64(len(raw)))
			if err != nil || !bytes.Equal(a.Data, data) {
				t.Fatalf("%v with size hint: %v", dims, err)
			}
		}
	}
}

func TestReadIDXErrors(t *testing.T) {
	good := idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	badCRC := gz(t, good, gzip.BestSpeed)
	badCRC[len(badCRC)-6] ^= 0xff // corrupt the CRC-32 in the trailer
	cases := []struct {
		name string
		in   []byte
		hint int64
		want string
	}{
		{"empty", nil, -1, "empty file"},
		{"short magic", []byte{0, 0}, -1, "truncated at byte 2 of the 4-byte magic"},
		{"wrong magic", []byte{1, 2, 3, 4, 0, 0, 0, 0}, -1, "wrong magic"},
		{"float type", []byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}, -1, "unsupported IDX element type 0x0d"},
		{"zero dims", []byte{0, 0, 8, 0}, -1, "0 dimensions"},
		{"short header", []byte{0, 0, 8, 2, 0, 0, 0}, -1, "truncated at byte 7 of the 12-byte header"},
		{"truncated data", good[:len(good)-2], -1, "truncated at byte 16 of 18"},
		{"truncated data hinted", good[:len(good)-2], 18, "truncated at byte 16 of 18"},
		{"trailing", append(slices.Clone(good), 9), -1, "trailing bytes after the 18 bytes"},
		{"huge", []byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9}, -1, "claim more than"},
		{"lying header", idxBytes([]int{1000000, 28, 28}, make([]byte, 100)), -1, "truncated at byte 116 of 784000016"},
		{"bad gzip crc", badCRC, -1, "gzip: invalid checksum"},
		{"gzip truncated", gz(t, good, gzip.BestSpeed)[:20], -1, "x.idx"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readIDX(bytes.NewReader(tc.in), "x.idx", 0, tc.hint)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "data: x.idx: ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q, want one line starting %q containing %q", msg, "data: x.idx: ", tc.want)
			}
		})
	}
}
