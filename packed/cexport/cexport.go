package cexport

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/packed"
)

// Board is a target's memory budget.
type Board struct {
	Name       string
	Flash, RAM int64  // bytes
	QEMU       string // qemu-system-arm machine
	CPU        string // -mcpu of arm-none-eabi-gcc
}

// Boards are the targets scripts/mcu-check.sh runs on QEMU.
var Boards = map[string]Board{
	"mps2-an386": {Name: "mps2-an386", Flash: 4 << 20, RAM: 4 << 20, QEMU: "mps2-an386", CPU: "cortex-m4"},
	"microbit":   {Name: "microbit", Flash: 256 << 10, RAM: 16 << 10, QEMU: "microbit", CPU: "cortex-m0"},
}

// Reserves for what the image holds beyond the model: newlib (nano),
// the harness and startup code in flash, stack and libc state in RAM. Fit
// compares the model's own needs plus these with the board.
const (
	FlashReserve = 24 << 10
	RAMReserve   = 3 << 10
)

// Options configures Write.
type Options struct {
	Name  string // C identifier prefixing the API (Name_predict); "" = "resq"
	Board string // when set, the model must fit this board (see Fit)
}

// Sizes are the memory needs of the generated model code.
type Sizes struct {
	WeightBytes  int64 // const codes, biases, multipliers and shifts
	ScratchBytes int64 // the static working buffer
}

var ident = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,30}$`)

var keywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields("auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while _Bool _Complex _Imaginary main") {
		keywords[k] = true
	}
}

// CheckName reports whether name can prefix the generated C API.
func CheckName(name string) error {
	if !ident.MatchString(name) || keywords[name] {
		return fmt.Errorf("cexport: model name %q is not a C identifier (letters, digits and _, not starting with a digit, at most 31 characters, not a keyword)", name)
	}
	return nil
}

// Fit checks that a model of sizes s fits board b with the reserves for
// the runtime, and names both numbers when it does not.
func Fit(s Sizes, board string) error {
	b, ok := Boards[board]
	if !ok {
		names := make([]string, 0, len(Boards))
		for n := range Boards {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("cexport: unknown board %q (have %s)", board, strings.Join(names, ", "))
	}
	if need := s.WeightBytes + FlashReserve; need > b.Flash {
		return fmt.Errorf("cexport: model does not fit %s: it needs %d bytes of flash (%d of weights + %d for code and newlib), the board has %d", b.Name, need, s.WeightBytes, FlashReserve, b.Flash)
	}
	if need := s.ScratchBytes + RAMReserve; need > b.RAM {
		return fmt.Errorf("cexport: model does not fit %s: it needs %d bytes of RAM (%d of scratch + %d for stack and libc), the board has %d", b.Name, need, s.ScratchBytes, RAMReserve, b.RAM)
	}
	return nil
}

// layerView is one layer as the templates see it.
type layerView struct {
	*packed.IntLayer
	Prefix   string
	Weighted bool
	KindC    string
	Base3    int
	// ActTop is the largest code of the stage's output (OutMax, or that
	// of the weighted layer before a pool): a flipped activation code
	// above it reads as it.
	ActTop int
}

// view is what the templates see.
type view struct {
	Name, Upper, Guard                string
	Provenance                        string
	InputSize, Classes, InMax, InZero int
	InScale, LogitScale               float32
	Layers                            []layerView
	BufA, BufB, MaxCols, Scratch      int
	WeightBytes                       int64
}

func newView(m *packed.Model, name string) (*view, error) {
	in := m.Integer()
	if in == nil {
		return nil, fmt.Errorf("cexport: the model is float-mode; export it with --integer first (the C code is integer-only)")
	}
	v := &view{Name: name, Upper: strings.ToUpper(name), Guard: strings.ToUpper(name) + "_MODEL_H", InputSize: 1, Classes: m.Classes,
		InMax: in.InMax, InZero: in.InZero, InScale: in.InScale, LogitScale: in.LogitScale}
	for _, d := range m.In {
		v.InputSize *= d
	}
	top := 255
	for i, l := range in.Layers {
		lv := layerView{IntLayer: l, Prefix: "l" + strconv.Itoa(i), Weighted: l.Kind != "maxpool"}
		if lv.Weighted {
			top = int(min(max(l.OutMax, 0), 255))
		}
		lv.ActTop = top
		switch l.Kind {
		case "dense":
			lv.KindC = "K_DENSE"
		case "conv":
			lv.KindC = "K_CONV"
		default:
			lv.KindC = "K_POOL"
		}
		if l.Encoding == packed.EncBase3 {
			lv.Base3 = 1
		}
		if lv.Weighted {
			v.MaxCols = max(v.MaxCols, l.Cols)
			v.WeightBytes += int64(len(l.Codes)) + 9*int64(l.Rows)
		}
		v.Layers = append(v.Layers, lv)
	}
	// Stage i reads buffer i%2 and writes buffer (i+1)%2 (the input is
	// copied into buffer 0; the last stage writes the caller's logits).
	v.BufA = v.InputSize
	for i, l := range in.Layers[:len(in.Layers)-1] {
		if i%2 == 0 {
			v.BufB = max(v.BufB, l.OutSize)
		} else {
			v.BufA = max(v.BufA, l.OutSize)
		}
	}
	v.Scratch = v.BufA + v.BufB + v.MaxCols
	v.Provenance = provenance(m)
	return v, nil
}

// SizesOf returns the memory needs of m's generated code.
func SizesOf(m *packed.Model) (Sizes, error) {
	v, err := newView(m, "resq")
	if err != nil {
		return Sizes{}, err
	}
	return Sizes{WeightBytes: v.WeightBytes, ScratchBytes: int64(v.Scratch)}, nil
}

// provenance formats the model's metadata as comment lines (no "*/").
func provenance(m *packed.Model) string {
	keys := make([]string, 0, len(m.Meta))
	for k := range m.Meta {
		if k != "arch" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("   Provenance (packed model metadata):\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "     %s: %s\n", clean(k), clean(m.Meta[k]))
	}
	in := m.Integer()
	fmt.Fprintf(&b, "   Integer grid: input codes 0..%d (zero point %d); hidden codes 0..255 in front of weights of up to 7 bits,\n", in.InMax, in.InZero)
	b.WriteString("   0..127 in front of 8-bit weights; int32 sums and biases; requantization floor((v*m + 2^(sh-1)) / 2^sh).\n")
	fmt.Fprintf(&b, "   Calibration: %s.", clean(in.Calib))
	return b.String()
}

// clean keeps printable ASCII and breaks comment terminators.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
	s = strings.ReplaceAll(s, "*/", "* /")
	return strings.ReplaceAll(s, "/*", "/ *")
}

var funcs = template.FuncMap{
	"bytes": func(b []byte) string {
		return cList(len(b), 24, func(i int) string { return strconv.Itoa(int(b[i])) })
	},
	"ints": func(v []int32) string {
		return cList(len(v), 8, func(i int) string {
			if v[i] == -1<<31 {
				return "INT32_MIN"
			}
			return strconv.Itoa(int(v[i]))
		})
	},
	"shifts": func(v []int32) string {
		return cList(len(v), 24, func(i int) string { return strconv.Itoa(int(v[i])) })
	},
}

// cList writes the n items of a C array initialiser, each followed by a
// comma, perLine to a line.
func cList(n, perLine int, item func(i int) string) string {
	var s strings.Builder
	for i := range n {
		s.WriteString(item(i))
		s.WriteByte(',')
		if i%perLine == perLine-1 {
			s.WriteByte('\n')
		}
	}
	return s.String()
}

var tmpls = template.Must(template.Must(template.Must(template.New("model.h").Funcs(funcs).Parse(headerTmpl)).
	New("model.c").Parse(modelTmpl)).New("main.c").Parse(mainTmpl))

// Generate returns the C sources of m: model.h, model.c and main.c.
func Generate(m *packed.Model, opt Options) (map[string][]byte, error) {
	name := opt.Name
	if name == "" {
		name = "resq"
	}
	if err := CheckName(name); err != nil {
		return nil, err
	}
	v, err := newView(m, name)
	if err != nil {
		return nil, err
	}
	if opt.Board != "" {
		if err := Fit(Sizes{WeightBytes: v.WeightBytes, ScratchBytes: int64(v.Scratch)}, opt.Board); err != nil {
			return nil, err
		}
	}
	out := map[string][]byte{}
	for _, f := range []string{"model.h", "model.c", "main.c"} {
		var b bytes.Buffer
		if err := tmpls.ExecuteTemplate(&b, f, v); err != nil {
			return nil, fmt.Errorf("cexport: %s: %v", f, err)
		}
		out[f] = b.Bytes()
	}
	return out, nil
}

// Write generates m's C sources into dir (created if missing; each file
// replaced atomically).
func Write(dir string, m *packed.Model, opt Options) error {
	files, err := Generate(m, opt)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cexport: %v", err)
	}
	for _, f := range []string{"model.h", "model.c", "main.c"} {
		if err := atomicfile.WriteFile(filepath.Join(dir, f), func(w io.Writer) error {
			_, err := w.Write(files[f])
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
