package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/resq-dev/resq/tensor"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// GemmShape is one benchmark problem C[M×N] = op(A)[M×K] * op(B)[K×N].
type GemmShape struct {
	M, N, K        int
	TransA, TransB bool
	Name           string
}

// Flops returns the floating-point operations of one call (2*M*N*K).
func (s GemmShape) Flops() float64 { return 2 * float64(s.M) * float64(s.N) * float64(s.K) }

// TrainingShapes are the GEMMs of training the 784-1024-1024-1024-10 MLP
// (dense weights stored [out, in]) at batch 100 and 128, named
// <pass><M>x<K>x<N>, plus a square reference.
var TrainingShapes = []GemmShape{
	{M: 100, K: 784, N: 1024, TransB: true, Name: "Train100x784x1024"},     // Y = X * W^T, layer 1
	{M: 128, K: 784, N: 1024, TransB: true, Name: "Train128x784x1024"},     // same at batch 128
	{M: 128, K: 1024, N: 1024, TransB: true, Name: "Train128x1024x1024"},   // Y = X * W^T, hidden layers
	{M: 128, K: 1024, N: 784, Name: "BwdData128x1024x784"},                 // dX = dY * W, layer 1
	{M: 1024, K: 128, N: 784, TransA: true, Name: "BwdFilter1024x128x784"}, // dW = dY^T * X, layer 1
	{M: 100, K: 1024, N: 784, Name: "BwdData100x1024x784"},
	{M: 1024, K: 100, N: 784, TransA: true, Name: "BwdFilter1024x100x784"},
	{M: 1024, K: 1024, N: 1024, Name: "Square1024"},
}

// GemmResult is one measured shape. Ratio is GFLOPS/PeerGFLOPS.
type GemmResult struct {
	Name       string  `json:"name"`
	M          int     `json:"m"`
	N          int     `json:"n"`
	K          int     `json:"k"`
	TransA     bool    `json:"transA"`
	TransB     bool    `json:"transB"`
	GFLOPS     float64 `json:"gflops"`
	Threads    int     `json:"threads"`
	Kernel     string  `json:"kernel"`
	Peer       string  `json:"peer,omitempty"`
	PeerGFLOPS float64 `json:"peer_gflops,omitempty"`
	// PeerThreads is the peer's best thread count of those timed
	// (GemmOptions.PeerThreads); PeerGFLOPS is its figure.
	PeerThreads int `json:"peer_threads,omitempty"`
	// PeerCore is the OpenBLAS core type (kernel family) that ran, with
	// how it was chosen (BLASCore.String).
	PeerCore string  `json:"peer_core,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
}

// GemmOptions configures RunGemm. Zero values pick defaults.
type GemmOptions struct {
	Threads int           // goroutines per GEMM (tensor.SetThreads); 0 = tensor.Threads()
	JSON    bool          // one JSON object per line instead of a table
	MinTime time.Duration // per timing round; 0 = 200ms
	Rounds  int           // timing rounds, best kept; 0 = 7
	Kernel  string        // tensor.SetKernel name; "" = auto
	Peers   []string      // "gonum", "openblas"
	Shapes  []GemmShape   // nil = TrainingShapes
	// PeerThreads are the thread counts each peer is timed at, its best
	// kept; nil = 1 and Threads (a peer may do best on fewer threads
	// than it is given). Counts above Threads are not allowed.
	PeerThreads []int
	// Settle is a pause before each timing round that follows another
	// call's round (0 = 100ms when peers are timed, negative = none): OpenBLAS's idle
	// worker threads spin for about 2^28 cycles after a call, and would
	// otherwise take the second core from the next round's call.
	Settle time.Duration
}

// peerFunc runs one sgemm of a peer library with the given thread count
// (row-major, same contract as tensor.Gemm).
type peerFunc func(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// peers maps peer names to implementations; openblas registers itself in
// openblas.go when built with -tags openblas.
var peers = map[string]peerFunc{
	"gonum": gonumSgemm,
}

func gonumSgemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// gonum parallelises over GOMAXPROCS.
	prev := runtime.GOMAXPROCS(threads)
	defer runtime.GOMAXPROCS(prev)
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	gonum.Implementation{}.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// operands returns random A, B and C for s with tight leading dimensions.
func operands(s GemmShape, seed uint64) (a []float32, lda int, b []float32, ldb int, c []float32) {
	rng := rand.New(rand.NewPCG(seed, seed))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	lda, ldb = s.K, s.N
	if s.TransA {
		lda = s.M
	}
	if s.TransB {
		ldb = s.K
	}
	return fill(s.M * s.K), lda, fill(s.K * s.N), ldb, make([]float32, s.M*s.N)
}

// timeRounds returns each call's best GFLOP/s over rounds, each round
// repeating a call for at least minTime. The calls take turns round by
// round, so that a slow spell of a shared machine hits all of them rather
// than one; each round starts after a pause of settle (when > 0), so that
// threads the previous call left spinning are asleep.
func timeRounds(flops float64, rounds int, minTime, settle time.Duration, calls ...func()) []float64 {
	for _, call := range calls {
		call() // warm up: page in buffers, fill pools
	}
	best := make([]float64, len(calls))
	for r := 0; r < rounds; r++ {
		for i, call := range calls {
			if settle > 0 && len(calls) > 1 {
				time.Sleep(settle)
			}
			n := 0
			start := time.Now()
			var el time.Duration
			for el < minTime || n == 0 {
				call()
				n++
				el = time.Since(start)
			}
			best[i] = max(best[i], flops*float64(n)/el.Seconds()/1e9)
		}
	}
	return best
}

// RunGemm times tensor.Gemm (and the requested peers) on each shape and
// writes a table or JSON lines to w. It returns one result per shape and
// peer (one per shape when there are no peers).
func RunGemm(w io.Writer, opt GemmOptions) ([]GemmResult, error) {
	if opt.MinTime <= 0 {
		opt.MinTime = 200 * time.Millisecond
	}
	if opt.Rounds <= 0 {
		// Seven: on a VM whose speed drifts, fewer turns often leave
		// one side without a good round.
		opt.Rounds = 7
	}
	shapes := opt.Shapes
	if shapes == nil {
		shapes = TrainingShapes
	}
	for _, p := range opt.Peers {
		if _, ok := peers[p]; !ok {
			if p == "openblas" {
				return nil, fmt.Errorf("bench: peer openblas needs cgo and OpenBLAS: rebuild with -tags openblas (apt-get install libopenblas-dev)")
			}
			return nil, fmt.Errorf("bench: unknown peer %q (have gonum, openblas)", p)
		}
	}
	if opt.Threads > 0 {
		prev := tensor.SetThreads(opt.Threads)
		defer tensor.SetThreads(prev)
	}
	threads := tensor.Threads()
	if opt.Kernel != "" {
		prev, err := tensor.SetKernel(opt.Kernel)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer tensor.SetKernel(prev)
	}
	kernel := tensor.Kernel()
	pthreads, err := peerThreads(opt.PeerThreads, threads)
	if err != nil {
		return nil, err
	}
	if opt.Settle == 0 && len(opt.Peers) > 0 {
		opt.Settle = 100 * time.Millisecond
	}
	cores := map[string]string{}
	if d, ok := LinkedBLASCore(); ok {
		cores["openblas"] = d.String()
	}

	var results []GemmResult
	var tw *tabwriter.Writer
	if !opt.JSON {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "shape\tM\tN\tK\top\tresq GFLOP/s\tpeer\tpeer threads\tpeer GFLOP/s\tratio\t\n")
	}
	enc := json.NewEncoder(w)
	for i, s := range shapes {
		a, lda, b, ldb, c := operands(s, uint64(i+1))
		calls := []func(){func() {
			tensor.Gemm(s.TransA, s.TransB, s.M, s.N, s.K, 1, a, lda, b, ldb, 0, c, s.N)
		}}
		for _, p := range opt.Peers {
			f := peers[p]
			for _, t := range pthreads {
				calls = append(calls, func() {
					f(t, s.TransA, s.TransB, s.M, s.N, s.K, 1, a, lda, b, ldb, 0, c, s.N)
				})
			}
		}
		g := timeRounds(s.Flops(), opt.Rounds, opt.MinTime, opt.Settle, calls...)
		base := GemmResult{Name: s.Name, M: s.M, N: s.N, K: s.K, TransA: s.TransA, TransB: s.TransB, GFLOPS: g[0], Threads: threads, Kernel: kernel}
		rs := []GemmResult{base}
		if len(opt.Peers) > 0 {
			rs = rs[:0]
			for j, p := range opt.Peers {
				r := base
				r.Peer, r.PeerCore = p, cores[p]
				for ti, t := range pthreads {
					if v := g[1+j*len(pthreads)+ti]; v > r.PeerGFLOPS {
						r.PeerGFLOPS, r.PeerThreads = v, t
					}
				}
				r.Ratio = g[0] / r.PeerGFLOPS
				rs = append(rs, r)
			}
		}
		for _, r := range rs {
			if opt.JSON {
				if err := enc.Encode(r); err != nil {
					return results, fmt.Errorf("bench: %w", err)
				}
			} else {
				op := opName(r.TransA, r.TransB)
				if r.Peer == "" {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%.1f\t-\t-\t-\t-\t\n", r.Name, r.M, r.N, r.K, op, r.GFLOPS)
				} else {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%.1f\t%s\t%d\t%.1f\t%.2f\t\n", r.Name, r.M, r.N, r.K, op, r.GFLOPS, r.Peer, r.PeerThreads, r.PeerGFLOPS, r.Ratio)
				}
			}
			results = append(results, r)
		}
	}
	if tw != nil {
		if err := tw.Flush(); err != nil {
			return results, fmt.Errorf("bench: %w", err)
		}
		fmt.Fprintf(w, "kernel %s, %d thread(s), best of %d rounds of >= %v, resq and peers taking turns", kernel, threads, opt.Rounds, opt.MinTime)
		if len(opt.Peers) > 0 {
			fmt.Fprintf(w, " (%v pause before each); peers timed on %v thread(s), best shown", opt.Settle, pthreads)
		}
		fmt.Fprintln(w)
		for _, p := range opt.Peers {
			if c := cores[p]; c != "" {
				fmt.Fprintf(w, "%s: %s\n", p, c)
			}
		}
	}
	return results, nil
}

// peerThreads returns the thread counts to time peers at: want, checked
// against threads, or 1 and threads.
func peerThreads(want []int, threads int) ([]int, error) {
	if len(want) == 0 {
		if threads == 1 {
			return []int{1}, nil
		}
		return []int{1, threads}, nil
	}
	for _, t := range want {
		if t < 1 || t > threads {
			return nil, fmt.Errorf("bench: peer thread count %d out of range 1..%d (resq's threads)", t, threads)
		}
	}
	return want, nil
}

func opName(ta, tb bool) string {
	var sb strings.Builder
	if ta {
		sb.WriteString("T")
	} else {
		sb.WriteString("N")
	}
	if tb {
		sb.WriteString("T")
	} else {
		sb.WriteString("N")
	}
	return sb.String()
}
