package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Helpers for split products. A GEMV layer is a few microseconds of
// work, about what waking a parked goroutine costs, so a product that is
// split (Gemm, GemmT2, Gemv) runs its chunks on persistent helper
// goroutines that poll for work for spinFor after their last chunk
// (yielding between polls) before they park. The caller claims the chunks
// of a call from the front and its helpers from the back, through one
// atomic word: a helper that is late (descheduled on a busy machine)
// leaves its chunks to the caller, and a call handed to a helper that
// never took it is taken back. From call to call the caller keeps about
// the same first chunks and a helper the same last ones, so on two cores
// each one's share of the weights stays in its own L2 cache. Each output
// element is computed by one chunk, so the results do not depend on who
// ran it.

// spinFor is how long an idle helper polls before it parks.
const spinFor = 200 * time.Microsecond

// groupJob is a split product: runGroups computes panel groups [q0, q1).
type groupJob interface{ runGroups(q0, q1 int) }

// split is one call handed to helpers.
type split struct {
	job         groupJob
	groups, per int32 // chunk i is groups [i*per, (i+1)*per)
	chunks      int32
	// span holds the unclaimed chunks [lo, hi) as lo | hi<<32: the caller
	// claims lo, helpers hi-1.
	span atomic.Uint64
	refs atomic.Int32 // helpers that took the call and are not done
}

type helper struct {
	slot   atomic.Pointer[split] // a call waiting for this helper
	parked atomic.Bool
	wake   chan struct{}
}

var helperSet struct {
	mu sync.Mutex
	hs []*helper
}

var splitFree = sync.Pool{New: func() any { return new(split) }}

// runSplit runs job's panel groups [0, groups) on the caller and
// workers-1 helpers, about four chunks per goroutine, and returns when all
// are done.
func runSplit(job groupJob, groups, workers int) {
	s := splitFree.Get().(*split)
	per := max(1, groups/(4*workers))
	s.job, s.groups, s.per, s.chunks = job, int32(groups), int32(per), int32((groups+per-1)/per)
	s.span.Store(uint64(s.chunks) << 32)
	s.refs.Store(0)
	hs := helpersFor(workers - 1)
	var took [8]bool
	for i, h := range hs {
		s.refs.Add(1)
		if !h.slot.CompareAndSwap(nil, s) {
			s.refs.Add(-1) // busy with another call: the caller does more
			continue
		}
		took[i] = true
		if h.parked.Load() {
			select {
			case h.wake <- struct{}{}:
			default:
			}
		}
	}
	s.work(false)
	for i, h := range hs {
		if took[i] && h.slot.CompareAndSwap(s, nil) {
			s.refs.Add(-1) // not taken yet: no longer offered
		}
	}
	for s.refs.Load() != 0 {
		runtime.Gosched()
	}
	s.job = nil
	splitFree.Put(s)
}

// work claims and runs chunks, from the back for a helper, until none is
// left.
func (s *split) work(back bool) {
	for {
		i, ok := s.claim(back)
		if !ok {
			return
		}
		q0 := i * s.per
		s.job.runGroups(int(q0), int(min(q0+s.per, s.groups)))
	}
}

// claim takes the first unclaimed chunk, or the last one when back.
func (s *split) claim(back bool) (int32, bool) {
	for {
		v := s.span.Load()
		lo, hi := uint32(v), uint32(v>>32)
		if lo >= hi {
			return 0, false
		}
		i, nv := lo, v+1
		if back {
			i, nv = hi-1, v-1<<32
		}
		if s.span.CompareAndSwap(v, nv) {
			return int32(i), true
		}
	}
}

// helpersFor returns n helpers (at most 8), starting any not yet running.
func helpersFor(n int) []*helper {
	n = min(n, 8)
	helperSet.mu.Lock()
	defer helperSet.mu.Unlock()
	for len(helperSet.hs) < n {
		h := &helper{wake: make(chan struct{}, 1)}
		go h.loop()
		helperSet.hs = append(helperSet.hs, h)
	}
	return helperSet.hs[:n]
}

func (h *helper) loop() {
	for {
		s := h.take()
		s.work(true)
		s.refs.Add(-1)
	}
}

// take returns the next call handed to h: it polls for spinFor, then
// parks until woken.
func (h *helper) take() *split {
	since := time.Now()
	for polls := 0; ; polls++ {
		if h.slot.Load() != nil {
			if s := h.slot.Swap(nil); s != nil {
				return s
			}
		}
		if polls%64 == 63 && time.Since(since) > spinFor {
			h.parked.Store(true)
			if s := h.slot.Swap(nil); s != nil {
				h.parked.Store(false)
				return s
			}
			<-h.wake
			h.parked.Store(false)
			since = time.Now()
			continue
		}
		runtime.Gosched()
	}
}
