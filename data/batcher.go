package data

import (
	"fmt"
	"math/rand/v2"
)

// Batcher iterates over a Split in minibatches, in a deterministic order:
// with shuffling, epoch e visits the rows in a permutation that depends only
// on (seed, e). After construction it allocates nothing: Reset and Next fill
// memory owned by the Batcher or by the caller.
//
// A Batcher reads its Split and never modifies it; the Split must not change
// while the Batcher is in use. A Batcher is not safe for concurrent use.
type Batcher struct {
	s       *Split
	batch   int
	seed    uint64
	shuffle bool
	perm    []int32 // [N] visiting order of the current epoch
	pos     int
	pcg     *rand.PCG
	rng     *rand.Rand
}

// NewBatcher returns a Batcher over s yielding batches of up to batch rows,
// positioned at the start of epoch 0. It panics if batch < 1.
func NewBatcher(s *Split, batch int, seed uint64, shuffle bool) *Batcher {
	if batch < 1 {
		panic(fmt.Sprintf("data: NewBatcher: batch size %d, want >= 1", batch))
	}
	pcg := rand.NewPCG(seed, 0)
	b := &Batcher{s: s, batch: batch, seed: seed, shuffle: shuffle, perm: make([]int32, s.N), pcg: pcg, rng: rand.New(pcg)}
	b.Reset(0)
	return b
}

// Reset starts epoch epoch: the visiting order is the identity without
// shuffling, else a permutation seeded by (seed, epoch).
func (b *Batcher) Reset(epoch int) {
	for i := range b.perm {
		b.perm[i] = int32(i)
	}
	if b.shuffle {
		b.pcg.Seed(b.seed, uint64(epoch)+0x5851f42d4c957f2d)
		for i := len(b.perm) - 1; i > 0; i-- {
			j := b.rng.IntN(i + 1)
			b.perm[i], b.perm[j] = b.perm[j], b.perm[i]
		}
	}
	b.pos = 0
}

// Next copies the next batch into x ([batch, D]) and y ([batch], or
// [batch, Steps] for per-step labels) and returns its number of rows:
// Batch() except for a shorter last batch, 0 at the end of the epoch. It
// panics if x or y is too small for a full batch.
func (b *Batcher) Next(x []float32, y []int32) int {
	d, l := b.s.D, b.s.LabelsPer()
	if len(x) < b.batch*d || len(y) < b.batch*l {
		panic(fmt.Sprintf("data: Batcher.Next: buffers x [%d] y [%d], want at least [%d*%d] and [%d*%d]", len(x), len(y), b.batch, d, b.batch, l))
	}
	n := min(b.batch, b.s.N-b.pos)
	for k := 0; k < n; k++ {
		r := int(b.perm[b.pos+k])
		copy(x[k*d:(k+1)*d], b.s.X[r*d:(r+1)*d])
		copy(y[k*l:(k+1)*l], b.s.Y[r*l:(r+1)*l])
	}
	b.pos += n
	return n
}

// Batch is the batch size.
func (b *Batcher) Batch() int { return b.batch }

// Batches is the number of batches per epoch, counting a short last one.
func (b *Batcher) Batches() int { return (b.s.N + b.batch - 1) / b.batch }

// Order returns the current epoch's visiting order (row indices into the
// Split). The slice belongs to the Batcher: read it, do not keep it.
func (b *Batcher) Order() []int32 { return b.perm }
