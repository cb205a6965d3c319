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

// TestFinishEndsTheLine is the training loop's pattern: the label changes
// after the last step, Finish, then a summary line. The bar's line must end
// once, before the summary, and the last label must be on it.
func TestFinishEndsTheLine(t *testing.T) {
	for _, tc := range []struct {
		name     string
		relabel  bool // Describe after the last Add
		finishes int
	}{
		{"relabel after the last step", true, 1},
		{"no relabel", false, 1},
		{"finished twice", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			master, slave := openPTY(t)
			out := make(chan string)
			go func() {
				var buf bytes.Buffer
				p := make([]byte, 4096)
				for {
					n, err := master.Read(p)
					buf.Write(p[:n])
					if err != nil || strings.Contains(buf.String(), "summary\r\n") {
						out <- buf.String()
						return
					}
				}
			}()
			b := New(slave, 3, "epoch 1/2")
			for i := 0; i < 3; i++ {
				b.Add(1)
			}
			if tc.relabel {
				b.Describe("epoch 1/2 loss 0.25")
			}
			for i := 0; i < tc.finishes; i++ {
				b.Finish()
			}
			slave.WriteString("summary\n")
			got := <-out
			before, _, ok := strings.Cut(got, "summary")
			if !ok {
				t.Fatalf("terminal received %q, want the summary", got)
			}
			if !strings.HasSuffix(before, "\n") {
				t.Errorf("the summary does not start a line: %q", got)
			}
			if n := strings.Count(before, "\n"); n != 1 {
				t.Errorf("%d line ends before the summary, want 1: %q", n, got)
			}
			last := before[strings.LastIndex(before[:len(before)-2], "\r")+1:]
			if want := "3/3"; !strings.Contains(last, want) {
				t.Errorf("the bar's last drawing %q lacks %s", last, want)
			}
			if tc.relabel && !strings.Contains(last, "loss 0.25") {
				t.Errorf("the bar's last drawing %q lacks the last label", last)
			}
		})
	}
}
