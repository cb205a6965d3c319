package cost

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed horowitz45nm.yaml
var defaultTableYAML []byte

// DefaultTableFile is the name the default table is known by in messages.
const DefaultTableFile = "horowitz45nm.yaml"

// Table is the energy of each operation and memory access, in picojoules,
// and the size of the on-chip weight memory. The default (DefaultTable) is
// the 45 nm table of M. Horowitz, ISSCC 2014.
type Table struct {
	Name   string // short name, recorded with every energy figure
	Source string // citation

	Int8Add, Int32Add, FP32Add    float64 // pJ per addition
	Int8Mult, Int32Mult, FP32Mult float64 // pJ per multiplication
	SRAMRead32, DRAMRead32        float64 // pJ per 32-bit read
	// OnChipBytes is the on-chip (SRAM) weight memory: a model whose
	// weight bytes fit is read from SRAM, a larger one from DRAM.
	OnChipBytes int64
}

// tableKeys are the numeric keys of a table file, all required.
var tableKeys = []string{
	"int8_add_pj", "int32_add_pj", "fp32_add_pj", "int8_mult_pj", "int32_mult_pj", "fp32_mult_pj",
	"sram_read_32b_pj", "dram_read_32b_pj", "onchip_weight_bytes",
}

func (t *Table) field(key string) *float64 {
	switch key {
	case "int8_add_pj":
		return &t.Int8Add
	case "int32_add_pj":
		return &t.Int32Add
	case "fp32_add_pj":
		return &t.FP32Add
	case "int8_mult_pj":
		return &t.Int8Mult
	case "int32_mult_pj":
		return &t.Int32Mult
	case "fp32_mult_pj":
		return &t.FP32Mult
	case "sram_read_32b_pj":
		return &t.SRAMRead32
	case "dram_read_32b_pj":
		return &t.DRAMRead32
	}
	return nil
}

// DefaultTable returns the built-in 45 nm table (Horowitz, ISSCC 2014).
func DefaultTable() *Table {
	t, err := ParseTable(DefaultTableFile, defaultTableYAML)
	if err != nil {
		panic(fmt.Sprintf("cost: built-in table: %v", err))
	}
	return t
}

// DefaultTableSource returns the YAML text of the built-in table, a
// template for a user's own.
func DefaultTableSource() string { return string(defaultTableYAML) }

// LoadTable reads a cost table from a YAML file (see ParseTable).
func LoadTable(path string) (*Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cost: cost table: %v", err)
	}
	return ParseTable(filepath.Base(path), b)
}

// ParseTable parses a cost table; file names it in errors. The table is a
// YAML mapping with name, source (optional) and every key of the default
// table; an unknown or repeated key, a missing entry, or a value that is
// not a finite number >= 0 is an error naming the file and line.
func ParseTable(file string, src []byte) (*Table, error) {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&root); err != nil {
		return nil, fmt.Errorf("cost: %s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("cost: %s: a cost table is a mapping of keys to numbers", file)
	}
	t := &Table{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		key := k.Value
		if seen[key] {
			return nil, fmt.Errorf("cost: %s:%d: key %q given twice", file, k.Line, key)
		}
		seen[key] = true
		switch {
		case key == "name" || key == "source":
			if v.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("cost: %s:%d: %s must be a string", file, v.Line, key)
			}
			if key == "name" {
				t.Name = v.Value
			} else {
				t.Source = v.Value
			}
			continue
		case !slices.Contains(tableKeys, key):
			return nil, fmt.Errorf("cost: %s:%d: unknown key %q (known: name, source, %s)", file, k.Line, key, strings.Join(tableKeys, ", "))
		}
		x, err := strconv.ParseFloat(v.Value, 64)
		if v.Kind != yaml.ScalarNode || err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("cost: %s:%d: %s: %q is not a number", file, v.Line, key, v.Value)
		}
		if x < 0 {
			return nil, fmt.Errorf("cost: %s:%d: %s is %g; energies and sizes must be >= 0", file, v.Line, key, x)
		}
		if key == "onchip_weight_bytes" {
			if x != math.Trunc(x) || x > math.MaxInt64/2 {
				return nil, fmt.Errorf("cost: %s:%d: onchip_weight_bytes %g must be a whole number of bytes", file, v.Line, x)
			}
			t.OnChipBytes = int64(x)
			continue
		}
		*t.field(key) = x
	}
	var missing []string
	for _, k := range tableKeys {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("cost: %s: missing entries: %s", file, strings.Join(missing, ", "))
	}
	if t.Name == "" {
		t.Name = strings.TrimSuffix(strings.TrimSuffix(file, ".yaml"), ".yml")
	}
	return t, nil
}
