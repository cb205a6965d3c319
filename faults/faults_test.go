package faults

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
)

// TestStreamVectors checks SplitMix64 against its reference outputs for
// seed 0 (the values of the published C implementation).
func TestStreamVectors(t *testing.T) {
	s := Stream{}
	for i, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := s.Next(); got != want {
			t.Errorf("output %d: %#x, want %#x", i, got, want)
		}
	}
	if got, want := TrialSeed(0, 2), uint64(0x06c45d188009454f); got != want {
		t.Errorf("TrialSeed(0, 2) = %#x, want %#x", got, want)
	}
}

func TestThreshold(t *testing.T) {
	for _, tc := range []struct {
		ber  float64
		want uint64
	}{{0, 0}, {1, math.MaxUint64}, {0.5, 1 << 63}, {0.25, 1 << 62}, {math.Ldexp(1, -64), 1}} {
		if got := Threshold(tc.ber); got != tc.want {
			t.Errorf("Threshold(%g) = %#x, want %#x", tc.ber, got, tc.want)
		}
	}
}

// TestFlipBytes checks the flip rate against the binomial spread and that
// a larger rate flips a superset of a smaller rate's bits.
func TestFlipBytes(t *testing.T) {
	const n = 1 << 17 // bytes
	for _, ber := range []float64{1e-4, 1e-2, 0.3} {
		b := make([]byte, n)
		got := FlipBytes(b, &Stream{State: 7}, Threshold(ber))
		mean := ber * 8 * n
		if sd := math.Sqrt(mean * (1 - ber)); math.Abs(float64(got)-mean) > 5*sd {
			t.Errorf("BER %g: %d flips, want %.0f ± %.0f", ber, got, mean, 5*sd)
		}
		ones := 0
		for _, v := range b {
			ones += popcount8(v)
		}
		if ones != got {
			t.Errorf("BER %g: %d bits set, %d flips reported", ber, ones, got)
		}
		lo := make([]byte, n)
		FlipBytes(lo, &Stream{State: 7}, Threshold(ber/10))
		for i := range lo {
			if lo[i]&^b[i] != 0 {
				t.Fatalf("BER %g: byte %d flipped at a tenth of the rate but not at the rate", ber, i)
			}
		}
	}
}

func codesRegion(codes []int8, rows, cols, bits int) region {
	b, _ := packedCodes(codes, bits)
	return region{kind: kindCodes, bits: bits, enc: packed.EncBits, rows: rows, cols: cols, b: b}
}

// packedCodes packs codes as a bit stream (FORMAT.md), for tests.
func packedCodes(codes []int8, bits int) ([]byte, error) {
	b := make([]byte, (len(codes)*bits+7)/8)
	for i, c := range codes {
		v := uint32(uint8(c)) & (1<<bits - 1)
		for k := 0; k < bits; k++ {
			if v>>k&1 == 1 {
				p := i*bits + k
				b[p/8] |= 1 << (p % 8)
			}
		}
	}
	return b, nil
}

func decoded(r region) []int8 {
	c := make([]int8, r.rows*r.cols)
	packed.DecodeBits(c, r.b, r.bits)
	return c
}

// TestParity checks that a single flip zeroes its byte's (or row's) codes,
// two flips in one byte go unseen, and a flipped parity bit alone zeroes
// good codes.
func TestParity(t *testing.T) {
	codes := []int8{1, -1, 1, 1, -1, 1, 1, 1, -1, 1, 1, -1} // 3 rows of 4, 3 bytes
	orig := memory{codesRegion(codes, 3, 4, 2)}
	for _, tc := range []struct {
		prot string
		flip []int // stream bits to flip
		want []int8
	}{
		{ProtParityByte, []int{9}, []int8{1, -1, 1, 1, 0, 0, 0, 0, -1, 1, 1, -1}},
		{ProtParityByte, []int{8, 10}, nil}, // even: undetected
		{ProtParityRow, []int{17}, []int8{1, -1, 1, 1, -1, 1, 1, 1, 0, 0, 0, 0}},
	} {
		got := orig.clone()
		for _, p := range tc.flip {
			got[0].b[p/8] ^= 1 << (p % 8)
		}
		want := tc.want
		if want == nil {
			want = decoded(got[0])
		}
		protect(tc.prot, orig, got, PartCodes, 1, 0)
		if d := decoded(got[0]); !reflect.DeepEqual(d, want) {
			t.Errorf("%s flips %v: codes %v, want %v", tc.prot, tc.flip, d, want)
		}
	}
	got := orig.clone()
	protect(ProtParityRow, orig, got, PartCodes, 1, math.MaxUint64) // every parity bit flips
	if d := decoded(got[0]); !reflect.DeepEqual(d, make([]int8, 12)) {
		t.Errorf("flipped row parity bits leave codes %v, want zeros", d)
	}
}

// TestClampAndTMR checks that clamp bounds corrupted words and that a
// majority of three copies outvotes one corrupted copy.
func TestClampAndTMR(t *testing.T) {
	w := []float32{0.5, -0.25, 0.125}
	orig := memory{{scale: true, kind: kindF32, rows: 1, cols: 3, b: f32Bytes(w)}}
	got := orig.clone()
	got[0].setWord(0, math.Float32bits(1e38))
	got[0].setWord(1, math.Float32bits(float32(math.NaN())))
	protect(ProtClamp, orig, got, PartScales, 1, 0)
	if a, b := got[0].f32(0), got[0].f32(1); a != 0.5 || b != 0 {
		t.Errorf("clamped words %v %v, want 0.5 0", a, b)
	}
	got = orig.clone()
	got[0].b[3] ^= 0x40                           // exponent bit of word 0
	protect(ProtTMR, orig, got, PartScales, 1, 0) // copies 2 and 3 stay intact at rate 0
	if !same(orig, got) {
		t.Error("TMR does not outvote one corrupted copy")
	}
}

// teacher returns a random MLP and a test split labelled by the model's
// own predictions (fault-free error 0).
func teacher(t *testing.T, r *rand.Rand, n int) (*nn.Model, data.Split) {
	t.Helper()
	m, err := nn.Build("mlp:32-24-5", nil, r.Uint64())
	if err != nil {
		t.Fatal(err)
	}
	s := data.Split{X: make([]float32, n*32), Y: make([]int32, n), N: n, D: 32}
	for i := range s.X {
		s.X[i] = float32(r.IntN(256)) / 255
	}
	m.Predict(s.Y, &tensor.Tensor{Shape: []int{n, 32}, Data: s.X})
	return m, s
}

// TestRunReproducible runs float32, packed and integer-only models: the
// same seed gives the same result whatever the workers, no flips give the
// fault-free error, and flipping half the bits breaks the model.
func TestRunReproducible(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m, test := teacher(t, r, 300)
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "f32.ckpt")}
	if err := saveFloat(files[0], m); err != nil {
		t.Fatal(err)
	}
	for _, bits := range []int{2, 3} {
		q, err := nn.Build("mlp:32-24-5", nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		copyParams(q, m)
		s, err := quant.Attach(q, quant.Config{Bits: bits})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "q.rqp")
		if _, err := packed.Export(p, q, s, packed.Meta{}); err != nil {
			t.Fatal(err)
		}
		ip := filepath.Join(dir, "q.int.rqp")
		if _, err := packed.ExportInteger(ip, q, s, test.X, test.N, packed.IntOptions{}, packed.Meta{}); err != nil {
			t.Fatal(err)
		}
		b1, _ := os.ReadFile(p)
		b2, _ := os.ReadFile(ip)
		files = append(files, writeTemp(t, dir, b1), writeTemp(t, dir, b2))
	}
	for i, f := range files {
		c := Config{BERs: []float64{0, 1e-3, 0.5}, Trials: 3, Seed: 9, Protections: []string{ProtNone, ProtParityRow, ProtTMR}}
		if i > 0 { // packed: activation codes too
			c.Parts = []string{PartCodes, PartScales, PartAll, PartActs, PartBoth}
		}
		a, err := RunFile(context.Background(), f, test, withWorkers(c, 1))
		if err != nil {
			t.Fatal(err)
		}
		b, err := RunFile(context.Background(), f, test, withWorkers(c, 3))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.Curves, b.Curves) {
			t.Errorf("%s: results depend on the worker count", a.Format)
		}
		for _, cv := range a.Curves {
			if p := cv.Points[0]; p.Mean != a.FaultFree || p.Flipped != 0 {
				t.Errorf("%s %s %s: rate 0 gives error %.2f, fault-free %.2f", a.Format, cv.Part, cv.Protection, p.Mean, a.FaultFree)
			}
			if p := cv.Points[2]; cv.Part != PartScales && cv.Protection == ProtNone && p.Mean < a.FaultFree+10 {
				t.Errorf("%s %s: half the bits flipped gives error %.2f, fault-free %.2f", a.Format, cv.Part, p.Mean, a.FaultFree)
			}
		}
	}
}

func withWorkers(c Config, w int) Config { c.Workers = w; return c }

// TestActsNeedCodes checks that activation faults on a float32
// checkpoint, which holds no activation codes, are an error naming the
// flag.
func TestActsNeedCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	m, test := teacher(t, r, 20)
	_, err := RunFloat(context.Background(), m, test, Config{BERs: []float64{1e-3}, Trials: 1, Parts: []string{PartActs}}, "f32")
	if err == nil || !strings.Contains(err.Error(), "--target activations") {
		t.Errorf("activation faults on a float32 model: %v", err)
	}
}

var tempN int

func writeTemp(t *testing.T, dir string, b []byte) string {
	tempN++
	p := filepath.Join(dir, "m"+strings.Repeat("x", tempN)+".rqp")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func copyParams(dst, src *nn.Model) {
	for i, p := range src.Params() {
		copy(dst.Params()[i].W.Data, p.W.Data)
	}
}

// TestConfigErrors checks the one-line errors naming the flag.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{BERs: []float64{1.5}, Trials: 1}, "--ber 1.5"},
		{Config{BERs: []float64{-1e-3}, Trials: 1}, "--ber"},
		{Config{BERs: []float64{math.NaN()}, Trials: 1}, "--ber"},
		{Config{BERs: []float64{1e-3}, Trials: 0}, "--trials 0"},
		{Config{BERs: []float64{1e-3}, Trials: 1, Parts: []string{"acts"}}, "--part"},
		{Config{BERs: []float64{1e-3}, Trials: 1, Protections: []string{"ecc"}}, "--protect"},
	} {
		err := tc.c.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: error %v, want one line naming %s", tc.c, err, tc.want)
		}
	}
}

func TestTolerated(t *testing.T) {
	pts := []Point{{BER: 1e-6, Mean: 1.1}, {BER: 1e-5, Mean: 1.4}, {BER: 1e-4, Mean: 1.7}, {BER: 1e-3, Mean: 1.2}}
	if got := tolerated(pts, 1.0); got != 1e-5 {
		t.Errorf("tolerated %g, want 1e-5 (a later recovery does not count)", got)
	}
	if got := tolerated(pts[2:3], 1.0); got != 0 {
		t.Errorf("tolerated %g, want 0", got)
	}
}
