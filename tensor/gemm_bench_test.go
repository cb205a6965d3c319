package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkMicroKernel times each micro-kernel alone on L1-resident packed
// slivers (k = 256): the ceiling the blocked driver can reach.
func BenchmarkMicroKernel(b *testing.B) {
	for _, kern := range kernels {
		b.Run(fmt.Sprintf("%s/k256", kern.name), func(b *testing.B) {
			const k = 256
			rng := rand.New(rand.NewPCG(1, 1))
			a := randSlice(rng, kern.mr*k)
			bb := randSlice(rng, kern.nr*k)
			c := make([]float32, kern.mr*kern.nr)
			for b.Loop() {
				kern.fn(k, a, bb, c, kern.nr, 1, true)
			}
			b.ReportMetric(float64(2*kern.mr*kern.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// gemmBenchShape is one benchmarked Gemm, op(A) [m, k] times op(B) [k, n].
type gemmBenchShape struct {
	name           string
	m, n, k        int
	transA, transB bool
}

// gemmBenchShapes are the GEMMs of training the 784-1024-1024-1024-10 MLP
// at batch 100 and 128 (as in resq bench gemm) and a square reference:
// {name, m, n, k, transA, transB}.
var gemmBenchShapes = []gemmBenchShape{
	{"Train100x784x1024", 100, 1024, 784, false, true},
	{"Train128x784x1024", 128, 1024, 784, false, true},
	{"Train128x1024x1024", 128, 1024, 1024, false, true},
	{"BwdData128x1024x784", 128, 784, 1024, false, false},
	{"BwdFilter1024x128x784", 1024, 784, 128, true, false},
	{"BwdData100x1024x784", 100, 784, 1024, false, false},
	{"BwdFilter1024x100x784", 1024, 784, 100, true, false},
	{"Square1024", 1024, 1024, 1024, false, false},
}

// operands returns seeded random A and B, a zero C and the leading
// dimensions of a shape's operands.
func (s gemmBenchShape) operands() (a, b, c []float32, lda, ldb int) {
	rng := rand.New(rand.NewPCG(1, 1))
	a = randSlice(rng, s.m*s.k)
	b = randSlice(rng, s.k*s.n)
	c = make([]float32, s.m*s.n)
	lda, ldb = s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	return a, b, c, lda, ldb
}

// BenchmarkGemm times Gemm (auto kernel) at the training shapes on 1 and 2
// goroutines.
func BenchmarkGemm(b *testing.B) {
	for _, s := range gemmBenchShapes {
		a, bb, c, lda, ldb := s.operands()
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads%d", s.name, th), func(b *testing.B) {
				prev := SetThreads(th)
				defer SetThreads(prev)
				for b.Loop() {
					Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkConv times one CNN layer (N=100, C=32, 14×14, K=64, 5×5, pad 2)
// forward and both backward passes; GFLOP/s counts 2*N*K*OH*OW*C*R*S per pass.
func BenchmarkConv(b *testing.B) {
	g := ConvGeom{N: 100, C: 32, H: 14, W: 14, K: 64, R: 5, S: 5, Stride: 1, Pad: 2}
	oh, ow := g.OutH(), g.OutW()
	flops := 2 * float64(g.N*g.K*oh*ow*g.C*g.R*g.S)
	rng := rand.New(rand.NewPCG(1, 1))
	x := randSlice(rng, g.N*g.C*g.H*g.W)
	w := randSlice(rng, g.K*g.C*g.R*g.S)
	y := make([]float32, g.N*g.K*oh*ow)
	dx := make([]float32, len(x))
	dw := make([]float32, len(w))
	for _, th := range []int{1, 2} {
		var ws ConvWork
		run := func(name string, f func()) {
			b.Run(fmt.Sprintf("Layer100x32x14x14k64r5/%s/threads%d", name, th), func(b *testing.B) {
				prev := SetThreads(th)
				defer SetThreads(prev)
				for b.Loop() {
					f()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		run("forward", func() { ConvForward(y, x, w, g, &ws) })
		if th == 1 {
			// The forward pass's GEMMs alone (prepacked weights, one
			// im2col'd image reused): the bound the convolution
			// approaches when im2col and its scheduling cost nothing.
			kern := active.Load()
			crs := g.C * g.R * g.S
			col := make([]float32, crs*oh*ow)
			Im2col(col, x[:g.C*g.H*g.W], g)
			pa := prepackA(kern, nil, false, w, crs, g.K, crs)
			run("forward-gemm-only", func() {
				for n := 0; n < g.N; n++ {
					gemmSerial(kern, pa, nil, false, false, g.K, oh*ow, crs, 1, w, crs, col, oh*ow, 0, y[n*g.K*oh*ow:], oh*ow)
				}
			})
		}
		run("backward-data", func() { ConvBackwardData(dx, y, w, g, &ws) })
		run("backward-filter", func() { ConvBackwardFilter(dw, y, x, g, &ws) })
	}
}

// BenchmarkGemmPanelK tunes the K panel (microKernel.kc) of the kernel
// auto mode picks at each training shape, on 1 and 2 goroutines: every
// iteration is one round in which each candidate panel depth takes its
// turn for a few calls, so that a slow spell of the machine hits all of
// them, and the best call of each is reported as GFLOP/s-kcNNNN. panelK
// splits K into equal panels of at most kc, so candidates that give the
// same panels at a shape time the same code. The kernel's own kc is
// restored afterwards; run it alone, e.g.
//
//	go test -run XXX -bench GemmPanelK -benchtime 40x ./tensor
func BenchmarkGemmPanelK(b *testing.B) {
	cands := []int{128, 192, 256, 384, 512, 1024}
	for _, s := range gemmBenchShapes {
		a, bb, c, lda, ldb := s.operands()
		kern := pickKernel(s.m, s.n)
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/%s/threads%d", s.name, kern.name, th), func(b *testing.B) {
				kc0 := kern.kc
				defer func() { kern.kc = kc0 }()
				best := make([]float64, len(cands))
				for b.Loop() {
					for i, kc := range cands {
						kern.kc = kc
						for range 3 {
							t0 := time.Now()
							gemmN(th, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
							best[i] = max(best[i], 2*float64(s.m*s.n*s.k)/time.Since(t0).Seconds()/1e9)
						}
					}
				}
				for i, kc := range cands {
					b.ReportMetric(best[i], fmt.Sprintf("GFLOP/s-kc%04d", kc))
				}
				b.ReportMetric(float64(kc0), "kc-now")
			})
		}
	}
}

// BenchmarkGemmEdges times each kernel that has edge kernels at the
// training shapes, with and without them, on 1 and 2 goroutines: every
// iteration is one round in which both take turns for a few calls, and
// the best call of each is reported (GFLOP/s-edges, GFLOP/s-whole) with
// their ratio. Filter by shape and kernel, e.g.
//
//	go test -run XXX -bench 'GemmEdges/BwdData128x1024x784/avx512-6x64r' -benchtime 40x ./tensor
func BenchmarkGemmEdges(b *testing.B) {
	for _, s := range gemmBenchShapes {
		a, bb, c, lda, ldb := s.operands()
		for _, kern := range kernels {
			if len(kern.edges) == 0 {
				continue
			}
			for _, th := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/threads%d", s.name, kern.name, th), func(b *testing.B) {
					prev, _ := SetKernel(kern.name)
					defer SetKernel(prev)
					edges := kern.edges
					defer func() { kern.edges = edges }()
					var best [2]float64
					for b.Loop() {
						for i, es := range [][]edgeKernel{edges, nil} {
							kern.edges = es
							for range 3 {
								t0 := time.Now()
								gemmN(th, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
								best[i] = max(best[i], 2*float64(s.m*s.n*s.k)/time.Since(t0).Seconds()/1e9)
							}
						}
					}
					b.ReportMetric(best[0], "GFLOP/s-edges")
					b.ReportMetric(best[1], "GFLOP/s-whole")
					b.ReportMetric(best[0]/best[1], "ratio")
				})
			}
		}
	}
}
