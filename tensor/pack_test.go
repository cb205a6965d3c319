package tensor

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPackAAsmMatchesGo checks that packA's assembly sliver packers (where
// the CPU has them) write exactly what its Go loops write, for both
// layouts of A, partial slivers and every kernel's sliver height.
func TestPackAAsmMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, mr := range []int{3, 6, 8, 12, 14, 16, 28} {
		for _, mc := range []int{1, 3, mr, 17, 2*mr + 1} {
			for _, kc := range []int{1, 3, 17, 129} {
				for _, transA := range []bool{false, true} {
					t.Run(fmt.Sprintf("mr%d/mc%d/kc%d/t%v", mr, mc, kc, transA), func(t *testing.T) {
						const ic, pc = 2, 1
						m, k := ic+mc+1, pc+kc+2
						lda := k + 3
						if transA {
							lda = m + 3
						}
						rows := m
						if transA {
							rows = k
						}
						a := randSlice(rng, rows*lda)
						n := (mc + mr - 1) / mr * mr * kc
						got := make([]float32, n)
						want := make([]float32, n)
						for i := range got {
							got[i], want[i] = 99, 99 // must be overwritten, padding too
						}
						packA(got, transA, a, lda, ic, pc, mc, kc, mr)
						prev := hasPackAVX512
						hasPackAVX512 = false
						packA(want, transA, a, lda, ic, pc, mc, kc, mr)
						hasPackAVX512 = prev
						if !slices.Equal(got, want) {
							t.Fatalf("packA differs from the Go loops")
						}
					})
				}
			}
		}
	}
}

// TestPickKernel checks auto mode's shape rule with a stand-in second
// kernel, and that SetKernel turns it off and back on.
func TestPickKernel(t *testing.T) {
	best := kernels[0]
	alt := &microKernel{name: "alt-6x16", mr: 6, nr: 16}
	if best.mr%6 == 0 && best.nr%16 == 0 {
		t.Skipf("kernel %s pads like the stand-in", best.name)
	}
	prevAlt := altKernel
	altKernel = alt
	defer func() { altKernel = prevAlt }()
	prev, _ := SetKernel("auto")
	defer SetKernel(prev)
	padded := func(k *microKernel, m, n int) int {
		return (m + k.mr - 1) / k.mr * k.mr * ((n + k.nr - 1) / k.nr * k.nr)
	}
	for _, s := range [][2]int{{100, 1024}, {128, 784}, {32, 784}, {64, 196}, {1024, 1024}, {1024, 784}, {1, 1}, {17, 129}} {
		m, n := s[0], s[1]
		want := best
		if m <= n && float64(padded(alt, m, n)) < altGain*float64(padded(best, m, n)) {
			want = alt
		}
		if got := pickKernel(m, n); got != want {
			t.Errorf("pickKernel(%d, %d) = %s, want %s", m, n, got.name, want.name)
		}
	}
	if name := Kernel(); name != best.name+"+alt-6x16" {
		t.Errorf("Kernel() = %q in auto mode", name)
	}
	p, err := SetKernel(best.name)
	if err != nil {
		t.Fatal(err)
	}
	if got := pickKernel(100, 1024); got != best {
		t.Errorf("SetKernel(%s) still picks %s", best.name, got.name)
	}
	if _, err := SetKernel(p); err != nil || !autoMode.Load() {
		t.Errorf("SetKernel(%q) did not restore auto mode: %v", p, err)
	}
}
