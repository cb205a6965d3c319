//go:build unix

package sweep

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive advisory lock on path (created if needed),
// so two processes never append to the same results file. The lock goes
// away with the process, so a SIGKILLed sweep leaves nothing to clean up.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sweep: lock: %v", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("sweep: %s is locked: another resq sweep is writing the same results file in this folder (wait for it, or give each process its own --shard)", path)
		}
		return nil, fmt.Errorf("sweep: lock %s: %v", path, err)
	}
	return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}

// lockRun takes the locks of one process sweeping shard I of N in dir
// (N = 1: unsharded): a shared lock on dir/shards-N.lock, held for the
// run, and then a check that no other shards-M.lock (M != N) is held. So
// the shards of one run (same N) sweep the folder at once, while an
// unsharded run and a sharded one, or runs with different shard counts,
// whose cells overlap, refuse each other. Two runs that start at the same
// moment may both refuse; never both run. flock locks die with their
// process, so a requeued shard after a kill takes its locks back.
func lockRun(dir string, shards int) (unlock func(), err error) {
	own := filepath.Join(dir, "shards-"+strconv.Itoa(shards)+".lock")
	f, err := os.OpenFile(own, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sweep: lock: %v", err)
	}
	// Blocking: another process may hold it exclusively for a moment only
	// (the probe below).
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("sweep: lock %q: %v", own, err)
	}
	unlock = func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }
	others, _ := filepath.Glob(filepath.Join(dir, "shards-*.lock"))
	for _, o := range others {
		if o == own {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(o), "shards-"), ".lock"))
		if err != nil {
			continue
		}
		g, err := os.OpenFile(o, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		err = unix.Flock(int(g.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			unix.Flock(int(g.Fd()), unix.LOCK_UN)
		}
		g.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			unlock()
			if n == 1 {
				return nil, fmt.Errorf("sweep: %q is being written by an unsharded sweep (lock %q): wait for it to finish; a shard cannot join it", dir, o)
			}
			return nil, fmt.Errorf("sweep: %q is being written by a sweep with %d shards (lock %q): wait for it, or run this process as one of its shards (--shard I/%d)", dir, n, o, n)
		}
	}
	return unlock, nil
}
