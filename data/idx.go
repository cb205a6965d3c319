package data

import (
	"encoding/binary"
	"fmt"
	"io"
)

// IDX is an array read from an IDX file (the MNIST format): unsigned bytes
// with Dims[0] items of Dims[1]*...*Dims[k-1] bytes each.
type IDX struct {
	Dims []int  // [items, ...]; items may be less than the file's when a limit was given
	Data []byte // [prod(Dims)] row-major
}

// idxMaxBytes bounds what a header may claim (16 GiB): more is not an IDX
// file anyone has and would overflow int on 32-bit systems anyway.
const idxMaxBytes = 1 << 34

// ReadIDX reads an IDX array of unsigned bytes from r, which may be gzip
// compressed (detected by its magic 1f 8b). name labels errors. When
// maxItems > 0 only the first maxItems items are read and the rest of the
// stream is left unread. Errors are one line naming name and the cause:
// wrong magic, unsupported element type, truncation (with the byte offset),
// trailing bytes after the data.
func ReadIDX(r io.Reader, name string, maxItems int) (*IDX, error) {
	return readIDX(r, name, maxItems, -1)
}

// readIDX is ReadIDX with the stream's decompressed length when known
// (-1 otherwise): when it agrees with the header the data buffer is
// allocated once at its final size.
func readIDX(r io.Reader, name string, maxItems int, sizeHint int64) (*IDX, error) {
	zr, _, err := maybeGunzip(r, name)
	if err != nil {
		return nil, err
	}
	var hdr [4]byte
	if n, err := io.ReadFull(zr, hdr[:]); err != nil {
		if n == 0 {
			return nil, fmt.Errorf("data: %s: empty file", name)
		}
		return nil, fmt.Errorf("data: %s: truncated at byte %d of the 4-byte magic", name, n)
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, fmt.Errorf("data: %s: wrong magic % x: not an IDX file (want 00 00 08 NDIM)", name, hdr[:])
	}
	if hdr[2] != 0x08 {
		return nil, fmt.Errorf("data: %s: unsupported IDX element type 0x%02x (only unsigned byte 0x08)", name, hdr[2])
	}
	ndim := int(hdr[3])
	if ndim == 0 {
		return nil, fmt.Errorf("data: %s: IDX header has 0 dimensions", name)
	}
	dimb := make([]byte, 4*ndim)
	if n, err := io.ReadFull(zr, dimb); err != nil {
		return nil, fmt.Errorf("data: %s: truncated at byte %d of the %d-byte header", name, 4+n, 4+4*ndim)
	}
	dims := make([]int, ndim)
	total := int64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(dimb[4*i:])
		dims[i] = int(d)
		if d != 0 && total > idxMaxBytes/int64(d) {
			return nil, fmt.Errorf("data: %s: IDX dimensions %v claim more than %d bytes", name, dimsOf(dimb), int64(idxMaxBytes))
		}
		total *= int64(d)
	}
	hdrLen := int64(4 + 4*ndim)
	items := dims[0]
	if maxItems > 0 && maxItems < items {
		items = maxItems
	}
	per := int64(1)
	for _, d := range dims[1:] {
		per *= int64(d)
	}
	cr := &countingReader{r: zr}
	want := int64(items) * per
	var buf []byte
	if sizeHint == hdrLen+total {
		buf = make([]byte, want)
		if n, err := io.ReadFull(cr, buf); err != nil {
			return nil, fmt.Errorf("data: %s: truncated at byte %d of %d", name, hdrLen+int64(n), hdrLen+total)
		}
	} else {
		buf, err = readExact(cr, want, name, hdrLen, hdrLen+total)
	}
	if err != nil {
		return nil, err
	}
	if items == dims[0] {
		// The whole array was read: anything after it means the header lies.
		var one [1]byte
		n, err := io.ReadFull(zr, one[:])
		if n != 0 {
			return nil, fmt.Errorf("data: %s: trailing bytes after the %d bytes the IDX header %v describes", name, hdrLen+total, dims)
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("data: %s: %v", name, err)
		}
	}
	dims[0] = items
	return &IDX{Dims: dims, Data: buf}, nil
}

func dimsOf(b []byte) []uint32 {
	d := make([]uint32, len(b)/4)
	for i := range d {
		d[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	return d
}
