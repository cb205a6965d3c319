package nn

import (
	"fmt"
	"math"

	"github.com/resq-dev/resq/tensor"
)

// BatchNorm normalises each channel over the batch (and, for NCHW input,
// over the spatial positions): y = Gamma*(x-mean)/sqrt(var+Eps) + Beta.
//
// Input is [batch, C, H, W] or [batch, C]. In training it uses the batch
// statistics (biased variance) and updates the running statistics
// RunMean/RunVar with Momentum (PyTorch convention: run = (1-m)*run +
// m*batch, unbiased variance); at evaluation it uses the running
// statistics. Gamma and Beta are params (not Quantizable, no decay);
// RunMean and RunVar are state, not params: Model.Buffers lists them for
// checkpoints.
type BatchNorm struct {
	C               int
	Eps, Momentum   float64
	Gamma, Beta     *Param
	RunMean, RunVar *tensor.Tensor // [C]

	idx    int
	n, hw  int
	train  bool
	xhat   []float32      // [batch*C*HW] normalised input of the last training Forward
	invStd []float64      // [C]
	x      *tensor.Tensor // last input (the caller's)
	y, dx  *tensor.Tensor
}

// NewBatchNorm returns a batch norm over c channels with Gamma = 1,
// Beta = 0, RunMean = 0, RunVar = 1, Eps = 1e-5, Momentum = 0.1.
func NewBatchNorm(c int) *BatchNorm {
	if c <= 0 {
		panic(fmt.Sprintf("nn: batchnorm: bad channel count %d", c))
	}
	b := &BatchNorm{
		C: c, Eps: 1e-5, Momentum: 0.1,
		Gamma:   &Param{Name: "weight", W: tensor.New(c), G: tensor.New(c)},
		Beta:    &Param{Name: "bias", W: tensor.New(c), G: tensor.New(c)},
		RunMean: tensor.New(c),
		RunVar:  tensor.New(c),
		invStd:  make([]float64, c),
	}
	tensor.Fill(b.Gamma.W.Data, 1)
	tensor.Fill(b.RunVar.Data, 1)
	return b
}

// Kind returns "batchnorm".
func (*BatchNorm) Kind() string { return "batchnorm" }

// Params returns [Gamma, Beta].
func (b *BatchNorm) Params() []*Param { return []*Param{b.Gamma, b.Beta} }

func (b *BatchNorm) setIndex(i int) { b.idx = i }

// Forward normalises x per channel.
func (b *BatchNorm) Forward(x *tensor.Tensor, train bool) *tensor.Tensor {
	if (len(x.Shape) != 4 && len(x.Shape) != 2) || x.Shape[1] != b.C {
		panic(fmt.Sprintf("nn: batchnorm %d: input %v does not match %d channels", b.idx, x.Shape, b.C))
	}
	n, c := x.Shape[0], b.C
	if len(b.invStd) != c {
		b.invStd = make([]float64, c)
	}
	hw := 1
	if len(x.Shape) == 4 {
		hw = x.Shape[2] * x.Shape[3]
	}
	b.n, b.hw, b.train, b.x = n, hw, train, x
	b.y = ensure(b.y, x.Shape...)
	y := b.y.Data
	gamma, beta := b.Gamma.Value().Data, b.Beta.Value().Data
	if !train {
		for ch := 0; ch < c; ch++ {
			inv := 1 / math.Sqrt(float64(b.RunVar.Data[ch])+b.Eps)
			sc := float32(float64(gamma[ch]) * inv)
			sh := beta[ch] - sc*b.RunMean.Data[ch]
			for i := 0; i < n; i++ {
				o := (i*c + ch) * hw
				for j, v := range x.Data[o : o+hw] {
					y[o+j] = v*sc + sh
				}
			}
		}
		return b.y
	}
	m := n * hw
	if m < 2 {
		panic(fmt.Sprintf("nn: batchnorm %d: training needs at least 2 values per channel, input %v", b.idx, x.Shape))
	}
	if cap(b.xhat) < len(x.Data) {
		b.xhat = make([]float32, len(x.Data))
	}
	xh := b.xhat[:len(x.Data)]
	mom := b.Momentum
	for ch := 0; ch < c; ch++ {
		var s float64
		for i := 0; i < n; i++ {
			o := (i*c + ch) * hw
			for _, v := range x.Data[o : o+hw] {
				s += float64(v)
			}
		}
		mean := s / float64(m)
		var ss float64
		for i := 0; i < n; i++ {
			o := (i*c + ch) * hw
			for _, v := range x.Data[o : o+hw] {
				d := float64(v) - mean
				ss += d * d
			}
		}
		vr := ss / float64(m)
		inv := 1 / math.Sqrt(vr+b.Eps)
		b.invStd[ch] = inv
		g, be := gamma[ch], beta[ch]
		for i := 0; i < n; i++ {
			o := (i*c + ch) * hw
			for j, v := range x.Data[o : o+hw] {
				h := float32((float64(v) - mean) * inv)
				xh[o+j] = h
				y[o+j] = g*h + be
			}
		}
		b.RunMean.Data[ch] = float32((1-mom)*float64(b.RunMean.Data[ch]) + mom*mean)
		b.RunVar.Data[ch] = float32((1-mom)*float64(b.RunVar.Data[ch]) + mom*vr*float64(m)/float64(m-1))
	}
	return b.y
}

// Backward overwrites Gamma.G and Beta.G and returns dx. After an
// evaluation Forward the normalisation is a fixed affine map and dx is
// dy*Gamma/sqrt(RunVar+Eps).
func (b *BatchNorm) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkSame(dy, b.y, "batchnorm", b.idx)
	n, c, hw := b.n, b.C, b.hw
	b.dx = ensure(b.dx, dy.Shape...)
	dx := b.dx.Data
	gamma := b.Gamma.Value().Data
	if !b.train {
		for ch := 0; ch < c; ch++ {
			inv := 1 / math.Sqrt(float64(b.RunVar.Data[ch])+b.Eps)
			sc := float32(float64(gamma[ch]) * inv)
			mean := float64(b.RunMean.Data[ch])
			var sg, sgx float64
			for i := 0; i < n; i++ {
				o := (i*c + ch) * hw
				for j, g := range dy.Data[o : o+hw] {
					dx[o+j] = g * sc
					sg += float64(g)
					sgx += float64(g) * (float64(b.x.Data[o+j]) - mean) * inv
				}
			}
			b.Beta.G.Data[ch] = float32(sg)
			b.Gamma.G.Data[ch] = float32(sgx)
		}
		return b.dx
	}
	xh := b.xhat[:len(dy.Data)]
	m := float64(n * hw)
	for ch := 0; ch < c; ch++ {
		var sg, sgx float64
		for i := 0; i < n; i++ {
			o := (i*c + ch) * hw
			for j, g := range dy.Data[o : o+hw] {
				sg += float64(g)
				sgx += float64(g) * float64(xh[o+j])
			}
		}
		b.Beta.G.Data[ch] = float32(sg)
		b.Gamma.G.Data[ch] = float32(sgx)
		// dx = gamma*inv/m * (m*dy - sum(dy) - xhat*sum(dy*xhat))
		k := float64(gamma[ch]) * b.invStd[ch] / m
		for i := 0; i < n; i++ {
			o := (i*c + ch) * hw
			for j, g := range dy.Data[o : o+hw] {
				dx[o+j] = float32(k * (m*float64(g) - sg - float64(xh[o+j])*sgx))
			}
		}
	}
	return b.dx
}
