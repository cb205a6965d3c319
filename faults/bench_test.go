package faults

import (
	"fmt"
	"testing"
)

// BenchmarkFlipBytes measures the per-bit sampler (one SplitMix64 draw per
// stored bit) over weight memories of MLP sizes: a 784-256x2-10 ternary
// model stores about 68 KiB of codes, its float32 checkpoint about 1 MiB.
func BenchmarkFlipBytes(b *testing.B) {
	for _, n := range []int{64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			buf := make([]byte, n)
			t := Threshold(1e-4)
			b.SetBytes(int64(n))
			for i := 0; b.Loop(); i++ {
				FlipBytes(buf, &Stream{State: uint64(i)}, t)
			}
		})
	}
}
