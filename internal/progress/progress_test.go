package progress

import (
	"bytes"
	"os"
	"testing"
)

func TestSilentOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	for _, total := range []int64{10, 0, -5} {
		b := New(&buf, total, "epoch 1")
		if b.Active() {
			t.Fatal("bar on a bytes.Buffer claims to draw")
		}
		for i := 0; i < 10; i++ {
			b.Add(1)
		}
		b.Describe("epoch 2")
		b.Write(make([]byte, 100))
		b.Finish()
		b.Finish()
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote %q to a non-terminal", buf.String())
	}
	var nilBar *Bar
	nilBar.Add(1)
	nilBar.Describe("x")
	nilBar.Finish()
}

func TestIsTerminalFiles(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Fatal("regular file reported as terminal")
	}
	if IsTerminal(&bytes.Buffer{}) {
		t.Fatal("bytes.Buffer reported as terminal")
	}
	b := NewBytes(f, 1000, "download")
	b.Add(1000)
	b.Finish()
	st, _ := f.Stat()
	if st.Size() != 0 {
		t.Fatalf("wrote %d bytes to a regular file", st.Size())
	}
}
