package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// npyRaw builds a .npy file by hand with the given version and header.
func npyRaw(major byte, header string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY")
	b.WriteByte(major)
	b.WriteByte(0)
	if major == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	}
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestNPYRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, shape := range [][]int{{1}, {3}, {17, 3}, {3, 4, 5, 2}, {0, 7}} {
		n := 1
		for _, s := range shape {
			n *= s
		}
		f32 := make([]float32, n)
		f64 := make([]float64, n)
		u8 := make([]uint8, n)
		i32 := make([]int32, n)
		i64 := make([]int64, n)
		for i := range n {
			f32[i] = float32(rng.NormFloat64())
			f64[i] = float64(f32[i])
			u8[i] = uint8(rng.IntN(256))
			i32[i] = int32(rng.IntN(2000) - 1000)
			i64[i] = int64(i32[i])
		}
		for _, data := range []any{f32, f64, u8, i32, i64} {
			var buf bytes.Buffer
			if err := WriteNPY(&buf, shape, data); err != nil {
				t.Fatal(err)
			}
			for _, size := range []int64{int64(buf.Len()), -1} {
				a, err := ReadNPY(bytes.NewReader(buf.Bytes()), size, "a.npy")
				if err != nil {
					t.Fatalf("%v %T: %v", shape, data, err)
				}
				if !slices.Equal(a.Shape, shape) || a.Len() != n {
					t.Fatalf("%v %T: shape %v len %d", shape, data, a.Shape, a.Len())
				}
				got := make([]float32, n)
				a.Float32s(got)
				for i := range n {
					var want float32
					switch d := data.(type) {
					case []float32:
						want = d[i]
					case []float64:
						want = float32(d[i])
					case []uint8:
						want = float32(d[i])
					case []int32:
						want = float32(d[i])
					case []int64:
						want = float32(d[i])
					}
					if got[i] != want {
						t.Fatalf("%v %T: element %d = %g, want %g", shape, data, i, got[i], want)
					}
				}
			}
		}
	}
}

func TestNPYHeaderVersions(t *testing.T) {
	data := []byte{1, 0, 0, 0, 2, 0, 0, 0}
	for _, tc := range []struct {
		major byte
		hdr   string
	}{
		{1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n"},
		{2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }          \n"},
		{3, `{"descr": "<i4", "fortran_order": False, "shape": (2L,)}`},
		{1, "{'shape':(2,),'fortran_order':False,'descr':'=i4'}"},
	} {
		a, err := ReadNPY(bytes.NewReader(npyRaw(tc.major, tc.hdr, data)), -1, "v.npy")
		if err != nil {
			t.Fatalf("v%d %q: %v", tc.major, tc.hdr, err)
		}
		if v, ok := a.Int(1); !ok || v != 2 || a.Dtype != "i4" {
			t.Fatalf("v%d: element 1 = %d %v dtype %s", tc.major, v, ok, a.Dtype)
		}
	}
}

func TestNPYErrors(t *testing.T) {
	hdr := func(descr, fortran, shape string) string {
		return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }\n", descr, fortran, shape)
	}
	four := make([]byte, 16)
	cases := []struct {
		name string
		in   []byte
		size bool // pass the true size
		want string
	}{
		{"magic", []byte("PK\x03\x04zipfile"), false, "wrong magic"},
		{"short", []byte("\x93NUM"), false, "truncated at byte 4 of the 8-byte NPY preamble"},
		{"version", npyRaw(1, "", nil)[:6:6], false, "truncated"},
		{"version 9", append([]byte("\x93NUMPY\x09\x00"), 0, 0), false, "unsupported NPY format version 9.0"},
		{"big endian", npyRaw(1, hdr(">f4", "False", "(4,)"), four), true, `unsupported NPY dtype ">f4"`},
		{"complex", npyRaw(1, hdr("<c8", "False", "(2,)"), four), true, `unsupported NPY dtype "<c8"`},
		{"object", npyRaw(1, hdr("|O", "False", "(2,)"), four), true, "unsupported NPY dtype"},
		{"structured", npyRaw(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", four), true, "structured dtypes"},
		{"fortran", npyRaw(1, hdr("<f4", "True", "(2, 2)"), four), true, "Fortran-order arrays are not supported"},
		{"lying header sized", npyRaw(1, hdr("<f4", "False", "(100, 2)"), four), true, "header says shape [100 2] of <f4 (800 data bytes) but the file has 16 data bytes"},
		{"lying header stream", npyRaw(1, hdr("<f4", "False", "(100, 2)"), four), false, "truncated at byte"},
		{"trailing stream", npyRaw(1, hdr("<f4", "False", "(3,)"), four), false, "trailing bytes"},
		{"negative", npyRaw(1, hdr("<f4", "False", "(-1, 4)"), four), true, "negative dimension"},
		{"huge", npyRaw(1, hdr("<f8", "False", "(4294967296, 4294967296)"), four), true, "claims more than"},
		{"bad dict", npyRaw(1, "{'descr': '<f4' 'shape': (4,)}", four), true, "bad NPY header"},
		{"no shape", npyRaw(1, "{'descr': '<f4', 'fortran_order': False}", four), true, "no integer tuple 'shape'"},
		{"header cut", npyRaw(1, hdr("<f4", "False", "(4,)"), four)[:30], false, "truncated at byte 30 of the"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			size := int64(-1)
			if tc.size {
				size = int64(len(tc.in))
			}
			_, err := ReadNPY(bytes.NewReader(tc.in), size, "bad.npy")
			if err == nil || !strings.HasPrefix(err.Error(), "data: bad.npy: ") || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

func writeNPYFile(t *testing.T, path string, shape []int, data any) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteNPY(&b, shape, data); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b.Bytes())
}

func TestLoadNPY(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	// [N, H, W, C] uint8 features must come out CHW and scaled by 1/255.
	const n, h, w, c = 3, 2, 4, 3
	hwc := make([]uint8, n*h*w*c)
	for i := range hwc {
		hwc[i] = uint8(i % 251)
	}
	writeNPYFile(t, p("trx.npy"), []int{n, h, w, c}, hwc)
	writeNPYFile(t, p("try.npy"), []int{n}, []int64{0, 4, 1})
	writeNPYFile(t, p("tex.npy"), []int{2, h, w, c}, hwc[:2*h*w*c])
	writeNPYFile(t, p("tey.npy"), []int{2}, []float32{2, 3})
	name := "npy:" + p("trx.npy") + "," + p("try.npy") + "," + p("tex.npy") + "," + p("tey.npy")
	ds, err := Load(name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Shape, []int{c, h, w}) || ds.Classes != 5 || ds.Train.N != n || ds.Test.N != 2 || ds.Train.D != c*h*w {
		t.Fatalf("shape %v classes %d train %d test %d", ds.Shape, ds.Classes, ds.Train.N, ds.Test.N)
	}
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					want := float32(hwc[((i*h+y)*w+x)*c+ch]) / 255
					if got := ds.Train.X[i*c*h*w+(ch*h+y)*w+x]; got != want {
						t.Fatalf("row %d c%d y%d x%d = %g, want %g", i, ch, y, x, got, want)
					}
				}
			}
		}
	}
	if !strings.HasPrefix(ds.Checksum, "sha256:") || ds.Test.Y[1] != 3 {
		t.Fatalf("checksum %q labels %v", ds.Checksum, ds.Test.Y)
	}

	// Dense float features are kept as given.
	writeNPYFile(t, p("fx.npy"), []int{2, 3}, []float64{-1.5, 0, 2, 3, 4, 1e6})
	writeNPYFile(t, p("fy.npy"), []int{2}, []uint8{1, 0})
	ds, err = Load("npy:"+p("fx.npy")+","+p("fy.npy")+","+p("fx.npy")+","+p("fy.npy"), Options{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Shape, []int{3}) || ds.Train.N != 1 || !slices.Equal(ds.Train.X, []float32{-1.5, 0, 2}) {
		t.Fatalf("dense: shape %v train %+v", ds.Shape, ds.Train)
	}

	writeNPYFile(t, p("neg.npy"), []int{3}, []int32{0, -1, 2})
	writeNPYFile(t, p("frac.npy"), []int{3}, []float32{0, 0.5, 1})
	writeNPYFile(t, p("short.npy"), []int{2}, []int32{0, 1})
	writeNPYFile(t, p("x1.npy"), []int{3, 2, 2, 2, 2}, make([]float32, 48))
	nanX := make([]float32, 3*h*w*c)
	nanX[h*w*c+5] = float32(math.NaN())
	writeNPYFile(t, p("nanx.npy"), []int{3, h, w, c}, nanX)
	infX := make([]float64, 3*h*w*c)
	infX[2*h*w*c] = math.Inf(-1)
	writeNPYFile(t, p("infx.npy"), []int{3, h, w, c}, infX)
	writeNPYFile(t, p("huge.npy"), []int{3}, []float64{0, 1e20, 1})
	writeNPYFile(t, p("nanlab.npy"), []int{3}, []float32{0, 1, float32(math.NaN())})
	writeNPYFile(t, p("nox.npy"), []int{0, h, w, c}, []uint8{})
	writeNPYFile(t, p("noy.npy"), []int{0}, []uint8{})
	if err := os.Mkdir(p("folder.npy"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		files [4]string
		want  string
	}{
		{[4]string{"trx.npy", "neg.npy", "tex.npy", "tey.npy"}, "label -1 of row 1 out of range"},
		{[4]string{"trx.npy", "frac.npy", "tex.npy", "tey.npy"}, "label 0.5 of row 1 is not a whole number"},
		{[4]string{"trx.npy", "short.npy", "tex.npy", "tey.npy"}, "has 3 rows but"},
		{[4]string{"x1.npy", "try.npy", "tex.npy", "tey.npy"}, "want [N, D], [N, H, W] or [N, H, W, C]"},
		{[4]string{"trx.npy", "try.npy", "fx.npy", "fy.npy"}, "per-sample shape"},
		{[4]string{"trx.npy", "missing.npy", "tex.npy", "tey.npy"}, "missing.npy\": no such file"},
		{[4]string{"nanx.npy", "try.npy", "tex.npy", "tey.npy"}, "nanx.npy\": row 1, feature 5 is NaN: features must be finite"},
		{[4]string{"trx.npy", "try.npy", "infx.npy", "try.npy"}, "infx.npy\": row 2, feature 0 is -Inf"},
		{[4]string{"trx.npy", "huge.npy", "tex.npy", "tey.npy"}, "huge.npy\": label 1e+20 of row 1 out of range 0..1048575"},
		{[4]string{"trx.npy", "nanlab.npy", "tex.npy", "tey.npy"}, "label NaN of row 2 is not a whole number"},
		{[4]string{"trx.npy", "try.npy", "nox.npy", "noy.npy"}, "nox.npy\": the test split has no rows"},
		{[4]string{"trx.npy", "try.npy", "folder.npy", "tey.npy"}, "folder.npy\" is a folder, not an .npy file"},
	}
	for _, tc := range bad {
		name := "npy:" + p(tc.files[0]) + "," + p(tc.files[1]) + "," + p(tc.files[2]) + "," + p(tc.files[3])
		if _, err := Load(name, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "data: ") {
			t.Errorf("%v: error %v, want %q", tc.files, err, tc.want)
		}
	}
	if _, err := Load("npy:a.npy,b.npy", Options{}); err == nil || !strings.Contains(err.Error(), "four comma-separated paths") {
		t.Errorf("two paths: %v", err)
	}
}

// TestListCacheIsAFile checks that a cache folder that is a file is an
// error, not a cache with every dataset missing.
func TestListCacheIsAFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := List(p); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("err %v, want one saying the cache folder is a file", err)
	}
}
