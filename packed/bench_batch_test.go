package packed

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/resq-dev/resq/tensor"
)

// BenchmarkInferBatch compares packed inference of 784-1024x3-10 with the
// selected kernel against resq's float32 forward of the same network, at
// batch 1 (latency) and batch 100, for ternary, 3-bit and 8-bit weights.
// Built with -tags purego both sides run pure Go.
func BenchmarkInferBatch(b *testing.B) {
	for _, batch := range []int{1, 100} {
		r := rand.New(rand.NewPCG(1, 1))
		x := tensor.New(batch, 784)
		for i := range x.Data {
			x.Data[i] = r.Float32()
		}
		for _, bits := range []int{2, 3, 8} {
			m, pm := benchModel(b, bits)
			// samples per CPU second (process CPU time, all threads) is
			// less disturbed by other processes than the wall time.
			var cpu0 time.Duration
			report := func(b *testing.B) {
				b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
				b.ReportMetric(float64(batch)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "samples/cpu-s")
			}
			if bits == 2 {
				b.Run(fmt.Sprintf("batch%d/float32_nn", batch), func(b *testing.B) {
					cpu0 = cpuTime()
					for b.Loop() {
						m.Forward(x, false)
					}
					report(b)
				})
			}
			b.Run(fmt.Sprintf("batch%d/packed_b%d", batch, bits), func(b *testing.B) {
				dst := make([]float32, batch*10)
				cpu0 = cpuTime()
				for b.Loop() {
					pm.Infer(dst, x.Data, batch)
				}
				report(b)
			})
		}
	}
}
