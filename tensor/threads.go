package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
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
	job  parallelJob
	i    int
	join *join
}

// join is where the parts of one parallel call report completion: left
// counts parts not yet done (polled by the caller), wg lets the caller
// block once polling has gone on too long. It lives in the job's heap
// state, so that a call allocates nothing.
type join struct {
	wg   sync.WaitGroup
	left atomic.Int32
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
	for {
		t := nextTask()
		t.job.runPart(t.i)
		t.join.left.Add(-1)
		t.join.wg.Done()
	}
}

// spinFor is how long an idle worker polls for the next part, and a caller
// polls for its workers to finish, before blocking. Kernel calls come in
// bursts (a training step is a chain of GEMMs a few microseconds apart);
// a blocked goroutine's thread sleeps, and on a virtual machine its idle
// vCPU halts and is slow to wake, so without polling every call of a burst
// would pay a wake-up. Pollers yield (runtime.Gosched) between polls, so
// other goroutines are not held up.
var spinFor = int64(200 * time.Microsecond)

// poll calls ready until it returns true (poll then returns true) or
// spinFor has passed (false), yielding between calls.
func poll(ready func() bool) bool {
	start := time.Now()
	for i := 0; ; i++ {
		if ready() {
			return true
		}
		if i%16 == 15 && int64(time.Since(start)) > spinFor {
			return false
		}
		runtime.Gosched()
	}
}

// nextTask returns the next queued part, polling for up to spinFor before
// blocking on the queue.
func nextTask() task {
	var t task
	if poll(func() bool {
		select {
		case t = <-taskCh:
			return true
		default:
			return false
		}
	}) {
		return t
	}
	return <-taskCh
}

// parallel runs job.runPart(i) for i in [0, n): part 0 on the calling
// goroutine, the others on pool workers; it returns when all are done,
// polling for up to spinFor and then blocking. j must live as long as the
// job (it is part of the job's heap state).
func parallel(job parallelJob, n int, j *join) {
	if n <= 1 {
		job.runPart(0)
		return
	}
	ensureWorkers(n - 1)
	j.left.Store(int32(n - 1))
	j.wg.Add(n - 1)
	for i := 1; i < n; i++ {
		taskCh <- task{job: job, i: i, join: j}
	}
	job.runPart(0)
	poll(func() bool { return j.left.Load() == 0 })
	j.wg.Wait()
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
