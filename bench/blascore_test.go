package bench

import (
	"fmt"
	"strings"
	"testing"
)

func TestChooseBLASCore(t *testing.T) {
	avx512 := CPUFeatures{AVX: true, AVX2: true, FMA: true, AVX512F: true, AVX512BW: true, AVX512VL: true, AVX512DQ: true}
	zen3 := CPUFeatures{AMD: true, AVX: true, AVX2: true, FMA: true}
	intelAVX2 := CPUFeatures{AVX: true, AVX2: true, FMA: true}
	cases := []struct {
		name          string
		f             CPUFeatures
		running, user string
		best, set     string
	}{
		{"AVX-512 CPU OpenBLAS does not know", avx512, "Prescott", "", "SkylakeX", "SkylakeX"},
		{"AVX-512 CPU on AVX2 kernels", avx512, "Haswell", "", "SkylakeX", "SkylakeX"},
		{"lower-case name", avx512, "prescott", "", "SkylakeX", "SkylakeX"},
		{"Cooperlake autodetected", avx512, "Cooperlake", "", "SkylakeX", ""},
		{"SkylakeX autodetected", avx512, "SkylakeX", "", "SkylakeX", ""},
		{"user's choice kept", avx512, "Prescott", "Prescott", "SkylakeX", ""},
		{"unknown core kept", avx512, "Futurelake", "", "SkylakeX", ""},
		{"Zen 3 fallback", zen3, "Nehalem", "", "Zen", "Zen"},
		{"Zen 3 fine", zen3, "Zen", "", "Zen", ""},
		{"Intel AVX2", intelAVX2, "Sandybridge", "", "Haswell", "Haswell"},
		{"AVX2 CPU on Zen kernels", intelAVX2, "Zen", "", "Haswell", ""},
		{"SSE-only CPU", CPUFeatures{}, "Prescott", "", "Prescott", ""},
		{"AVX-512F without BW", CPUFeatures{AVX: true, AVX2: true, FMA: true, AVX512F: true}, "Haswell", "", "Haswell", ""},
	}
	for _, c := range cases {
		d := ChooseBLASCore(c.f, c.running, c.user)
		if d.Best != c.best || d.Set != c.set || d.Running != c.running || d.UserSet != c.user {
			t.Errorf("%s: got %+v, want best %s set %q", c.name, d, c.best, c.set)
		}
		if s := d.String(); !strings.Contains(s, c.running) {
			t.Errorf("%s: %q does not name the running core", c.name, s)
		}
	}
	d := ChooseBLASCore(avx512, "Prescott", "")
	if s := d.String(); !strings.Contains(s, "fallback") || !strings.Contains(s, "OPENBLAS_CORETYPE=SkylakeX") {
		t.Errorf("fallback described as %q", s)
	}
	d = ChooseBLASCore(avx512, "SkylakeX", "")
	d.Autodetected = "Prescott"
	if s := d.String(); !strings.Contains(s, "Prescott") || !strings.Contains(s, "SkylakeX") {
		t.Errorf("forced core described as %q", s)
	}
}

func TestPeerThreads(t *testing.T) {
	for _, c := range []struct {
		want    []int
		threads int
		got     string
		err     bool
	}{
		{nil, 1, "[1]", false},
		{nil, 2, "[1 2]", false},
		{nil, 4, "[1 4]", false},
		{[]int{2}, 2, "[2]", false},
		{[]int{3}, 2, "", true},
		{[]int{0}, 2, "", true},
	} {
		ts, err := peerThreads(c.want, c.threads)
		if (err != nil) != c.err {
			t.Errorf("peerThreads(%v, %d): err %v", c.want, c.threads, err)
			continue
		}
		if err == nil && fmt.Sprint(ts) != c.got {
			t.Errorf("peerThreads(%v, %d) = %v, want %s", c.want, c.threads, ts, c.got)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "bench: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}
