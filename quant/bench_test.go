package quant

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/resq-dev/resq/tensor"
)

// BenchmarkSync compares Sync (re-quantizing every weight of
// 784-1024x3-10, 2.9M weights) with one SGD training step of the same
// model at batch 100, the ratio that bounds retraining's overhead.
func BenchmarkSync(b *testing.B) {
	m := buildModel(b, "mlp:784-1024x3-10", 1)
	s, err := Attach(m, Config{Bits: 2})
	if err != nil {
		b.Fatal(err)
	}
	nw, _ := m.Count()
	b.Run("784-1024x3-10/sync", func(b *testing.B) {
		for b.Loop() {
			if err := s.Sync(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(nw)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gweights/s")
		b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/sync")
	})
	b.Run("784-1024x3-10/train-step-b100", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 1))
		x := tensor.New(100, 784)
		for i := range x.Data {
			x.Data[i] = r.Float32()
		}
		y := make([]int32, 100)
		for i := range y {
			y[i] = int32(r.IntN(10))
		}
		for b.Loop() {
			m.Loss.Forward(m.Forward(x, true), y)
			m.Backward(m.Loss.Backward())
			for _, p := range m.Params() {
				for i, g := range p.G.Data {
					p.W.Data[i] -= 1e-4 * g
				}
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/step")
	})
}

// BenchmarkReestimate times re-estimating every step of 784-1024x3-10
// (what Sync does every Reestimate calls, and Attach once).
func BenchmarkReestimate(b *testing.B) {
	for _, cfg := range []Config{{Bits: 2}, {Bits: 8}, {Bits: 2, PerChannel: true}, {Bits: 8, PerChannel: true}} {
		name := fmt.Sprintf("784-1024x3-10/bits=%d/perchannel=%v", cfg.Bits, cfg.PerChannel)
		b.Run(name, func(b *testing.B) {
			m := buildModel(b, "mlp:784-1024x3-10", 1)
			s, err := Attach(m, cfg)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				s.estimate()
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/estimate")
		})
	}
}
