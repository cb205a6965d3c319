package data

import (
	"fmt"
	"slices"
	"testing"
)

func seqSplit(n, d int) *Split {
	s := &Split{X: make([]float32, n*d), Y: make([]int32, n), N: n, D: d}
	for i := 0; i < n; i++ {
		s.Y[i] = int32(i)
		for j := 0; j < d; j++ {
			s.X[i*d+j] = float32(i*1000 + j)
		}
	}
	return s
}

// epochRows drains one epoch and returns the row indices seen, in order.
func epochRows(t *testing.T, b *Batcher, s *Split, batch int) []int32 {
	x := make([]float32, batch*s.D)
	y := make([]int32, batch)
	var rows []int32
	for {
		n := b.Next(x, y)
		if n == 0 {
			break
		}
		if n < batch && len(rows)+n != s.N {
			t.Fatalf("short batch of %d before the end", n)
		}
		for k := 0; k < n; k++ {
			r := y[k]
			for j := 0; j < s.D; j++ {
				if x[k*s.D+j] != s.X[int(r)*s.D+j] {
					t.Fatalf("row %d column %d does not match its label", r, j)
				}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func TestBatcher(t *testing.T) {
	for _, tc := range []struct{ n, d, batch int }{{1, 1, 1}, {3, 2, 1}, {17, 3, 4}, {129, 5, 32}, {10, 1, 100}, {0, 3, 4}} {
		s := seqSplit(tc.n, tc.d)
		for _, shuffle := range []bool{false, true} {
			b := NewBatcher(s, tc.batch, 42, shuffle)
			if b.Batches() != (tc.n+tc.batch-1)/tc.batch || b.Batch() != tc.batch {
				t.Fatalf("%+v: %d batches", tc, b.Batches())
			}
			var epochs [][]int32
			for e := 0; e < 3; e++ {
				b.Reset(e)
				rows := epochRows(t, b, s, tc.batch)
				if n := b.Next(make([]float32, tc.batch*tc.d), make([]int32, tc.batch)); n != 0 {
					t.Fatalf("%+v: Next after the end returned %d", tc, n)
				}
				sorted := slices.Clone(rows)
				slices.Sort(sorted)
				for i, r := range sorted {
					if int(r) != i {
						t.Fatalf("%+v shuffle %v epoch %d: rows %v are not a permutation", tc, shuffle, e, rows)
					}
				}
				if len(rows) != tc.n {
					t.Fatalf("%+v: %d rows in an epoch", tc, len(rows))
				}
				if !shuffle && !slices.IsSorted(rows) {
					t.Fatalf("%+v: unshuffled order %v", tc, rows)
				}
				epochs = append(epochs, rows)
			}
			// Same (seed, epoch), same order, from a fresh Batcher too.
			b2 := NewBatcher(s, tc.batch, 42, shuffle)
			b2.Reset(1)
			if !slices.Equal(epochRows(t, b2, s, tc.batch), epochs[1]) {
				t.Fatalf("%+v: epoch 1 differs between Batchers", tc)
			}
			if shuffle && tc.n >= 17 && slices.Equal(epochs[0], epochs[1]) {
				t.Fatalf("%+v: epochs 0 and 1 share an order", tc)
			}
		}
	}
	s := seqSplit(17, 3)
	a, b := NewBatcher(s, 4, 1, true), NewBatcher(s, 4, 2, true)
	if slices.Equal(a.Order(), b.Order()) {
		t.Fatal("seeds 1 and 2 give the same order")
	}
}

func TestBatcherPanics(t *testing.T) {
	s := seqSplit(5, 3)
	for _, f := range []func(){
		func() { NewBatcher(s, 0, 1, false) },
		func() { NewBatcher(s, 2, 1, false).Next(make([]float32, 5), make([]int32, 2)) },
		func() { NewBatcher(s, 2, 1, false).Next(make([]float32, 6), make([]int32, 1)) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || fmt.Sprint(r)[:6] != "data: " {
					t.Errorf("panic %v, want one starting with data:", r)
				}
			}()
			f()
		}()
	}
}

func TestBatcherAllocs(t *testing.T) {
	s := seqSplit(1000, 16)
	b := NewBatcher(s, 64, 3, true)
	x := make([]float32, 64*16)
	y := make([]int32, 64)
	e := 0
	allocs := testing.AllocsPerRun(20, func() {
		b.Reset(e)
		e++
		for b.Next(x, y) > 0 {
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per epoch, want 0", allocs)
	}
}

func BenchmarkBatcherMNIST(b *testing.B) {
	const n, d, batch = 60000, 784, 100
	s := seqSplit(n, d)
	bt := NewBatcher(s, batch, 1, true)
	x := make([]float32, batch*d)
	y := make([]int32, batch)
	b.ReportAllocs()
	b.ResetTimer()
	rows := 0
	for i := 0; b.Loop(); i++ {
		if bt.Next(x, y) == 0 {
			bt.Reset(i)
			bt.Next(x, y)
		}
		rows += batch
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func ExampleBatcher() {
	s := &Split{X: []float32{0, 0, 1, 1, 2, 2, 3, 3, 4, 4}, Y: []int32{0, 1, 0, 1, 0}, N: 5, D: 2}
	b := NewBatcher(s, 2, 7, false)
	x := make([]float32, 2*s.D) // [batch, D]
	y := make([]int32, 2)       // [batch]
	for epoch := 0; epoch < 2; epoch++ {
		b.Reset(epoch)
		for n := b.Next(x, y); n > 0; n = b.Next(x, y) {
			fmt.Println(epoch, x[:n*s.D], y[:n])
		}
	}
	// Output:
	// 0 [0 0 1 1] [0 1]
	// 0 [2 2 3 3] [0 1]
	// 0 [4 4] [0]
	// 1 [0 0 1 1] [0 1]
	// 1 [2 2 3 3] [0 1]
	// 1 [4 4] [0]
}
