package safetensors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func randTensors(rng *rand.Rand, n int) []Tensor {
	dtypes := []string{"F32", "F64", "U8", "I8", "I32", "I64", "U32"}
	var ts []Tensor
	for i := 0; i < n; i++ {
		dt := dtypes[rng.IntN(len(dtypes))]
		shape := make([]int, rng.IntN(4))
		size := dtypeSizes[dt]
		for j := range shape {
			shape[j] = rng.IntN(5)
			size *= shape[j]
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		ts = append(ts, Tensor{Name: fmt.Sprintf("t%d.w", i), DType: dt, Shape: shape, Data: data})
	}
	return ts
}

func TestRoundTrip(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 17} {
		rng := rand.New(rand.NewPCG(seed, seed))
		ts := randTensors(rng, 1+rng.IntN(8))
		meta := map[string]string{"spec": "784-100-10", "quote\"d": "é\n"}
		var buf bytes.Buffer
		if err := Write(&buf, ts, meta); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if hn := binary.LittleEndian.Uint64(b); (8+hn)%8 != 0 {
			t.Errorf("seed %d: header length %d leaves the data unaligned", seed, hn)
		}
		f, err := Read(b)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if len(f.Meta) != len(meta) || f.Meta["spec"] != meta["spec"] || f.Meta["quote\"d"] != meta["quote\"d"] {
			t.Errorf("seed %d: meta %v, want %v", seed, f.Meta, meta)
		}
		if len(f.Tensors) != len(ts) {
			t.Fatalf("seed %d: %d tensors, want %d", seed, len(f.Tensors), len(ts))
		}
		for _, want := range ts {
			got, ok := f.Get(want.Name)
			if !ok {
				t.Fatalf("seed %d: tensor %q missing", seed, want.Name)
			}
			if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
				t.Errorf("seed %d: tensor %q = %s %v %x, want %s %v %x", seed, want.Name, got.DType, got.Shape, got.Data, want.DType, want.Shape, want.Data)
			}
		}
		// Writing in another order gives the same bytes.
		rev := slices.Clone(ts)
		slices.Reverse(rev)
		var buf2 bytes.Buffer
		if err := Write(&buf2, rev, meta); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf2.Bytes(), b) {
			t.Errorf("seed %d: output depends on tensor order", seed)
		}
	}
}

// TestGolden pins the exact bytes: metadata first, tensors in name order,
// compact JSON, space padding to 8 bytes. (The reference implementation
// orders tensors by dtype size, then name; both layouts are valid files.)
func TestGolden(t *testing.T) {
	var buf bytes.Buffer
	ts := []Tensor{
		{Name: "b", DType: "U8", Shape: []int{2}, Data: []byte{7, 8}},
		FromF32("a", []int{1, 2}, []float32{1, -2}),
	}
	if err := Write(&buf, ts, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	hdr := `{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[2],"data_offsets":[8,10]}}`
	for len(hdr)%8 != 0 {
		hdr += " "
	}
	want := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	want = append(want, hdr...)
	want = append(want, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 7, 8)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("got\n%q\nwant\n%q", buf.Bytes(), want)
	}
	f, err := Read(want)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Get("a")
	v, err := F32(a)
	if err != nil || !slices.Equal(v, []float32{1, -2}) {
		t.Errorf("F32(a) = %v, %v", v, err)
	}
	if _, err := F32(&f.Tensors[1]); err == nil {
		t.Error("F32 of a U8 tensor succeeded")
	}
	if _, ok := f.Get("c"); ok {
		t.Error(`Get("c") found a tensor`)
	}
}

func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestReadRejects(t *testing.T) {
	huge := binary.LittleEndian.AppendUint64(nil, MaxHeader+8)
	huge = append(huge, make([]byte, 16)...)
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "shorter than"},
		{"header past end", binary.LittleEndian.AppendUint64(nil, 100), "exceeds the 0 bytes"},
		{"header over limit", huge, "exceeds the limit"},
		{"max uint64 header", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "exceeds the limit"},
		{"empty header", file("", nil), "not a JSON object"},
		{"array header", file("[]", nil), "not a JSON object"},
		{"bad json", file(`{"a":`, nil), "invalid JSON"},
		{"trailing data", file(`{} {}`, nil), "data after"},
		{"duplicate", file(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`, nil), "duplicate"},
		{"unknown dtype", file(`{"a":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), "unknown dtype"},
		{"missing field", file(`{"a":{"dtype":"U8","shape":[1]}}`, []byte{0}), "needs dtype"},
		{"negative dim", file(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, []byte{0}), "negative"},
		{"overflow", file(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,1]}}`, []byte{0}), "overflows"},
		{"huge dim", file(`{"a":{"dtype":"U8","shape":[1e30],"data_offsets":[0,1]}}`, []byte{0}), "invalid header entry"},
		{"three offsets", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, []byte{0}), "want 2"},
		{"out of bounds", file(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, []byte{0}), "out of bounds"},
		{"reversed offsets", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}`, []byte{0}), "out of bounds"},
		{"size mismatch", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,2]}}`, []byte{0, 0}), "needs 4 bytes"},
		{"overlap", file(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, []byte{0, 0, 0}), "overlap"},
		{"gap", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, []byte{0, 0}), "gap"},
		{"uncovered tail", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{0, 0}), "cover 1 bytes of the 2"},
		{"bad metadata", file(`{"__metadata__":{"a":1}}`, nil), "strings to strings"},
	}
	for _, tt := range tests {
		_, err := Read(tt.b)
		if err == nil {
			t.Errorf("%s: Read succeeded", tt.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "safetensors: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestWriteRejects(t *testing.T) {
	ok := FromF32("w", []int{2}, []float32{1, 2})
	tests := []struct {
		name string
		ts   []Tensor
		want string
	}{
		{"empty name", []Tensor{{Name: "", DType: "U8", Shape: []int{0}}}, "invalid tensor name"},
		{"reserved name", []Tensor{{Name: metaKey, DType: "U8", Shape: []int{0}}}, "invalid tensor name"},
		{"duplicate", []Tensor{ok, ok}, "duplicate"},
		{"dtype", []Tensor{{Name: "a", DType: "Q4", Shape: []int{0}}}, "unknown dtype"},
		{"length", []Tensor{{Name: "a", DType: "F32", Shape: []int{2}, Data: make([]byte, 4)}}, "needs 8 bytes"},
		{"negative", []Tensor{{Name: "a", DType: "F32", Shape: []int{-2}}}, "negative"},
	}
	for _, tt := range tests {
		err := Write(&bytes.Buffer{}, tt.ts, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

// FuzzRead checks that Read never panics, and that whatever it accepts
// survives a Write/Read round trip unchanged.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	rng := rand.New(rand.NewPCG(5, 5))
	if err := Write(&buf, randTensors(rng, 4), map[string]string{"x": "y"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(file(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fl, err := Read(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		var out bytes.Buffer
		if err := Write(&out, fl.Tensors, fl.Meta); err != nil {
			if len(fl.Tensors) > 0 && (fl.Tensors[0].Name == "") {
				return // empty names are readable but not writable
			}
			t.Fatalf("Write of a file Read accepted: %v", err)
		}
		g, err := Read(out.Bytes())
		if err != nil {
			t.Fatalf("Read of rewritten file: %v", err)
		}
		if len(g.Tensors) != len(fl.Tensors) || len(g.Meta) != len(fl.Meta) {
			t.Fatalf("round trip changed the file")
		}
		for i := range g.Tensors {
			a, b := g.Tensors[i], fl.Tensors[i]
			if a.Name != b.Name || a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) || !bytes.Equal(a.Data, b.Data) {
				t.Fatalf("round trip changed tensor %q", b.Name)
			}
		}
	})
}

func ExampleWrite() {
	var buf bytes.Buffer
	w := FromF32("0.weight", []int{2, 2}, []float32{1, 2, 3, 4})
	if err := Write(&buf, []Tensor{w}, map[string]string{"spec": "2-2"}); err != nil {
		fmt.Println(err)
		return
	}
	f, err := Read(buf.Bytes())
	if err != nil {
		fmt.Println(err)
		return
	}
	t, _ := f.Get("0.weight")
	v, _ := F32(t)
	fmt.Println(f.Meta["spec"], t.Shape, v)
	// Output: 2-2 [2 2] [1 2 3 4]
}
