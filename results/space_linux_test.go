package results

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestAppendDiskFull appends to a device that is always full (a node like
// /dev/full made in the test folder, as root): the error must keep ENOSPC
// and give the advice the other writers give.
func TestAppendDiskFull(t *testing.T) {
	p := filepath.Join(t.TempDir(), "results.jsonl")
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|7); err != nil {
		t.Skipf("mknod: %v", err)
	}
	err := Append(p, Record{ID: "a", Status: StatusOK})
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "disk full: free space") || !strings.Contains(err.Error(), `"`+p+`"`) {
		t.Fatalf("err %v, want ENOSPC with the disk-full advice and the quoted path", err)
	}
}
