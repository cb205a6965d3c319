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
		keep          bool
		best, set     string
	}{
		{"AVX-512 CPU OpenBLAS does not know", avx512, "Prescott", "", false, "SkylakeX", "SkylakeX"},
		{"AVX-512 CPU on AVX2 kernels", avx512, "Haswell", "", false, "SkylakeX", "SkylakeX"},
		{"lower-case name", avx512, "prescott", "", false, "SkylakeX", "SkylakeX"},
		{"Cooperlake autodetected", avx512, "Cooperlake", "", false, "SkylakeX", ""},
		{"SkylakeX autodetected", avx512, "SkylakeX", "", false, "SkylakeX", ""},
		{"user's weaker choice replaced", avx512, "Prescott", "Prescott", false, "SkylakeX", "SkylakeX"},
		{"environment's Haswell on AVX-512 replaced", avx512, "Haswell", "Haswell", false, "SkylakeX", "SkylakeX"},
		{"user's weaker choice kept on request", avx512, "Haswell", "Haswell", true, "SkylakeX", ""},
		{"user's equal choice kept", avx512, "SkylakeX", "SkylakeX", false, "SkylakeX", ""},
		{"user's unknown core kept", avx512, "Prescott", "Futurelake", false, "SkylakeX", ""},
		{"unknown core kept", avx512, "Futurelake", "", false, "SkylakeX", ""},
		{"Zen 3 fallback", zen3, "Nehalem", "", false, "Zen", "Zen"},
		{"Zen 3 fine", zen3, "Zen", "", false, "Zen", ""},
		{"Intel AVX2", intelAVX2, "Sandybridge", "", false, "Haswell", "Haswell"},
		{"AVX2 CPU on Zen kernels", intelAVX2, "Zen", "", false, "Haswell", ""},
		{"SSE-only CPU", CPUFeatures{}, "Prescott", "", false, "Prescott", ""},
		{"AVX-512F without BW", CPUFeatures{AVX: true, AVX2: true, FMA: true, AVX512F: true}, "Haswell", "", false, "Haswell", ""},
	}
	for _, c := range cases {
		d := ChooseBLASCore(c.f, c.running, c.user, c.keep)
		if d.Best != c.best || d.Set != c.set || d.Running != c.running || d.UserSet != c.user {
			t.Errorf("%s: got %+v, want best %s set %q", c.name, d, c.best, c.set)
		}
		if s := d.String(); !strings.Contains(s, c.running) {
			t.Errorf("%s: %q does not name the running core", c.name, s)
		}
	}
	d := ChooseBLASCore(avx512, "Prescott", "", false)
	if s := d.String(); !strings.Contains(s, "fallback") || !strings.Contains(s, "OPENBLAS_CORETYPE=SkylakeX") {
		t.Errorf("fallback described as %q", s)
	}
	d = ChooseBLASCore(avx512, "Haswell", "Haswell", false)
	if s := d.String(); !strings.Contains(s, "weaker") || !strings.Contains(s, "OPENBLAS_CORETYPE=SkylakeX") || !strings.Contains(s, KeepCoreEnv) {
		t.Errorf("replaced user core described as %q", s)
	}
	d = ChooseBLASCore(avx512, "SkylakeX", "", false)
	d.Autodetected, d.Overrode = "Haswell", "Haswell"
	if s := d.String(); !strings.Contains(s, "replacing the environment's weaker Haswell") {
		t.Errorf("forced core over a user's described as %q", s)
	}
	d = ChooseBLASCore(avx512, "SkylakeX", "", false)
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
