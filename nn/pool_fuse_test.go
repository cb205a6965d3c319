package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/resq-dev/resq/tensor"
)

// tiedTensor returns a tensor of the given shape with values drawn from
// {-3, ..., 3}, so that windows hold ties, zeros and all-negative maxima.
func tiedTensor(r *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.IntN(7) - 3)
	}
	return t
}

// TestMaxPoolReLUFused: the pool run on x then the ReLU (forwardReLU,
// backwardReLU) gives the same output and input gradient as the ReLU
// then the pool, for every window and stride, odd sizes included.
func TestMaxPoolReLUFused(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, c := range []struct{ n, ch, h, w, k, stride int }{
		{1, 1, 2, 2, 2, 2}, {2, 3, 9, 11, 2, 2}, {3, 2, 28, 28, 2, 2}, {1, 4, 17, 17, 2, 2},
		{2, 2, 9, 9, 3, 2}, {2, 3, 7, 10, 2, 1}, {1, 2, 13, 11, 3, 3},
	} {
		t.Run(fmt.Sprintf("%dx%dx%dx%d/k%ds%d", c.n, c.ch, c.h, c.w, c.k, c.stride), func(t *testing.T) {
			x := tiedTensor(r, c.n, c.ch, c.h, c.w)
			r1, p1 := &ReLU{}, NewMaxPool(c.k, c.stride)
			want := p1.Forward(r1.Forward(x, true), true)
			dy := tiedTensor(r, want.Shape...)
			wantDx := r1.Backward(p1.Backward(dy))

			r2, p2 := &ReLU{}, NewMaxPool(c.k, c.stride)
			got := p2.forwardReLU(r2, x, true)
			if !slices.Equal(got.Shape, want.Shape) || !slices.Equal(got.Data, want.Data) {
				t.Fatalf("forward differs:\n got %v\nwant %v", got.Data, want.Data)
			}
			gotDx := p2.backwardReLU(dy)
			if !slices.Equal(gotDx.Data, wantDx.Data) {
				t.Fatalf("input gradient differs:\n got %v\nwant %v", gotDx.Data, wantDx.Data)
			}
		})
	}
}

// TestModelFusesReLUPool: Model.Forward and Backward (which run a ReLU
// and the max pool after it as one) give the logits and parameter
// gradients of the layers run one by one.
func TestModelFusesReLUPool(t *testing.T) {
	for _, s := range []struct {
		spec string
		in   []int
	}{
		{"cnn:4c3-p2-6c3-p2-fc8-5", []int{2, 9, 11}},
		{"cnn:3c5-p2-fc7-4,drop=0.3", []int{1, 12, 12}},
	} {
		t.Run(s.spec, func(t *testing.T) {
			m1, err := Build(s.spec, s.in, 3)
			if err != nil {
				t.Fatal(err)
			}
			m2, _ := Build(s.spec, s.in, 3)
			r := rand.New(rand.NewPCG(9, 9))
			const batch = 5
			x := tiedTensor(r, batch, tensor.Numel(s.in))
			dl := tiedTensor(r, batch, m1.Classes)

			got := m1.Forward(x, true)
			fused := 0
			for _, l := range m1.Layers {
				if p, ok := l.(*MaxPool); ok && p.relu != nil {
					fused++
				}
			}
			if fused == 0 {
				t.Fatal("Model.Forward ran no ReLU and pool as one")
			}
			m1.Backward(dl)

			h := &tensor.Tensor{Shape: append([]int{batch}, s.in...), Data: x.Data}
			for _, l := range m2.Layers {
				h = l.Forward(h, true)
			}
			if !slices.Equal(got.Data, h.Data) {
				t.Fatalf("logits differ:\n got %v\nwant %v", got.Data, h.Data)
			}
			g := dl
			for i := len(m2.Layers) - 1; i >= 0 && g != nil; i-- {
				g = m2.Layers[i].Backward(g)
			}
			for i, p := range m1.Params() {
				if q := m2.Params()[i]; !slices.Equal(p.G.Data, q.G.Data) {
					t.Errorf("param %d (%s): gradients differ", i, p.Name)
				}
			}
		})
	}
}
