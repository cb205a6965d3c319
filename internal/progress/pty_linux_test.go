//go:build linux

package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: writes to slave appear on master.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skipf("unlockpt: %v", e)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open slave: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func TestDrawsOnTerminal(t *testing.T) {
	master, slave := openPTY(t)
	if !IsTerminal(slave) {
		t.Fatal("pty slave not reported as terminal")
	}
	out := make(chan string)
	go func() {
		var buf bytes.Buffer
		p := make([]byte, 4096)
		for {
			n, err := master.Read(p)
			buf.Write(p[:n])
			if err != nil || strings.Contains(buf.String(), "\n") {
				out <- buf.String()
				return
			}
		}
	}()
	b := New(slave, 4, "train")
	if !b.Active() {
		t.Fatal("bar on a terminal is inactive")
	}
	for i := 0; i < 4; i++ {
		b.Add(1)
	}
	b.Finish()
	slave.Close() // the reader then sees EIO instead of blocking
	got := <-out
	if !strings.Contains(got, "train") || !strings.Contains(got, "4/4") {
		t.Fatalf("terminal received %q, want the description and 4/4", got)
	}
}
