package packed

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func randCodes(r *rand.Rand, n, bits int) []int8 {
	q := qmax(bits)
	c := make([]int8, n)
	for i := range c {
		c[i] = int8(r.IntN(2*q+1) - q)
	}
	return c
}

func TestPackBitsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for bits := MinBits; bits <= MaxBits; bits++ {
		for _, n := range []int{0, 1, 3, 5, 17, 129, 1000} {
			c := randCodes(r, n, bits)
			b := make([]byte, codeBytes(int64(n), bits, EncBits))
			packBits(b, c, bits)
			got := make([]int8, n)
			if err := unpackBits(got, b, bits); err != nil {
				t.Fatalf("bits %d n %d: %v", bits, n, err)
			}
			for i := range c {
				if got[i] != c[i] {
					t.Fatalf("bits %d n %d: code %d = %d, want %d", bits, n, i, got[i], c[i])
				}
			}
		}
	}
}

// TestPackBitsLayout pins the documented bit order (FORMAT.md).
func TestPackBitsLayout(t *testing.T) {
	tests := []struct {
		bits  int
		codes []int8
		want  []byte
	}{
		// ternary: -1 -> 0b11, 0 -> 0b00, +1 -> 0b01; first code in bits 0-1.
		{2, []int8{1, 0, -1, 1, -1}, []byte{0b01_11_00_01, 0b00_00_00_11}},
		// 3 bits: 3 -> 011, -3 -> 101, 1 -> 001; the third code straddles bytes.
		{3, []int8{3, -3, 1}, []byte{0b01_101_011, 0b0}},
		{8, []int8{-127, 127}, []byte{0x81, 0x7f}},
	}
	for _, tt := range tests {
		got := make([]byte, codeBytes(int64(len(tt.codes)), tt.bits, EncBits))
		packBits(got, tt.codes, tt.bits)
		if string(got) != string(tt.want) {
			t.Errorf("bits %d codes %v: %08b, want %08b", tt.bits, tt.codes, got, tt.want)
		}
	}
	b3 := make([]byte, 2)
	packBase3(b3, []int8{1, 0, -1, 1, -1, 1})
	// digits 2,1,0,2,0 -> 2 + 1*3 + 0*9 + 2*27 + 0*81 = 59; then digit 2.
	if b3[0] != 59 || b3[1] != 2 {
		t.Errorf("base3: %v, want [59 2]", b3)
	}
}

func TestUnpackRejects(t *testing.T) {
	tests := []struct {
		name string
		bits int
		n    int
		src  []byte
		want string
	}{
		{"ternary 0b10", 2, 4, []byte{0b00_10_00_00}, "not a level"},
		{"8-bit -128", 8, 1, []byte{0x80}, "not a level"},
		{"padding", 3, 2, []byte{0b1100_0000}, "padding"},
		{"length", 2, 5, []byte{0}, "need 2 bytes"},
	}
	for _, tt := range tests {
		err := unpackBits(make([]int8, tt.n), tt.src, tt.bits)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
	if err := unpackBase3(make([]int8, 5), []byte{243}); err == nil {
		t.Error("base3 byte 243 accepted")
	}
	if err := unpackBase3(make([]int8, 1), []byte{1 + 3}); err == nil {
		t.Error("base3 nonzero padding accepted")
	}
}

func TestBase3RoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, n := range []int{0, 1, 4, 5, 6, 17, 1001} {
		c := randCodes(r, n, 2)
		b := make([]byte, codeBytes(int64(n), 2, EncBase3))
		packBase3(b, c)
		got := make([]int8, n)
		if err := unpackBase3(got, b); err != nil {
			t.Fatalf("n %d: %v", n, err)
		}
		for i := range c {
			if got[i] != c[i] {
				t.Fatalf("n %d: code %d = %d, want %d", n, i, got[i], c[i])
			}
		}
	}
}
