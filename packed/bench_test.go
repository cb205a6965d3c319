package packed

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed/internal/kernels"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
)

// benchModel builds the paper-size MLP 784-1024x3-10, quantizes it to bits
// and returns the float model (with Q attached) and its packed form.
func benchModel(b *testing.B, bits int) (*nn.Model, *Model) {
	m, err := nn.Build("mlp:784-1024x3-10", nil, 1)
	if err != nil {
		b.Fatal(err)
	}
	s, err := quant.Attach(m, quant.Config{Bits: bits, Rule: "maxabs"})
	if err != nil {
		b.Fatal(err)
	}
	a, data, err := fromModel(m, stateQuant(s), Options{}, false)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := encode(&buf, a, m.Spec, data, Meta{}); err != nil {
		b.Fatal(err)
	}
	pm, err := LoadBytes(buf.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	return m, pm
}

// BenchmarkInferMLP compares packed integer inference of the ternary
// 784-1024x3-10 MLP at batch 100 with every kernel against resq's own
// float32 forward (nn.Model.Forward, train=false) of the same network.
func BenchmarkInferMLP(b *testing.B) {
	const batch = 100
	for _, bits := range []int{2, 8} {
		m, pm := benchModel(b, bits)
		r := rand.New(rand.NewPCG(1, 1))
		x := tensor.New(batch, 784)
		for i := range x.Data {
			x.Data[i] = r.Float32()
		}
		var cpu0 time.Duration
		start := func() { cpu0 = cpuTime() }
		// cpu-ms/batch (process CPU time, all threads) is less disturbed by
		// other processes on a shared machine than the wall time.
		report := func(b *testing.B) {
			b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/batch")
		}
		b.Run(fmt.Sprintf("784-1024x3-10_b%d_batch100/float32_nn", bits), func(b *testing.B) {
			start()
			for b.Loop() {
				m.Forward(x, false)
			}
			report(b)
		})
		for _, k := range kernels.Available() {
			b.Run(fmt.Sprintf("784-1024x3-10_b%d_batch100/packed_%s", bits, k), func(b *testing.B) {
				prev, _ := kernels.Force(k)
				defer kernels.Force(prev)
				dst := make([]float32, batch*10)
				start()
				for b.Loop() {
					pm.Infer(dst, x.Data, batch)
				}
				report(b)
			})
		}
	}
}

// cpuTime returns the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
