package ckpt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/internal/safetensors"
	"github.com/resq-dev/resq/internal/version"
	"github.com/resq-dev/resq/nn"
)

// FormatVersion is the checkpoint format this package writes and reads.
const FormatVersion = 1

// Meta describes a checkpoint. Save fills Format, Spec, In and Classes from
// the model and Version from internal/version when empty.
type Meta struct {
	Format          int               `json:"format"`
	Spec            string            `json:"spec"`
	In              []int             `json:"in"`
	Classes         int               `json:"classes"`
	Dataset         string            `json:"dataset,omitempty"`
	DatasetChecksum string            `json:"dataset_checksum,omitempty"`
	Version         string            `json:"version"`
	Train           json.RawMessage   `json:"train,omitempty"` // train.Config (and results) as JSON
	Quant           json.RawMessage   `json:"quant,omitempty"` // set by package quant for quantized models
	Extra           map[string]string `json:"extra,omitempty"`
}

// Save writes m's weights and buffers and meta to path atomically.
func Save(path string, m *nn.Model, meta Meta) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		return Encode(w, m, meta)
	})
}

// Encode writes the checkpoint of m and meta to w. It fails if meta.Spec is
// set and differs from m.Spec.
func Encode(w io.Writer, m *nn.Model, meta Meta) error {
	if meta.Spec != "" && meta.Spec != m.Spec {
		return fmt.Errorf("ckpt: meta spec %q differs from the model's %q", meta.Spec, m.Spec)
	}
	meta.Format = FormatVersion
	meta.Spec = m.Spec
	meta.In = slices.Clone(m.In)
	meta.Classes = m.Classes
	if meta.Version == "" {
		meta.Version = version.String()
	}
	js, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("ckpt: encoding metadata: %v", err)
	}
	var ts []safetensors.Tensor
	for _, p := range m.Params() {
		ts = append(ts, safetensors.FromF32(p.Name, p.W.Shape, p.W.Data))
	}
	for _, b := range m.Buffers() {
		ts = append(ts, safetensors.FromF32(b.Name, b.T.Shape, b.T.Data))
	}
	return safetensors.Write(w, ts, map[string]string{
		"format": strconv.Itoa(FormatVersion),
		"resq":   string(js),
	})
}

// Load reads the checkpoint at path and rebuilds its model.
func Load(path string) (*nn.Model, Meta, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("ckpt: %v", err)
	}
	return LoadBytes(b, filepath.Base(path))
}

// LoadBytes is Load for a checkpoint held in memory; name labels errors.
// The returned model does not alias b.
func LoadBytes(b []byte, name string) (*nn.Model, Meta, error) {
	var meta Meta
	f, err := safetensors.Read(b)
	if err != nil {
		return nil, meta, fmt.Errorf("ckpt: %q: %v", name, err)
	}
	fs, ok := f.Meta["format"]
	if !ok {
		return nil, meta, fmt.Errorf("ckpt: %q: not a resq checkpoint (no \"format\" in the safetensors metadata)", name)
	}
	format, err := strconv.Atoi(fs)
	if err != nil {
		if strings.HasPrefix(fs, "resq-packed") {
			return nil, meta, fmt.Errorf("ckpt: %q is a packed model, not a checkpoint: run it with 'resq infer'", name)
		}
		return nil, meta, fmt.Errorf("ckpt: %q: bad format version %q", name, fs)
	}
	if err := checkFormat(format, name); err != nil {
		return nil, meta, err
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(f.Meta["resq"])))
	if err := dec.Decode(&meta); err != nil {
		return nil, meta, fmt.Errorf("ckpt: %q: bad \"resq\" metadata: %v", name, err)
	}
	if dec.More() {
		return nil, meta, fmt.Errorf("ckpt: %q: bad \"resq\" metadata: data after the JSON object", name)
	}
	if meta.Format != format {
		return nil, meta, fmt.Errorf("ckpt: %q: metadata says format %d and %d", name, format, meta.Format)
	}
	// Size the model before building it: a corrupted or hostile spec must
	// not make Build allocate more than the file can fill. nn.SpecSize also
	// enforces nn's limits on the input shape and activation sizes.
	_, params, err := nn.SpecSize(meta.Spec, meta.In)
	if err != nil {
		return nil, meta, fmt.Errorf("ckpt: %q: %w", name, err)
	}
	if have := f32Values(f); params > have+sizeSlack {
		return nil, meta, fmt.Errorf("ckpt: %q: spec %q needs %d parameters, the file holds %d", name, meta.Spec, params, have)
	}
	m, err := nn.Build(meta.Spec, meta.In, 0)
	if err != nil {
		return nil, meta, fmt.Errorf("ckpt: %q: %w", name, err)
	}
	if m.Classes != meta.Classes {
		return nil, meta, fmt.Errorf("ckpt: %q: metadata says %d classes, model spec %q has %d", name, meta.Classes, meta.Spec, m.Classes)
	}
	type slot struct {
		name string
		data []float32
		dims []int
	}
	var want []slot
	for _, p := range m.Params() {
		want = append(want, slot{p.Name, p.W.Data, p.W.Shape})
	}
	for _, bf := range m.Buffers() {
		want = append(want, slot{bf.Name, bf.T.Data, bf.T.Shape})
	}
	for _, s := range want {
		t, ok := f.Get(s.name)
		if !ok {
			return nil, meta, fmt.Errorf("ckpt: %q: tensor %q of model spec %q is missing", name, s.name, meta.Spec)
		}
		if !slices.Equal(t.Shape, s.dims) {
			return nil, meta, fmt.Errorf("ckpt: %q: tensor %q has shape %v, model spec wants %v", name, s.name, t.Shape, s.dims)
		}
		v, err := safetensors.F32(t)
		if err != nil {
			return nil, meta, fmt.Errorf("ckpt: %q: %v", name, err)
		}
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, meta, fmt.Errorf("ckpt: %q: tensor %q holds %v at element %d: a checkpoint must hold finite numbers (train it again)", name, s.name, x, i)
			}
		}
		copy(s.data, v)
	}
	if len(f.Tensors) != len(want) {
		for _, t := range f.Tensors {
			if !slices.ContainsFunc(want, func(s slot) bool { return s.name == t.Name }) {
				return nil, meta, fmt.Errorf("ckpt: %q: tensor %q is not part of model spec %q", name, t.Name, meta.Spec)
			}
		}
	}
	return m, meta, nil
}

// sizeSlack is how many more params than the file holds a spec may need
// and still be built: a model that small is cheap to build (at most 8 MiB
// of weights and gradients), and the tensor-by-tensor checks then name the
// missing or short tensor, which says more than a count.
const sizeSlack = 1 << 20

// f32Values returns the number of F32 values in f, at most a quarter of
// the file's size.
func f32Values(f *safetensors.File) int64 {
	var n int64
	for _, t := range f.Tensors {
		if t.DType == "F32" {
			n += int64(len(t.Data) / 4)
		}
	}
	return n
}

// ErrFormat is wrapped by the errors for checkpoints of another format
// version.
var ErrFormat = errors.New("unsupported checkpoint format")

func checkFormat(format int, name string) error {
	switch {
	case format > FormatVersion:
		return fmt.Errorf("ckpt: %q: %w %d: this resq (%s) reads format %d; upgrade resq to load it", name, ErrFormat, format, version.String(), FormatVersion)
	case format < FormatVersion:
		return fmt.Errorf("ckpt: %q: %w %d: this resq (%s) reads format %d; retrain with `resq train`, or load it with the older resq that wrote it", name, ErrFormat, format, version.String(), FormatVersion)
	}
	return nil
}
