package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// MaxHeader is the largest JSON header Read accepts (100 MiB), the same
// bound as the reference implementation.
const MaxHeader = 100 << 20

// metaKey is the reserved header key holding the string metadata.
const metaKey = "__metadata__"

// Tensor is one named array in a file. Data holds the raw little-endian
// bytes, row-major; len(Data) == product(Shape) * DTypeSize(DType).
type Tensor struct {
	Name  string
	DType string // "F32", "F64", "U8", "I8", "I32", "I64", "U32", ...
	Shape []int
	Data  []byte
}

// File is a parsed safetensors file.
type File struct {
	Meta    map[string]string // never nil after Read
	Tensors []Tensor          // sorted by name
}

var dtypeSizes = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1,
	"F16": 2, "BF16": 2, "I16": 2, "U16": 2,
	"F32": 4, "I32": 4, "U32": 4,
	"F64": 8, "I64": 8, "U64": 8,
}

// DTypeSize returns the size in bytes of one element of dtype, and whether
// the dtype is known.
func DTypeSize(dtype string) (int, bool) {
	n, ok := dtypeSizes[dtype]
	return n, ok
}

// byteSize returns product(shape)*elem, or an error if a dimension is
// negative or the size does not fit in an int.
func byteSize(shape []int, elem int) (int, error) {
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d == 0 {
			return 0, nil
		}
	}
	n := elem
	for _, d := range shape {
		if n > math.MaxInt/d {
			return 0, fmt.Errorf("shape %v overflows", shape)
		}
		n *= d
	}
	return n, nil
}

// Write writes tensors and meta to w as one safetensors file. The output
// depends only on the arguments' contents: tensors are stored in ascending
// name order whatever their order in the slice, and meta keys are sorted.
// It returns an error for an empty, reserved or duplicate name, an unknown
// dtype, or a Data length that does not match the shape.
func Write(w io.Writer, tensors []Tensor, meta map[string]string) error {
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if tensors[a].Name < tensors[b].Name {
			return -1
		}
		if tensors[a].Name > tensors[b].Name {
			return 1
		}
		return 0
	})
	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		h.WriteString(`"` + metaKey + `":{`)
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeJSONString(&h, k)
			h.WriteByte(':')
			writeJSONString(&h, meta[k])
		}
		h.WriteByte('}')
		first = false
	}
	var off int
	for j, i := range order {
		t := &tensors[i]
		if t.Name == "" || t.Name == metaKey {
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if j > 0 && tensors[order[j-1]].Name == t.Name {
			return fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		elem, ok := dtypeSizes[t.DType]
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		n, err := byteSize(t.Shape, elem)
		if err != nil {
			return fmt.Errorf("safetensors: tensor %q: %v", t.Name, err)
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, have %d", t.Name, t.Shape, t.DType, n, len(t.Data))
		}
		if !first {
			h.WriteByte(',')
		}
		first = false
		writeJSONString(&h, t.Name)
		h.WriteString(`:{"dtype":"` + t.DType + `","shape":[`)
		for k, d := range t.Shape {
			if k > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		h.WriteString(`],"data_offsets":[` + strconv.Itoa(off) + "," + strconv.Itoa(off+n) + "]}")
		off += n
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(h.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	for _, i := range order {
		if len(tensors[i].Data) == 0 {
			continue
		}
		if _, err := w.Write(tensors[i].Data); err != nil {
			return fmt.Errorf("safetensors: %w", err)
		}
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // marshalling a string cannot fail
	b.Write(q)
}

// header is one tensor entry of the JSON header as found in the file.
type header struct {
	DType   *string  `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets []uint64 `json:"data_offsets"`
}

// Read parses a whole safetensors file held in b. The returned tensors'
// Data alias b. See the package documentation for what Read rejects.
func Read(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors: file of %d bytes is shorter than the 8-byte header length", len(b))
	}
	hn := binary.LittleEndian.Uint64(b[:8])
	if hn > MaxHeader {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes (not a safetensors file?)", hn, MaxHeader)
	}
	if hn > uint64(len(b)-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the %d bytes after the length field (file truncated?)", hn, len(b)-8)
	}
	hdr := b[8 : 8+hn]
	buf := b[8+hn:]
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, errors.New("safetensors: header is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("safetensors: header is not a JSON object")
	}
	f := &File{Meta: map[string]string{}}
	type span struct {
		begin, end uint64
		idx        int
	}
	var spans []span
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("safetensors: invalid JSON header: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("safetensors: invalid JSON header: key is not a string")
		}
		if seen[name] {
			return nil, fmt.Errorf("safetensors: duplicate key %q in header", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("safetensors: invalid JSON header at key %q: %v", name, err)
		}
		if name == metaKey {
			var m map[string]string
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, fmt.Errorf("safetensors: %s must map strings to strings: %v", metaKey, err)
			}
			for k, v := range m {
				f.Meta[k] = v
			}
			continue
		}
		var e header
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: invalid header entry: %v", name, err)
		}
		if e.DType == nil || e.Shape == nil || e.Offsets == nil {
			return nil, fmt.Errorf("safetensors: tensor %q: header entry needs dtype, shape and data_offsets", name)
		}
		elem, ok := dtypeSizes[*e.DType]
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, *e.DType)
		}
		if len(e.Offsets) != 2 {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets has %d values, want 2", name, len(e.Offsets))
		}
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", name, e.Shape)
			}
			if d > math.MaxInt {
				return nil, fmt.Errorf("safetensors: tensor %q: shape %v overflows", name, e.Shape)
			}
			shape[i] = int(d)
		}
		n, err := byteSize(shape, elem)
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %v", name, err)
		}
		begin, end := e.Offsets[0], e.Offsets[1]
		if begin > end || end > uint64(len(buf)) {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] out of bounds of the %d-byte data buffer", name, begin, end, len(buf))
		}
		if end-begin != uint64(n) {
			return nil, fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, data_offsets [%d, %d] give %d", name, shape, *e.DType, n, begin, end, end-begin)
		}
		spans = append(spans, span{begin, end, len(f.Tensors)})
		f.Tensors = append(f.Tensors, Tensor{Name: name, DType: *e.DType, Shape: shape, Data: buf[begin:end:end]})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, fmt.Errorf("safetensors: invalid JSON header: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("safetensors: invalid JSON header: data after the object")
	}
	slices.SortFunc(spans, func(a, b span) int {
		if a.begin != b.begin {
			if a.begin < b.begin {
				return -1
			}
			return 1
		}
		if a.end != b.end {
			if a.end < b.end {
				return -1
			}
			return 1
		}
		return 0
	})
	var at uint64
	for _, s := range spans {
		if s.begin != at {
			name := f.Tensors[s.idx].Name
			if s.begin < at {
				return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] overlap another tensor", name, s.begin, s.end)
			}
			return nil, fmt.Errorf("safetensors: gap in the data buffer at bytes [%d, %d] before tensor %q", at, s.begin, name)
		}
		at = s.end
	}
	if at != uint64(len(buf)) {
		return nil, fmt.Errorf("safetensors: tensors cover %d bytes of the %d-byte data buffer", at, len(buf))
	}
	slices.SortFunc(f.Tensors, func(a, b Tensor) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return f, nil
}

// Get returns the tensor called name.
func (f *File) Get(name string) (*Tensor, bool) {
	i, ok := slices.BinarySearchFunc(f.Tensors, name, func(t Tensor, name string) int {
		if t.Name < name {
			return -1
		}
		if t.Name > name {
			return 1
		}
		return 0
	})
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// F32 returns a copy of t's elements as float32. It fails unless t.DType
// is "F32" and the data length matches the shape.
func F32(t *Tensor) ([]float32, error) {
	if t.DType != "F32" {
		return nil, fmt.Errorf("safetensors: tensor %q has dtype %s, want F32", t.Name, t.DType)
	}
	n, err := byteSize(t.Shape, 4)
	if err != nil {
		return nil, fmt.Errorf("safetensors: tensor %q: %v", t.Name, err)
	}
	if n != len(t.Data) {
		return nil, fmt.Errorf("safetensors: tensor %q: shape %v needs %d bytes, have %d", t.Name, t.Shape, n, len(t.Data))
	}
	v := make([]float32, n/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return v, nil
}

// FromF32 returns an F32 tensor holding a copy of v. It panics if
// len(v) is not the product of shape (a programming error).
func FromF32(name string, shape []int, v []float32) Tensor {
	n, err := byteSize(shape, 1)
	if err != nil || n != len(v) {
		panic(fmt.Sprintf("safetensors: FromF32 %q: shape %v does not hold %d values", name, shape, len(v)))
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: "F32", Shape: slices.Clone(shape), Data: b}
}
