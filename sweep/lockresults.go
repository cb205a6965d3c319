package sweep

import "strings"

// LockResults takes the lock that a run holds on DIR's unsharded results
// file (DIR/results.lock), so that another writer of that folder (resq
// cost) and a sweep exclude each other. unlock releases it.
func LockResults(dir string) (unlock func(), err error) {
	return lockFile(strings.TrimSuffix(ResultsFile(dir, 0, 1), ".jsonl") + ".lock")
}
