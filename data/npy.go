package data

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// NPY is an array read from a NumPy .npy file (format versions 1, 2 and 3,
// C order, little-endian or byte dtypes).
type NPY struct {
	Shape []int  // e.g. [N, D] or [N, H, W, C] or [N]
	Dtype string // normalised: "f4", "f8", "u1", "i4", "i8"
	Data  []byte // raw little-endian elements, row-major
}

// npyItemSize maps a supported dtype to its size in bytes.
var npyItemSize = map[string]int{"f4": 4, "f8": 8, "u1": 1, "i4": 4, "i8": 8}

// npyMaxBytes bounds what a header may claim (64 GiB).
const npyMaxBytes = 1 << 36

// Len is the number of elements.
func (a *NPY) Len() int {
	if npyItemSize[a.Dtype] == 0 {
		return 0
	}
	return len(a.Data) / npyItemSize[a.Dtype]
}

// Float32s converts the elements to float32 into dst (len(dst) == a.Len()),
// values unchanged (no scaling).
func (a *NPY) Float32s(dst []float32) {
	if len(dst) != a.Len() {
		panic(fmt.Sprintf("data: NPY.Float32s: dst has %d elements, array %v has %d", len(dst), a.Shape, a.Len()))
	}
	d := a.Data
	switch a.Dtype {
	case "f4":
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case "f8":
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
	case "u1":
		for i := range dst {
			dst[i] = float32(d[i])
		}
	case "i4":
		for i := range dst {
			dst[i] = float32(int32(binary.LittleEndian.Uint32(d[4*i:])))
		}
	case "i8":
		for i := range dst {
			dst[i] = float32(int64(binary.LittleEndian.Uint64(d[8*i:])))
		}
	}
}

// Int returns element i as an integer and whether it is one exactly (float
// elements must be whole numbers).
func (a *NPY) Int(i int) (int64, bool) {
	d := a.Data
	switch a.Dtype {
	case "u1":
		return int64(d[i]), true
	case "i4":
		return int64(int32(binary.LittleEndian.Uint32(d[4*i:]))), true
	case "i8":
		return int64(binary.LittleEndian.Uint64(d[8*i:])), true
	case "f4":
		f := float64(math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:])))
		return int64(f), f == math.Trunc(f) && math.Abs(f) < 1<<53
	case "f8":
		f := math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:]))
		return int64(f), f == math.Trunc(f) && math.Abs(f) < 1<<53
	}
	return 0, false
}

// floatAt returns element i of a float array as a float64; ok is false
// for integer dtypes.
func (a *NPY) floatAt(i int) (float64, bool) {
	switch a.Dtype {
	case "f4":
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(a.Data[4*i:]))), true
	case "f8":
		return math.Float64frombits(binary.LittleEndian.Uint64(a.Data[8*i:])), true
	}
	return 0, false
}

// ReadNPY reads a .npy array from r. name labels errors. size is the total
// stream size when known (for example from os.Stat), or -1; when known, a
// header whose shape disagrees with the data length is rejected before any
// data is read. Supported dtypes: <f4, <f8, |u1, <i4, <i8 (also their
// '=' spelling); C order only.
func ReadNPY(r io.Reader, size int64, name string) (*NPY, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var pre [8]byte
	if n, err := io.ReadFull(br, pre[:]); err != nil {
		return nil, fmt.Errorf("data: %s: truncated at byte %d of the 8-byte NPY preamble", name, n)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("data: %s: wrong magic %q: not a .npy file", name, pre[:6])
	}
	var hlen int64
	var off int64
	switch pre[6] {
	case 1:
		var b [2]byte
		if n, err := io.ReadFull(br, b[:]); err != nil {
			return nil, fmt.Errorf("data: %s: truncated at byte %d of the NPY preamble", name, 8+n)
		}
		hlen, off = int64(binary.LittleEndian.Uint16(b[:])), 10
	case 2, 3:
		var b [4]byte
		if n, err := io.ReadFull(br, b[:]); err != nil {
			return nil, fmt.Errorf("data: %s: truncated at byte %d of the NPY preamble", name, 8+n)
		}
		hlen, off = int64(binary.LittleEndian.Uint32(b[:])), 12
	default:
		return nil, fmt.Errorf("data: %s: unsupported NPY format version %d.%d (want 1, 2 or 3)", name, pre[6], pre[7])
	}
	if hlen > 1<<20 {
		return nil, fmt.Errorf("data: %s: NPY header length %d is implausible (over 1 MiB)", name, hlen)
	}
	hb := make([]byte, hlen)
	if n, err := io.ReadFull(br, hb); err != nil {
		return nil, fmt.Errorf("data: %s: truncated at byte %d of the %d-byte NPY header", name, off+int64(n), off+hlen)
	}
	off += hlen
	dict, err := parsePyDict(string(hb))
	if err != nil {
		return nil, fmt.Errorf("data: %s: bad NPY header: %v", name, err)
	}
	descr, ok := dict["descr"].(string)
	if !ok {
		return nil, fmt.Errorf("data: %s: NPY header has no string 'descr' (structured dtypes are not supported)", name)
	}
	fortran, ok := dict["fortran_order"].(bool)
	if !ok {
		return nil, fmt.Errorf("data: %s: NPY header has no boolean 'fortran_order'", name)
	}
	shapeV, ok := dict["shape"].([]int64)
	if !ok {
		return nil, fmt.Errorf("data: %s: NPY header has no integer tuple 'shape'", name)
	}
	dt, err := npyDtype(descr)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %v", name, err)
	}
	if fortran {
		return nil, fmt.Errorf("data: %s: Fortran-order arrays are not supported: save with np.ascontiguousarray(x) first", name)
	}
	shape := make([]int, len(shapeV))
	total := int64(npyItemSize[dt])
	for i, d := range shapeV {
		if d < 0 {
			return nil, fmt.Errorf("data: %s: NPY shape %v has a negative dimension", name, shapeV)
		}
		if d != 0 && total > npyMaxBytes/d {
			return nil, fmt.Errorf("data: %s: NPY shape %v claims more than %d bytes", name, shapeV, int64(npyMaxBytes))
		}
		total *= d
		shape[i] = int(d)
	}
	if size >= 0 && size != off+total {
		return nil, fmt.Errorf("data: %s: header says shape %v of %s (%d data bytes) but the file has %d data bytes", name, shapeV, descr, total, size-off)
	}
	buf, err := readExact(br, total, name, off, off+total)
	if err != nil {
		return nil, err
	}
	var one [1]byte
	if n, _ := io.ReadFull(br, one[:]); n != 0 {
		return nil, fmt.Errorf("data: %s: trailing bytes after the %d data bytes that shape %v of %s describes", name, total, shapeV, descr)
	}
	return &NPY{Shape: shape, Dtype: dt, Data: buf}, nil
}

// npyDtype normalises a descr string to one of the supported dtypes.
func npyDtype(descr string) (string, error) {
	if len(descr) >= 2 {
		order, code := descr[0], descr[1:]
		if _, ok := npyItemSize[code]; ok {
			switch {
			case code == "u1" && (order == '|' || order == '<' || order == '=' || order == '>'):
				return code, nil
			case order == '<' || order == '=':
				return code, nil
			}
		}
	}
	return "", fmt.Errorf("unsupported NPY dtype %q (supported: <f4, <f8, |u1, <i4, <i8)", descr)
}

// parsePyDict parses the Python dict literal of an NPY header: string keys;
// values that are strings, True/False, integers or tuples of integers.
func parsePyDict(s string) (map[string]any, error) {
	p := &pyParser{s: s}
	p.skip()
	if !p.eat('{') {
		return nil, fmt.Errorf("want '{' at offset %d", p.i)
	}
	m := map[string]any{}
	for {
		p.skip()
		if p.eat('}') {
			break
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skip()
		if !p.eat(':') {
			return nil, fmt.Errorf("want ':' after key %q at offset %d", k, p.i)
		}
		p.skip()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("duplicate key %q", k)
		}
		m[k] = v
		p.skip()
		if p.eat(',') {
			continue
		}
		p.skip()
		if !p.eat('}') {
			return nil, fmt.Errorf("want ',' or '}' at offset %d", p.i)
		}
		break
	}
	p.skip()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q after the dict", p.s[p.i:])
	}
	return m, nil
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", fmt.Errorf("want a quoted string at offset %d", p.i)
	}
	q := p.s[p.i]
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", fmt.Errorf("unterminated string at offset %d", p.i)
	}
	v := p.s[p.i+1 : p.i+1+j]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", fmt.Errorf("escapes in strings are not supported (offset %d)", p.i)
	}
	p.i += j + 2
	return v, nil
}

func (p *pyParser) int() (int64, error) {
	j := p.i
	if j < len(p.s) && p.s[j] == '-' {
		j++
	}
	for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	if j < len(p.s) && p.s[j] == 'L' { // Python 2 long
		v, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		p.i = j + 1
		return v, err
	}
	v, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad integer at offset %d", p.i)
	}
	p.i = j
	return v, nil
}

func (p *pyParser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("want a value at the end of the header")
	}
	switch c := p.s[p.i]; {
	case c == '\'' || c == '"':
		return p.str()
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.int()
	case c == '(':
		p.i++
		dims := []int64{}
		for {
			p.skip()
			if p.eat(')') {
				return dims, nil
			}
			v, err := p.int()
			if err != nil {
				return nil, err
			}
			dims = append(dims, v)
			p.skip()
			if p.eat(',') {
				continue
			}
			if !p.eat(')') {
				return nil, fmt.Errorf("want ',' or ')' in tuple at offset %d", p.i)
			}
			return dims, nil
		}
	case c == '[':
		return nil, fmt.Errorf("list values (structured dtypes) are not supported")
	}
	return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i], p.i)
}

// WriteNPY writes data with the given shape as a version 1.0 .npy array
// (version 2.0 when the header needs it). data is []float32, []float64,
// []uint8, []int32 or []int64 with prod(shape) elements.
func WriteNPY(w io.Writer, shape []int, data any) error {
	var descr string
	var n int
	switch d := data.(type) {
	case []float32:
		descr, n = "<f4", len(d)
	case []float64:
		descr, n = "<f8", len(d)
	case []uint8:
		descr, n = "|u1", len(d)
	case []int32:
		descr, n = "<i4", len(d)
	case []int64:
		descr, n = "<i8", len(d)
	default:
		return fmt.Errorf("data: WriteNPY: unsupported element type %T", data)
	}
	prod := 1
	var dims []string
	for _, s := range shape {
		if s < 0 {
			return fmt.Errorf("data: WriteNPY: negative dimension in shape %v", shape)
		}
		prod *= s
		dims = append(dims, strconv.Itoa(s))
	}
	if prod != n {
		return fmt.Errorf("data: WriteNPY: shape %v holds %d elements, data has %d", shape, prod, n)
	}
	tuple := strings.Join(dims, ", ")
	if len(dims) == 1 {
		tuple += ","
	}
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	// Pad with spaces and a newline so the data starts on a 64-byte boundary.
	ver, pre := byte(1), 10
	if len(hdr)+1+pre > 65535 {
		ver, pre = 2, 12
	}
	pad := 64 - (pre+len(hdr)+1)%64
	if pad == 64 {
		pad = 0
	}
	hdr += strings.Repeat(" ", pad) + "\n"
	bw := bufio.NewWriter(w)
	bw.WriteString("\x93NUMPY")
	bw.WriteByte(ver)
	bw.WriteByte(0)
	if ver == 1 {
		binary.Write(bw, binary.LittleEndian, uint16(len(hdr)))
	} else {
		binary.Write(bw, binary.LittleEndian, uint32(len(hdr)))
	}
	bw.WriteString(hdr)
	var err error
	switch d := data.(type) {
	case []uint8:
		_, err = bw.Write(d)
	default:
		err = binary.Write(bw, binary.LittleEndian, d)
	}
	if err != nil {
		return fmt.Errorf("data: WriteNPY: %v", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("data: WriteNPY: %v", err)
	}
	return nil
}
