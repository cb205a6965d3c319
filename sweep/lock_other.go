//go:build !unix

package sweep

// lockFile does nothing where flock is unavailable: do not run two
// processes on the same shard of the same folder there.
func lockFile(path string) (unlock func(), err error) { return func() {}, nil }

// lockRun does nothing where flock is unavailable (see lockFile).
func lockRun(dir string, shards int) (unlock func(), err error) { return func() {}, nil }
