package nn

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Layer tokens of a parsed spec.
type tokKind int

const (
	tokDense tokKind = iota // mlp hidden layer or cnn fc
	tokConv
	tokPool
	tokBN
)

type token struct {
	kind      tokKind
	n         int // width or maps (maps before scaling)
	k, stride int // conv kernel / pool window and stride
}

// parsed is a validated model spec.
type parsed struct {
	family  string // "mlp" or "cnn"
	in      int    // mlp input width (0 for cnn)
	toks    []token
	classes int
	act     string  // "relu", "sigmoid", "tanh"
	drop    float64 // dropout after hidden activations (mlp) / before dense layers (cnn)
	dropin  float64 // dropout on the input (mlp)
	bn      bool    // cnn: batch norm after every conv
	scale   float64 // cnn: conv map multiplier
	init    string  // weight initialisation: InitUniform or InitHe
	rec     recOpts // lstm, gru: head, tokens, truncation
	opts    []string
}

func specErr(spec, format string, a ...any) error {
	return fmt.Errorf("nn: model spec %q: %s", spec, fmt.Sprintf(format, a...))
}

func posInt(s string) (int, bool) {
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	return v, err == nil && v > 0
}

// parseSpec parses and validates spec (see the package documentation for
// the grammar).
func parseSpec(spec string) (*parsed, error) {
	fam, rest, ok := strings.Cut(spec, ":")
	if ok && (fam == "lstm" || fam == "gru") {
		return parseRecurrent(spec, fam, rest)
	}
	if !ok || (fam != "mlp" && fam != "cnn") {
		return nil, specErr(spec, "want mlp:..., cnn:..., lstm:... or gru:...")
	}
	parts := strings.Split(rest, ",")
	p := &parsed{family: fam, act: "relu", scale: 1, init: DefaultInit}
	for _, o := range parts[1:] {
		if err := p.option(spec, o); err != nil {
			return nil, err
		}
	}
	toks := strings.Split(parts[0], "-")
	if fam == "mlp" {
		if len(toks) < 2 {
			return nil, specErr(spec, "want IN-[HIDDEN-...]-CLASSES")
		}
		in, ok := posInt(toks[0])
		if !ok {
			return nil, specErr(spec, "bad input width %q (want a positive integer)", toks[0])
		}
		p.in = in
		for _, t := range toks[1 : len(toks)-1] {
			w, cnt, hasX := strings.Cut(t, "x")
			wv, ok1 := posInt(w)
			c := 1
			ok2 := true
			if hasX {
				c, ok2 = posInt(cnt)
			}
			if !ok1 || !ok2 {
				return nil, specErr(spec, "bad layer %q (want WIDTH or WIDTHxCOUNT)", t)
			}
			if c > 1000 {
				return nil, specErr(spec, "bad layer %q (more than 1000 layers)", t)
			}
			if len(p.toks)+c > MaxSpecLayers {
				return nil, specErr(spec, "more than %d layers", MaxSpecLayers)
			}
			for range c {
				p.toks = append(p.toks, token{kind: tokDense, n: wv})
			}
		}
		if p.bn {
			return nil, specErr(spec, "option \"bn\" applies to cnn specs only")
		}
		if p.scale != 1 {
			return nil, specErr(spec, "option \"x%g\" applies to cnn specs only", p.scale)
		}
	} else {
		if p.dropin != 0 {
			return nil, specErr(spec, "option \"dropin\" applies to mlp specs only")
		}
		if len(toks) < 1 {
			return nil, specErr(spec, "want LAYER-...-CLASSES")
		}
		if len(toks)-1 > MaxSpecLayers {
			return nil, specErr(spec, "more than %d layers", MaxSpecLayers)
		}
		for i, t := range toks[:len(toks)-1] {
			tk, err := cnnToken(t)
			if err != nil {
				return nil, specErr(spec, "bad layer %q (%v)", t, err)
			}
			if tk.kind == tokBN && (i == 0 || p.toks[len(p.toks)-1].kind != tokConv) {
				return nil, specErr(spec, "bad layer %q (bn must follow a conv layer)", t)
			}
			if tk.kind != tokDense && len(p.toks) > 0 && p.toks[len(p.toks)-1].kind == tokDense {
				return nil, specErr(spec, "bad layer %q (conv, pool and bn must come before fc layers)", t)
			}
			p.toks = append(p.toks, tk)
		}
	}
	last := toks[len(toks)-1]
	c, ok := posInt(last)
	if !ok {
		return nil, specErr(spec, "bad class count %q (the last token must be a positive integer)", last)
	}
	if c < 2 {
		return nil, specErr(spec, "bad class count %q (need at least 2 classes)", last)
	}
	p.classes = c
	return p, nil
}

// cnnToken parses NcK[sS], pK[sS], fcN or bn.
func cnnToken(t string) (token, error) {
	switch {
	case t == "bn":
		return token{kind: tokBN}, nil
	case strings.HasPrefix(t, "fc"):
		n, ok := posInt(t[2:])
		if !ok {
			return token{}, fmt.Errorf("want fcWIDTH")
		}
		return token{kind: tokDense, n: n}, nil
	case strings.HasPrefix(t, "p"):
		k, s, err := kernelStride(t[1:], 0)
		if err != nil {
			return token{}, fmt.Errorf("want pK or pKsS")
		}
		return token{kind: tokPool, k: k, stride: s}, nil
	}
	maps, ks, ok := strings.Cut(t, "c")
	n, ok1 := posInt(maps)
	if !ok || !ok1 {
		return token{}, fmt.Errorf("want MAPScK, MAPScKsS, pK, pKsS, bn or fcWIDTH")
	}
	k, s, err := kernelStride(ks, 1)
	if err != nil {
		return token{}, fmt.Errorf("want MAPScK or MAPScKsS")
	}
	return token{kind: tokConv, n: n, k: k, stride: s}, nil
}

// kernelStride parses "K" or "KsS"; defStride 0 means stride = K.
func kernelStride(s string, defStride int) (k, stride int, err error) {
	ks, ss, hasS := strings.Cut(s, "s")
	k, ok := posInt(ks)
	if !ok {
		return 0, 0, fmt.Errorf("bad kernel")
	}
	stride = defStride
	if stride == 0 {
		stride = k
	}
	if hasS {
		if stride, ok = posInt(ss); !ok {
			return 0, 0, fmt.Errorf("bad stride")
		}
	}
	return k, stride, nil
}

func (p *parsed) option(spec, o string) error {
	key, val, hasEq := strings.Cut(o, "=")
	prob := func() (float64, error) {
		v, err := strconv.ParseFloat(val, 64)
		if err != nil || !(v >= 0 && v < 1) {
			return 0, specErr(spec, "bad option %q (want a probability in [0, 1))", o)
		}
		return v, nil
	}
	var err error
	switch {
	case key == "act" && hasEq:
		if val != "relu" && val != "sigmoid" && val != "tanh" {
			return specErr(spec, "bad option %q (want act=relu, act=sigmoid or act=tanh)", o)
		}
		p.act = val
	case key == "drop" && hasEq:
		p.drop, err = prob()
	case key == "dropin" && hasEq:
		p.dropin, err = prob()
	case key == "init" && hasEq:
		if val != InitUniform && val != InitHe {
			return specErr(spec, "bad option %q (want init=%s or init=%s)", o, InitUniform, InitHe)
		}
		p.init = val
	case o == "bn":
		p.bn = true
	case strings.HasPrefix(o, "x") && !hasEq:
		v, perr := strconv.ParseFloat(o[1:], 64)
		if perr != nil || !(v > 0) || math.IsInf(v, 0) {
			return specErr(spec, "bad option %q (want xMULT with MULT > 0)", o)
		}
		p.scale = v
	default:
		return specErr(spec, "bad option %q (want act=, drop=, dropin=, init=, bn or xMULT)", o)
	}
	if err != nil {
		return err
	}
	p.opts = append(p.opts, o)
	return nil
}

// MLPSpec returns the spec of a fully connected network with depth hidden
// layers of width units: MLPSpec(784, 1024, 3, 10, "drop=0.2") is
// "mlp:784-1024x3-10,drop=0.2". depth 0 gives a linear classifier. opts
// (comma-separated options, may be empty) is appended verbatim; Build
// validates it.
func MLPSpec(in, width, depth, classes int, opts string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mlp:%d-", in)
	if depth > 0 {
		fmt.Fprintf(&b, "%dx%d-", width, depth)
	}
	fmt.Fprintf(&b, "%d", classes)
	if opts != "" {
		b.WriteString(",")
		b.WriteString(opts)
	}
	return b.String()
}

// ScaleCNN returns base with its conv map multiplier multiplied by mult:
// ScaleCNN("cnn:32c5-p2-64c5-p2-fc512-10", 0.5) is
// "cnn:32c5-p2-64c5-p2-fc512-10,x0.5", and scaling that by 4 gives ",x2".
// The layer tokens are kept, so the spec records both the base network and
// the multiplier.
func ScaleCNN(base string, mult float64) (string, error) {
	p, err := parseSpec(base)
	if err != nil {
		return "", err
	}
	if p.family != "cnn" {
		return "", fmt.Errorf("nn: ScaleCNN: %q is not a cnn spec", base)
	}
	if !(mult > 0) || math.IsInf(mult, 0) {
		return "", fmt.Errorf("nn: ScaleCNN: bad multiplier %v (want > 0)", mult)
	}
	parts := strings.Split(base, ",")
	out := parts[:1:1]
	for _, o := range parts[1:] {
		if strings.HasPrefix(o, "x") && !strings.Contains(o, "=") {
			continue
		}
		out = append(out, o)
	}
	s := p.scale * mult
	if s != 1 {
		out = append(out, "x"+strconv.FormatFloat(s, 'g', -1, 64))
	}
	return strings.Join(out, ","), nil
}

// SpecInfo summarises a spec for sweep records.
type SpecInfo struct {
	Family  string  // "mlp", "cnn", "lstm" or "gru"
	In      int     // mlp input width, recurrent features per step (0 for cnn: it comes from the data)
	Width   int     // mlp, recurrent: hidden width when all hidden layers agree, else 0
	Depth   int     // mlp, recurrent: number of hidden layers
	Classes int     //
	Scale   float64 // cnn: conv map multiplier (1 when absent)
}

// ParseSpec validates spec and summarises it.
func ParseSpec(spec string) (SpecInfo, error) {
	p, err := parseSpec(spec)
	if err != nil {
		return SpecInfo{}, err
	}
	info := SpecInfo{Family: p.family, In: p.in, Classes: p.classes, Scale: p.scale}
	if p.family != "cnn" {
		info.Depth = len(p.toks)
		for i, t := range p.toks {
			if i == 0 {
				info.Width = t.n
			} else if t.n != info.Width {
				info.Width = 0
				break
			}
		}
	}
	return info, nil
}
