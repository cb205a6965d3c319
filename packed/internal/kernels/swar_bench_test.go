package kernels

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// BenchmarkGoKernels runs the pure-Go GEMMs (SWAR on PackW's layout, the
// lookup-table kernel on T2) on the hidden-layer shape of 784-1024x3-10
// at batch 1 (padded to 4 rows, 3 of them zero) and 100.
func BenchmarkGoKernels(b *testing.B) {
	prev, _ := Force(NameGo)
	defer Force(prev)
	const n, k = 1024, 1024
	for _, m := range []int{1, 100} {
		mp := Pad4(m)
		for _, tc := range []struct {
			name       string
			xmax, wmax int
		}{{"ternary", 255, 1}, {"3bit", 255, 3}, {"8bit", 127, 127}} {
			r := rand.New(rand.NewPCG(1, 1))
			x, w := randProblem(r, mp, n, k, Pad16(k), tc.xmax, tc.wmax)
			clear(x[m*Pad16(k):])
			wp := make([]int8, PackedLen(n, k))
			PackW(wp, w, n, k)
			c := make([]int32, mp*n)
			var cpu0 time.Duration
			gmacs := func(b *testing.B) {
				b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
				// per CPU second: less disturbed by other processes
				b.ReportMetric(float64(m*n*k)*float64(b.N)/(cpuTime()-cpu0).Seconds()/1e9, "GMAC/cpu-s")
			}
			b.Run(fmt.Sprintf("m%d/%s/swar", m, tc.name), func(b *testing.B) {
				cpu0 = cpuTime()
				for b.Loop() {
					Gemm(1, 2*tc.xmax*tc.wmax, mp, n, k, x, Pad16(k), wp, c, n)
				}
				gmacs(b)
			})
			if tc.wmax == 1 {
				w2 := make([]uint8, T2Len(n, k))
				PackT2(w2, w, n, k)
				b.Run(fmt.Sprintf("m%d/%s/t2lut", m, tc.name), func(b *testing.B) {
					cpu0 = cpuTime()
					for b.Loop() {
						GemmT2(1, m, n, k, x, Pad16(k), w2, c, n)
					}
					gmacs(b)
				})
			}
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
