package sweep

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder maps YAML nodes onto the spec structs by their yaml tags,
// strictly: unknown keys, duplicate keys and wrong types are errors that
// name the file and line. It records the line of every key it sets, so
// that later validation errors can name lines too.
type decoder struct {
	file  string
	lines map[string]int // dotted key path ("mlp.widths") -> line
}

func (d *decoder) errf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("sweep: %s:%d: %s", d.file, n.Line, fmt.Sprintf(format, args...))
}

// decodeStruct fills the struct v points to from the mapping node n.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.errf(n, "%s: want a mapping of keys, got %s", orTop(path), describe(n))
	}
	t := v.Type()
	fields := map[string]int{}
	var names []string
	for i := range t.NumField() {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errf(k, "keys must be plain words, got %s", describe(k))
		}
		fi, ok := fields[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if path != "" {
				msg = fmt.Sprintf("unknown key %q in %s", k.Value, path)
			}
			if s := suggest(k.Value, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += fmt.Sprintf(" (known keys: %s)", strings.Join(names, ", "))
			}
			return d.errf(k, "%s", msg)
		}
		if seen[k.Value] {
			return d.errf(k, "key %q given twice", k.Value)
		}
		seen[k.Value] = true
		p := join(path, k.Value)
		d.lines[p] = k.Line
		if err := d.decodeValue(val, v.Field(fi), p); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // "key:" with no value keeps the default
	}
	switch v.Kind() {
	case reflect.Struct:
		return d.decodeStruct(n, v, path)
	case reflect.Slice:
		items := []*yaml.Node{n} // a single scalar is a one-element list
		if n.Kind == yaml.SequenceNode {
			items = n.Content
		} else if n.Kind != yaml.ScalarNode {
			return d.errf(n, "%s: want a list, got %s", path, describe(n))
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, it := range items {
			if err := d.decodeValue(it, s.Index(i), path); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return d.errf(n, "%s: want %s, got %s", path, kindName(v.Kind()), describe(n))
	}
	switch v.Kind() {
	case reflect.String:
		if n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float" {
			return d.errf(n, "%s: want a string, got %s", path, describe(n))
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Tag != "!!bool" {
			return d.errf(n, "%s: want true or false, got %s", path, describe(n))
		}
		var x bool
		if err := n.Decode(&x); err != nil {
			return d.errf(n, "%s: want true or false, got %s", path, describe(n))
		}
		v.SetBool(x)
	case reflect.Int, reflect.Int64:
		if n.Tag != "!!int" {
			return d.errf(n, "%s: want an integer, got %s", path, describe(n))
		}
		var x int64
		if err := n.Decode(&x); err != nil {
			return d.errf(n, "%s: want an integer, got %s", path, describe(n))
		}
		v.SetInt(x)
	case reflect.Uint64:
		var x uint64
		if n.Tag != "!!int" || n.Decode(&x) != nil {
			return d.errf(n, "%s: want a non-negative integer, got %s", path, describe(n))
		}
		v.SetUint(x)
	case reflect.Float64:
		if n.Tag != "!!int" && n.Tag != "!!float" {
			return d.errf(n, "%s: want a number, got %s", path, describe(n))
		}
		var x float64
		if err := n.Decode(&x); err != nil {
			return d.errf(n, "%s: want a number, got %s", path, describe(n))
		}
		v.SetFloat(x)
	default:
		panic(fmt.Sprintf("sweep: spec field %s has unsupported kind %s", path, v.Kind()))
	}
	return nil
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	}
	return k.String()
}

// describe names what a node holds, for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		kind := strings.TrimPrefix(n.Tag, "!!")
		switch kind {
		case "str":
			kind = "string"
		case "int":
			kind = "integer"
		case "float":
			kind = "number"
		}
		return fmt.Sprintf("%s %q", kind, n.Value)
	}
	return "something else"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "spec"
	}
	return path
}

// suggest returns the known name closest to s by edit distance, if close
// enough to be a likely typo.
func suggest(s string, names []string) string {
	best, bestD := "", 1<<30
	for _, n := range names {
		if d := editDistance(strings.ToLower(s), n); d < bestD {
			best, bestD = n, d
		}
	}
	if bestD <= max(2, len(s)/3) {
		return best
	}
	return ""
}

// editDistance is the Damerau–Levenshtein distance (with adjacent
// transpositions) between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
