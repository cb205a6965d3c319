package cost

import (
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/resq-dev/resq/internal/host"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/tensor"
)

// Latency is the measured wall time of inference on this machine.
type Latency struct {
	Batch1US   float64 `json:"batch1_us"`   // one sample, microseconds
	Batch100US float64 `json:"batch100_us"` // one batch of 100 samples, microseconds
	Engine     string  `json:"engine"`      // "packed" (integer engine) or "float32" (nn forward)
	CPU        string  `json:"cpu"`         // processor model
	Cores      int     `json:"cores"`       // GOMAXPROCS during the measurement
}

// PerSample100US returns the time per sample at batch 100.
func (l *Latency) PerSample100US() float64 { return l.Batch100US / 100 }

// Timing rounds: each round runs the model until roundTime has passed
// (at least once); the fastest round's time per call is kept, which is
// the least disturbed by other processes on a shared machine.
const (
	rounds    = 5
	roundTime = 20 * time.Millisecond
)

// MeasurePacked times the packed engine's Infer on m at batch 1 and 100,
// on inputs drawn from a seeded generator (timings do not depend on the
// values). No other work should run meanwhile.
func MeasurePacked(m *packed.Model) *Latency {
	d := tensor.Numel(m.In)
	x := inputs(100 * d)
	out := make([]float32, 100*m.Classes)
	l := &Latency{Engine: "packed", CPU: host.CPU(), Cores: runtime.GOMAXPROCS(0)}
	l.Batch1US = timeCalls(func() { m.Infer(out[:m.Classes], x[:d], 1) })
	l.Batch100US = timeCalls(func() { m.Infer(out, x, 100) })
	return l
}

// MeasureFloat times the float32 forward pass of m (package nn, no
// training) at batch 1 and 100.
func MeasureFloat(m *nn.Model) *Latency {
	d := tensor.Numel(m.In)
	x := inputs(100 * d)
	x1 := tensor.FromData(x[:d], 1, d)
	x100 := tensor.FromData(x, 100, d)
	l := &Latency{Engine: "float32", CPU: host.CPU(), Cores: runtime.GOMAXPROCS(0)}
	l.Batch1US = timeCalls(func() { m.Forward(x1, false) })
	l.Batch100US = timeCalls(func() { m.Forward(x100, false) })
	return l
}

func inputs(n int) []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

// timeCalls returns the fastest round's microseconds per call of f.
func timeCalls(f func()) float64 {
	f() // warm up: pools, caches
	best := 0.0
	for range rounds {
		n := 0
		t0 := time.Now()
		for n == 0 || time.Since(t0) < roundTime {
			f()
			n++
		}
		us := time.Since(t0).Seconds() * 1e6 / float64(n)
		if best == 0 || us < best {
			best = us
		}
	}
	return best
}
