package nn

import (
	"strings"
	"testing"
)

func TestMLPSpecRoundTrip(t *testing.T) {
	for _, c := range []struct{ in, w, d, cl int }{{784, 1024, 3, 10}, {3072, 32, 1, 10}, {5, 7, 0, 2}, {100, 64, 6, 26}} {
		s := MLPSpec(c.in, c.w, c.d, c.cl, "act=tanh")
		info, err := ParseSpec(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		want := SpecInfo{Family: "mlp", In: c.in, Width: c.w, Depth: c.d, Classes: c.cl, Scale: 1}
		if c.d == 0 {
			want.Width = 0
		}
		if info != want {
			t.Errorf("ParseSpec(%q) = %+v, want %+v", s, info, want)
		}
	}
	if info, _ := ParseSpec("mlp:784-512-256-10"); info.Width != 0 || info.Depth != 2 {
		t.Errorf("mixed widths: %+v", info)
	}
}

func TestScaleCNN(t *testing.T) {
	cases := []struct {
		base string
		mult float64
		want string
		maps []int // conv maps after scaling
	}{
		{"cnn:32c5-p2-64c5-p2-fc512-10", 0.5, "cnn:32c5-p2-64c5-p2-fc512-10,x0.5", []int{16, 32}},
		{"cnn:32c5-p2-64c5-p2-fc512-10,x2", 2, "cnn:32c5-p2-64c5-p2-fc512-10,x4", []int{128, 256}},
		{"cnn:32c5-p2-64c5-p2-fc512-10,x2,bn", 0.5, "cnn:32c5-p2-64c5-p2-fc512-10,bn", []int{32, 64}},
		{"cnn:3c3-5c3-10", 0.25, "cnn:3c3-5c3-10,x0.25", []int{1, 1}},   // 0.75 -> 1, 1.25 -> 1
		{"cnn:6c3-10c3-10", 0.25, "cnn:6c3-10c3-10,x0.25", []int{2, 3}}, // 1.5 -> 2, 2.5 -> 3 (half away from zero)
	}
	for _, c := range cases {
		got, err := ScaleCNN(c.base, c.mult)
		if err != nil || got != c.want {
			t.Errorf("ScaleCNN(%q, %v) = %q, %v; want %q", c.base, c.mult, got, err, c.want)
			continue
		}
		m, err := Build(got, []int{1, 8, 8}, 1)
		if err != nil {
			t.Fatal(err)
		}
		var maps []int
		for _, l := range m.Layers {
			if cv, ok := l.(*Conv2D); ok {
				maps = append(maps, cv.K)
			}
		}
		if len(maps) != len(c.maps) || maps[0] != c.maps[0] || maps[1] != c.maps[1] {
			t.Errorf("%s: conv maps %v, want %v", got, maps, c.maps)
		}
		// FC widths are not scaled.
		for _, l := range m.Layers {
			if d, ok := l.(*Dense); ok && strings.Contains(got, "fc512") && d.Out != 512 && d.Out != 10 {
				t.Errorf("%s: dense width %d scaled", got, d.Out)
			}
		}
	}
	for _, c := range []struct {
		base string
		mult float64
		want string
	}{
		{"mlp:784-10", 2, "not a cnn spec"},
		{"cnn:32c5-10", 0, "bad multiplier 0"},
		{"cnn:32c5-10", -1, "bad multiplier -1"},
		{"cnn:32q5-10", 2, `bad layer "32q5"`},
	} {
		if _, err := ScaleCNN(c.base, c.mult); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ScaleCNN(%q, %v) error %v, want %q", c.base, c.mult, err, c.want)
		}
	}
}
