package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
	"github.com/resq-dev/resq/tensor"
)

// InferNets are the networks RunInfer measures by default: the paper's
// MLP and one square 2048x2048 layer (the GEMV of bitnet.cpp's figure).
var InferNets = []string{"mlp:784-1024x3-10", "mlp:2048-2048"}

// FloatBits is the Bits value of the float32 forward (nn.Model.Forward)
// in InferOptions and InferResult.
const FloatBits = 32

// InferOptions configures RunInfer. Zero values pick defaults.
type InferOptions struct {
	Nets    []string      // dense model specs; nil = InferNets
	Bits    []int         // weight precisions 2..8, FloatBits for float32; nil = 2, 3, 8, 32
	Batches []int         // samples per call; nil = 1, 100
	Threads []int         // goroutines; nil = 1, 2
	Kernels []string      // packed integer kernels; nil = every assembly kernel of this CPU (else go)
	MinTime time.Duration // per timing round; 0 = 50ms
	Rounds  int           // timing rounds, best kept; 0 = 15
	Seed    uint64        // weights and inputs; 0 = 1
	JSON    bool          // one JSON object per result and line instead of a table
}

// InferResult is one measured configuration.
type InferResult struct {
	Net         string  `json:"net"`
	Bits        int     `json:"bits"` // FloatBits: the float32 forward
	Batch       int     `json:"batch"`
	Threads     int     `json:"threads"`
	Kernel      string  `json:"kernel"` // packed integer kernel, or the float GEMM kernel
	SamplesPerS float64 `json:"samples_per_s"`
	GMACs       float64 `json:"gmacs"` // 1e9 weight multiply-adds per second
	MACs        int64   `json:"macs_per_sample"`
	WeightBytes int64   `json:"weight_bytes"`         // codes at bits per weight (float32: 4 bytes)
	ZeroCodes   float64 `json:"zero_codes,omitempty"` // fraction of zero weight codes
	// Vs8 is SamplesPerS over the 8-bit engine's with the same kernel,
	// batch and threads (0 when not measured).
	Vs8 float64 `json:"vs_8bit,omitempty"`
}

// benchNet is one network at one precision, ready to time.
type benchNet struct {
	bits  int
	float *nn.Model     // FloatBits
	pm    *packed.Model // integer bits
	zeros float64
}

// RunInfer times the packed integer engine (packed.Model.Infer) at each
// precision and kernel and the float32 forward of the same networks, at
// each batch size and thread count, and writes a table or JSON lines to w.
// Weights are drawn by InferWeights and quantized as resq quantize does
// (quant.Attach, rule l2); inputs are uniform on [0, 1), like pixels.
// Calls of one network, batch and thread count take turns round by round,
// so that a slow spell of a shared machine hits all of them.
func RunInfer(w io.Writer, opt InferOptions) ([]InferResult, error) {
	opt = inferDefaults(opt)
	for _, t := range opt.Threads {
		if t < 1 {
			return nil, fmt.Errorf("bench: %d threads, need at least 1", t)
		}
	}
	for _, k := range opt.Kernels {
		if !slices.Contains(packed.IntKernels(), k) {
			return nil, fmt.Errorf("bench: packed kernel %q not available on this CPU (have %v)", k, packed.IntKernels())
		}
	}
	dir, err := os.MkdirTemp("", "resq-bench-infer")
	if err != nil {
		return nil, fmt.Errorf("bench: %v", err)
	}
	defer os.RemoveAll(dir)
	prevKernel := packed.IntKernel()
	defer packed.SetIntKernel(prevKernel)
	prevProcs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prevProcs)
	prevThreads := tensor.SetThreads(0)
	defer tensor.SetThreads(prevThreads)

	var tw *tabwriter.Writer
	if !opt.JSON {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "net\tbatch\tthreads\tbits\tkernel\tsamples/s\tG MAC/s\tvs 8-bit\tzero codes\t\n")
	}
	enc := json.NewEncoder(w)
	var all []InferResult
	for ni, spec := range opt.Nets {
		nets, macs, inputs, err := buildInferNets(dir, spec, opt.Bits, opt.Seed+uint64(ni))
		if err != nil {
			return nil, err
		}
		for _, batch := range opt.Batches {
			if batch < 1 {
				return nil, fmt.Errorf("bench: batch %d, need at least 1", batch)
			}
			x := tensor.New(batch, inputs)
			r := rand.New(rand.NewPCG(opt.Seed, uint64(batch)))
			for i := range x.Data {
				x.Data[i] = r.Float32()
			}
			for _, threads := range opt.Threads {
				rs := timeInfer(nets, x, batch, threads, opt)
				for i := range rs {
					rs[i].Net, rs[i].MACs = spec, macs
					rs[i].GMACs = rs[i].SamplesPerS * float64(macs) / 1e9
					rs[i].WeightBytes = (macs*int64(rs[i].Bits) + 7) / 8
				}
				vs8(rs)
				for _, res := range rs {
					if opt.JSON {
						if err := enc.Encode(res); err != nil {
							return nil, fmt.Errorf("bench: %v", err)
						}
					} else {
						fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%.0f\t%.1f\t%s\t%s\t\n", res.Net, res.Batch, res.Threads, bitsName(res.Bits), res.Kernel,
							res.SamplesPerS, res.GMACs, ratioText(res.Vs8), zerosText(res))
					}
				}
				all = append(all, rs...)
			}
		}
	}
	if tw != nil {
		return all, tw.Flush()
	}
	return all, nil
}

func inferDefaults(opt InferOptions) InferOptions {
	if opt.Nets == nil {
		opt.Nets = InferNets
	}
	if opt.Bits == nil {
		opt.Bits = []int{2, 3, 8, FloatBits}
	}
	if opt.Batches == nil {
		opt.Batches = []int{1, 100}
	}
	if opt.Threads == nil {
		opt.Threads = []int{1, 2}
	}
	if opt.Kernels == nil {
		for _, k := range packed.IntKernels() {
			if k != "go" {
				opt.Kernels = append(opt.Kernels, k)
			}
		}
		if opt.Kernels == nil {
			opt.Kernels = []string{"go"}
		}
	}
	// Many short rounds: on a shared machine a slow spell of a few
	// seconds then costs a configuration a few of its rounds, not its
	// best one.
	if opt.MinTime <= 0 {
		opt.MinTime = 50 * time.Millisecond
	}
	if opt.Rounds <= 0 {
		opt.Rounds = 15
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	return opt
}

// timeInfer measures every precision and kernel of one network at one
// batch size and thread count, best of opt.Rounds rounds.
func timeInfer(nets []benchNet, x *tensor.Tensor, batch, threads int, opt InferOptions) []InferResult {
	type call struct {
		res InferResult
		run func()
	}
	var calls []call
	for _, n := range nets {
		if n.float != nil {
			m := n.float
			calls = append(calls, call{InferResult{Bits: FloatBits, Batch: batch, Threads: threads, Kernel: tensor.Kernel()},
				func() { m.Forward(x, false) }})
			continue
		}
		pm := n.pm
		dst := make([]float32, batch*pm.Classes)
		for _, k := range opt.Kernels {
			calls = append(calls, call{InferResult{Bits: n.bits, Batch: batch, Threads: threads, Kernel: k, ZeroCodes: n.zeros},
				func() {
					packed.SetIntKernel(k)
					pm.Infer(dst, x.Data, batch)
				}})
		}
	}
	runtime.GOMAXPROCS(threads)
	tensor.SetThreads(threads)
	for _, c := range calls {
		c.run() // warm up: page in weights, fill pools
	}
	out := make([]InferResult, len(calls))
	for i, c := range calls {
		out[i] = c.res
	}
	for r := 0; r < opt.Rounds; r++ {
		for i, c := range calls {
			n := 0
			start := time.Now()
			var el time.Duration
			for el < opt.MinTime || n == 0 {
				c.run()
				n++
				el = time.Since(start)
			}
			out[i].SamplesPerS = max(out[i].SamplesPerS, float64(batch*n)/el.Seconds())
		}
	}
	return out
}

// vs8 fills Vs8 of the integer results that have an 8-bit peer.
func vs8(rs []InferResult) {
	for i := range rs {
		for _, p := range rs {
			if p.Bits == 8 && rs[i].Bits != FloatBits && p.Kernel == rs[i].Kernel && rs[i].Bits != 8 {
				rs[i].Vs8 = rs[i].SamplesPerS / p.SamplesPerS
			}
		}
	}
}

func bitsName(b int) string {
	if b == FloatBits {
		return "float32"
	}
	return fmt.Sprint(b)
}

func ratioText(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}

func zerosText(r InferResult) string {
	if r.Bits == FloatBits {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*r.ZeroCodes)
}

// InferWeights fills every weight matrix of m with Laplacian values of
// scale 1/sqrt(fan_in) (standard deviation sqrt(2/fan_in), the He scale;
// the weights of trained MLPs are close to Laplacian) and every bias with
// N(0, 0.01^2), from a local RNG seeded with seed.
func InferWeights(m *nn.Model, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x1afe))
	for _, p := range m.Params() {
		if !p.Quantizable {
			for i := range p.W.Data {
				p.W.Data[i] = float32(0.01 * r.NormFloat64())
			}
			continue
		}
		fanIn := p.W.Shape[len(p.W.Shape)-1]
		b := 1 / math.Sqrt(float64(fanIn))
		for i := range p.W.Data {
			// Laplace(0, b): the difference of two exponentials.
			p.W.Data[i] = float32(b * (r.ExpFloat64() - r.ExpFloat64()))
		}
	}
}

// buildInferNets builds spec once per precision: the float model, or the
// model quantized to b bits (rule l2) and loaded back from a packed file
// written under dir.
func buildInferNets(dir, spec string, bits []int, seed uint64) (nets []benchNet, macs int64, inputs int, err error) {
	var out []benchNet
	for _, b := range bits {
		m, err := nn.Build(spec, nil, seed)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("bench: %v", err)
		}
		macs, inputs = 0, tensor.Numel(m.In)
		for _, l := range m.Layers {
			if k := l.Kind(); k != "dense" && k != "relu" {
				return nil, 0, 0, fmt.Errorf("bench: %s: layer kind %q; infer benchmarks take dense MLPs without dropout", spec, k)
			}
		}
		for _, p := range m.Params() {
			if p.Quantizable {
				macs += int64(len(p.W.Data))
			}
		}
		if b != FloatBits && (b < packed.MinBits || b > packed.MaxBits) {
			return nil, 0, 0, fmt.Errorf("bench: %d bits: the packed engine takes %d..%d (or %d for float32)", b, packed.MinBits, packed.MaxBits, FloatBits)
		}
		InferWeights(m, seed)
		if b == FloatBits {
			out = append(out, benchNet{bits: b, float: m})
			continue
		}
		s, err := quant.Attach(m, quant.Config{Bits: b, Rule: "l2"})
		if err != nil {
			return nil, 0, 0, fmt.Errorf("bench: %v", err)
		}
		path := filepath.Join(dir, fmt.Sprintf("b%d.rq", b))
		if _, err := packed.Export(path, m, s, packed.Meta{}); err != nil {
			return nil, 0, 0, err
		}
		pm, err := packed.Load(path)
		if err != nil {
			return nil, 0, 0, err
		}
		out = append(out, benchNet{bits: b, pm: pm, zeros: zeroFraction(m)})
	}
	if len(out) == 0 {
		return nil, 0, 0, fmt.Errorf("bench: no precision to measure")
	}
	return out, macs, inputs, nil
}

// zeroFraction returns the fraction of zero quantized weights of m.
func zeroFraction(m *nn.Model) float64 {
	zeros, n := 0, 0
	for _, p := range m.Params() {
		if !p.Quantizable || p.Q == nil {
			continue
		}
		for _, v := range p.Q.Data {
			if v == 0 {
				zeros++
			}
		}
		n += len(p.Q.Data)
	}
	return float64(zeros) / float64(max(n, 1))
}
