package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// allocated returns the bytes allocated on the heap while f runs.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// randSpec returns a small random spec (valid or not) and input shape.
func randSpec(rng *rand.Rand) (string, []int) {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	var b strings.Builder
	if rng.IntN(2) == 0 {
		fmt.Fprintf(&b, "mlp:%d", 1+rng.IntN(12))
		for range rng.IntN(4) {
			fmt.Fprintf(&b, "-%d", 1+rng.IntN(9))
			if rng.IntN(3) == 0 {
				fmt.Fprintf(&b, "x%d", rng.IntN(4))
			}
		}
		fmt.Fprintf(&b, "-%d%s", 1+rng.IntN(5), pick("", ",drop=0.3", ",dropin=0.2,act=tanh", ",bn", ",act=sigmoid,drop=0.5"))
		in := []int{1 + rng.IntN(12)}
		switch rng.IntN(3) {
		case 0:
			in = nil
		case 1:
			in = []int{1, 1 + rng.IntN(4), 1 + rng.IntN(4)}
		}
		return b.String(), in
	}
	b.WriteString("cnn:")
	for range rng.IntN(6) {
		b.WriteString(pick(fmt.Sprintf("%dc%d", 1+rng.IntN(5), 1+rng.IntN(4)), fmt.Sprintf("%dc%ds%d", 1+rng.IntN(5), 1+rng.IntN(4), 1+rng.IntN(3)),
			"bn", fmt.Sprintf("p%d", 1+rng.IntN(3)), fmt.Sprintf("p%ds%d", 1+rng.IntN(3), 1+rng.IntN(2)), fmt.Sprintf("fc%d", 1+rng.IntN(7))))
		b.WriteString("-")
	}
	fmt.Fprintf(&b, "%d%s", 1+rng.IntN(5), pick("", ",bn", ",drop=0.2", ",x0.5", ",x2.5,act=tanh", ",dropin=0.1"))
	return b.String(), []int{1 + rng.IntN(3), 1 + rng.IntN(9), 1 + rng.IntN(9)}
}

// SpecSize and Build share the plan: the same error, or SpecSize's counts
// equal the built model's Count.
func TestSpecSizeMatchesBuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	built := 0
	for range 2000 {
		spec, in := randSpec(rng)
		w, p, err := SpecSize(spec, in)
		m, berr := Build(spec, in, 1)
		if (err == nil) != (berr == nil) || (err != nil && err.Error() != berr.Error()) {
			t.Fatalf("%s %v: SpecSize error %v, Build error %v", spec, in, err, berr)
		}
		if berr != nil {
			continue
		}
		built++
		if mw, mp := m.Count(); mw != w || mp != p {
			t.Errorf("%s %v: SpecSize = %d, %d; Count = %d, %d", spec, in, w, p, mw, mp)
		}
	}
	if built < 200 {
		t.Errorf("only %d of 2000 random specs built", built)
	}
	w, p, err := SpecSize("mlp:784-1024x3-10", nil)
	if want := int64(784*1024 + 2*1024*1024 + 1024*10); err != nil || w != want || p != want+3*1024+10 {
		t.Errorf("SpecSize(mlp:784-1024x3-10) = %d, %d, %v", w, p, err)
	}
}

// SpecSize of a big but valid model counts it without allocating it.
func TestSpecSizeNoAlloc(t *testing.T) {
	var w, p int64
	var err error
	n := allocated(func() { w, p, err = SpecSize("mlp:784-100000-100000-10", nil) })
	if want := int64(784*100000 + 100000*100000 + 100000*10); err == nil || w != 0 {
		// 1e10 params: above MaxParams.
		t.Errorf("SpecSize of 1e10 params = %d, %d, %v; want an error (weights %d)", w, p, err, want)
	}
	n += allocated(func() { w, p, err = SpecSize("mlp:784-100000-10", nil) })
	if want := int64(784*100000 + 100000*10); err != nil || w != want || p != want+100000+10 {
		t.Errorf("SpecSize(mlp:784-100000-10) = %d, %d, %v", w, p, err)
	}
	if n > 64<<10 {
		t.Errorf("SpecSize allocated %d bytes", n)
	}
}

// Hostile specs and input shapes (as a corrupted checkpoint could hold)
// fail quickly, without allocating the model.
func TestBuildHostile(t *testing.T) {
	many := func(tok string, n int) string { return strings.TrimSuffix(strings.Repeat(tok+"-", n), "-") }
	cases := []struct {
		spec string
		in   []int
		want string
	}{
		{"mlp:784-100000x1000-10", nil, "more than the limit 1073741824"},
		{"mlp:784-40000x2-10", nil, "1631440000 parameters or more, more than the limit"},
		{"mlp:99999999999999999-10", nil, "the input has 99999999999999999 values per sample"},
		{"mlp:4-9223372036854775807-10", nil, `dense layer 4->9223372036854775807 has more than 9223372036854775806 values`},
		{"mlp:16-10", []int{1 << 32, 1 << 32}, "dataset has more than 9223372036854775806"},
		{"mlp:16-10", []int{1 << 62, 4, 1}, "dataset has more than"},
		{"mlp:1-2", []int{1, 1, 1, 1, 1, 1, 1, 1, 1}, "more than 8 dimensions"},
		{"mlp:1-" + many("1x1000", 5) + "-2", nil, "more than 4096 layers"},
		{"mlp:100000000-2", nil, "the input has 100000000 values per sample, more than the limit 67108864"},
		{"mlp:30000-30000-30000-2", nil, "parameters or more"},
		{"cnn:100000c3-100000c3-10", []int{3, 4, 4}, "90002900000 parameters or more"},
		{"cnn:1c3-10", []int{1, 100000, 100000}, "the input has 10000000000 values per sample"},
		{"cnn:1c1-p100000-2", []int{1, 100000, 100000}, "the input has 10000000000 values"},
		{"cnn:1c1-2", []int{1 << 40, 1 << 40, 1 << 40}, "the input has more than"},
		{"cnn:64c3-10", []int{3, 4096, 4096}, `layer "64c3s1" has 1073741824 values per sample`},
		{"cnn:8c3-10,x1e300", []int{1, 8, 8}, "maps, more than the limit"},
		{"cnn:8c3-10,x1e6", []int{1, 8, 8}, `layer "8c3s1" has 512000000 values per sample`},
		{"cnn:1c3037000500-10", []int{1, 8, 8}, "parameters or more"},
		{"cnn:1c9223372036854775807-10", []int{1, 8, 8}, "parameters or more"},
		{"cnn:9223372036854775807c1-10", []int{1, 8, 8}, "maps, more than the limit"},
		{"cnn:fc9223372036854775807-10", []int{1, 8, 8}, "values per sample"},
		{"cnn:4c3-99999999999", []int{1, 8, 8}, "values per sample"},
		{"cnn:" + many("p1", 5000) + "-2", []int{1, 8, 8}, "more than 4096 layers"},
		{"cnn:8c1-p1s9223372036854775807-p9223372036854775807-10", []int{1, 8, 8}, `layer "p9223372036854775807s9223372036854775807" does not fit its 1x1 input`},
	}
	for _, c := range cases {
		var err error
		n := allocated(func() { _, err = Build(c.spec, c.in, 1) })
		name := c.spec
		if len(name) > 60 {
			name = name[:60] + "..."
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "nn: ") {
			t.Errorf("Build(%q, %v) error %v, want one containing %q", name, c.in, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("Build(%q): multi-line error", name)
		}
		if n > 1<<20 {
			t.Errorf("Build(%q, %v) allocated %d bytes before failing", name, c.in, n)
		}
		_, _, serr := SpecSize(c.spec, c.in)
		if serr == nil || err == nil || serr.Error() != err.Error() {
			t.Errorf("SpecSize(%q, %v) error %v, Build error %v", name, c.in, serr, err)
		}
	}
}

func TestSatArith(t *testing.T) {
	const M = math.MaxInt64
	for _, c := range []struct{ a, b, mul, add int64 }{
		{0, M, 0, M},
		{1, M, M, M},
		{2, M / 2, M - 1, M/2 + 2},
		{2, M/2 + 1, M, M/2 + 3},
		{M/2 + 1, M/2 + 1, M, M},
		{M / 2, M/2 + 1, M, M},
		{1 << 31, 1 << 32, M, 1<<31 + 1<<32},
		{1 << 31, 1 << 31, 1 << 62, 1 << 32},
		{3037000499, 3037000499, 3037000499 * 3037000499, 6074000998},
		{3037000500, 3037000500, M, 6074001000},
	} {
		if got := satMul(c.a, c.b); got != c.mul {
			t.Errorf("satMul(%d, %d) = %d, want %d", c.a, c.b, got, c.mul)
		}
		if got := satAdd(c.a, c.b); got != c.add {
			t.Errorf("satAdd(%d, %d) = %d, want %d", c.a, c.b, got, c.add)
		}
	}
}
