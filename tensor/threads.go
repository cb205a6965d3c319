package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// threads is the number of goroutines one Gemm or Conv call may use;
// 0 means the default, runtime.GOMAXPROCS(0).
var threads atomic.Int64

// SetThreads sets how many goroutines a single Gemm or convolution call
// may use and returns the previous setting. n <= 0 restores the default
// (runtime.GOMAXPROCS(0)). It is safe to call concurrently with kernels;
// calls already running keep the value they started with. A sweep running
// two independent workers on two cores sets 1; one worker sets 2.
func SetThreads(n int) int {
	prev := Threads()
	if n <= 0 {
		n = 0
	}
	threads.Store(int64(n))
	return prev
}

// Threads returns the number of goroutines a single kernel call may use.
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// The kernels run their parallel parts on a persistent pool of worker
// goroutines (started on first use, never stopped) rather than spawning
// goroutines per call, so a steady-state parallel call allocates nothing.
// Workers only ever run a part to completion, so parts queued by
// concurrent callers always make progress.

// parallelJob is a kernel call split into parts 0..n-1.
type parallelJob interface{ runPart(i int) }

type task struct {
	job parallelJob
	i   int
	wg  *sync.WaitGroup
}

var (
	taskCh   = make(chan task, 64)
	nWorkers atomic.Int64
	workerMu sync.Mutex
)

func ensureWorkers(n int) {
	if int(nWorkers.Load()) >= n {
		return
	}
	workerMu.Lock()
	for int(nWorkers.Load()) < n {
		go worker()
		nWorkers.Add(1)
	}
	workerMu.Unlock()
}

func worker() {
	for t := range taskCh {
		t.job.runPart(t.i)
		t.wg.Done()
	}
}

// parallel runs job.runPart(i) for i in [0, n): part 0 on the calling
// goroutine, the others on pool workers; it returns when all are done. wg
// must live as long as the job (it is part of the job's heap state).
func parallel(job parallelJob, n int, wg *sync.WaitGroup) {
	if n <= 1 {
		job.runPart(0)
		return
	}
	ensureWorkers(n - 1)
	wg.Add(n - 1)
	for i := 1; i < n; i++ {
		taskCh <- task{job: job, i: i, wg: wg}
	}
	job.runPart(0)
	wg.Wait()
}

// freeList recycles values of T without losing them at a GC (unlike
// sync.Pool): get returns a recycled value or a new zero one, put keeps a
// value unless the list is full.
type freeList[T any] chan *T

func (f freeList[T]) get() *T {
	select {
	case x := <-f:
		return x
	default:
		return new(T)
	}
}

func (f freeList[T]) put(x *T) {
	select {
	case f <- x:
	default:
	}
}
