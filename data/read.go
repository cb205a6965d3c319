package data

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// maybeGunzip returns a reader of the decompressed stream when r starts
// with the gzip magic 1f 8b, and r itself (buffered) otherwise.
func maybeGunzip(r io.Reader, name string) (io.Reader, bool, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("data: %s: %v", name, err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, false, fmt.Errorf("data: %s: bad gzip header: %v", name, err)
		}
		return zr, true, nil
	}
	return br, false, nil
}

// countingReader counts the bytes read through it, for error offsets.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readExact reads exactly n bytes. The buffer grows as data arrives rather
// than being allocated from a header's claim up front, so a lying header
// costs memory only in proportion to the bytes actually present.
// want is the total size (header included) for the error message, at is the
// offset of the first byte read.
func readExact(r io.Reader, n int64, name string, at, want int64) ([]byte, error) {
	const step = 256 << 10
	c := n
	if c > step {
		c = step
	}
	buf := make([]byte, 0, c)
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			nc := int64(cap(buf)) * 2
			if nc > n {
				nc = n
			}
			nb := make([]byte, len(buf), nc)
			copy(nb, buf)
			buf = nb
		}
		m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("data: %s: truncated at byte %d of %d", name, at+int64(len(buf)), want)
			}
			return nil, fmt.Errorf("data: %s: %v", name, err)
		}
	}
	return buf, nil
}

// u8scale maps a byte to its value / 255.
var u8scale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// bytesToUnit fills dst[i] = src[i] / 255.
func bytesToUnit(dst []float32, src []byte) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("data: bytesToUnit: dst has %d elements, src %d", len(dst), len(src)))
	}
	for i, b := range src {
		dst[i] = u8scale[b]
	}
}
