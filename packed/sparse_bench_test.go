package packed

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSparse times Infer at batch 1 and 100 on a 784-300-100-10 MLP
// whose hidden layers keep a fraction of nonzero codes, with the dense
// kernels ("dense") and with the sparse kernel ("sparse", forced at every
// density), on inputs with 81% zeros like MNIST pixels ("pix") and on
// inputs without zeros ("full"). The sparse kernel's work is the nonzero
// inputs times the nonzero weights of their columns.
//
//	/tmp/quiet go test -run '^$' -bench Sparse -benchtime 2000x ./packed
func BenchmarkSparse(b *testing.B) {
	for _, bits := range []int{2, 3} {
		for _, dens := range []float64{1, 0.5, 0.2, 0.1, 0.05} {
			r := rand.New(rand.NewPCG(18, uint64(100*dens)))
			n := randNet(r, 784, []int{300, 100}, 10, bits, "relu", false, false)
			for i, l := range n.a.Layers {
				if l.weighted() && i < len(n.a.Layers)-1 {
					n.data[i].Codes = sparseCodes(r, len(n.data[i].Codes), bits, dens)
				}
			}
			m, err := LoadBytes(n.bytes(b))
			if err != nil {
				b.Fatal(err)
			}
			dense, sparse := m.withoutSparse(), m.withoutSparse()
			codes := n.denseCodes()
			for i, o := range sparse.ops {
				if o.kind == opDense && codes[i] != nil {
					o.sp = newSparseCols(codes[i], o.rows, o.cols, 1)
				}
			}
			for _, in := range []string{"pix", "full"} {
				for _, batch := range []int{1, 100} {
					x := make([]float32, batch*784)
					for i := range x {
						if in == "full" || r.Float64() < 0.19 {
							x[i] = float32(1+r.IntN(255)) / 255
						}
					}
					dst := make([]float32, batch*10)
					for _, k := range []struct {
						name string
						m    *Model
					}{{"dense", dense}, {"sparse", sparse}} {
						b.Run(fmt.Sprintf("bits=%d/density=%g/in=%s/batch=%d/%s", bits, dens, in, batch, k.name), func(b *testing.B) {
							for range b.N {
								k.m.Infer(dst, x, batch)
							}
							b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(batch), "ns/sample")
						})
					}
				}
			}
		}
	}
}

// denseCodes returns the codes of each engine op of the net's weighted
// layers, in op order (activations are fused, so ops and weighted layers
// line up for MLPs).
func (n testNet) denseCodes() [][]int8 {
	var out [][]int8
	for i, l := range n.a.Layers {
		if l.weighted() {
			out = append(out, n.data[i].Codes)
		}
	}
	return out
}
