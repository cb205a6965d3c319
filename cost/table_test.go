package cost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultTable(t *testing.T) {
	d := DefaultTable()
	want := Table{Name: "horowitz-isscc2014-45nm", Source: d.Source, Int8Add: 0.03, Int32Add: 0.1, FP32Add: 0.9,
		Int8Mult: 0.2, Int32Mult: 3.1, FP32Mult: 3.7, SRAMRead32: 5, DRAMRead32: 640, OnChipBytes: 131072}
	if *d != want || !strings.Contains(d.Source, "Horowitz") || !strings.Contains(d.Source, "ISSCC 2014") {
		t.Fatalf("default table %+v", *d)
	}
}

func TestParseTableErrors(t *testing.T) {
	base := DefaultTableSource()
	for _, tc := range []struct {
		name, src, want string
	}{
		{"missing", strings.Replace(base, "fp32_mult_pj: 3.7\n", "", 1), "my.yaml: missing entries: fp32_mult_pj"},
		{"negative", strings.Replace(base, "int8_add_pj: 0.03", "int8_add_pj: -0.03", 1), "my.yaml:11: int8_add_pj is -0.03"},
		{"unknown", base + "int4_mult_pj: 0.1\n", `unknown key "int4_mult_pj"`},
		{"not a number", strings.Replace(base, "int32_add_pj: 0.1", "int32_add_pj: cheap", 1), `int32_add_pj: "cheap" is not a number`},
		{"twice", base + "int8_add_pj: 0.03\n", `key "int8_add_pj" given twice`},
		{"fractional bytes", strings.Replace(base, "onchip_weight_bytes: 131072", "onchip_weight_bytes: 1.5", 1), "whole number"},
		{"not a mapping", "- 1\n- 2\n", "a mapping"},
		{"bad yaml", "a: [1,\n", "my.yaml"},
	} {
		_, err := ParseTable("my.yaml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "cost: my.yaml") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestLoadTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fpga.yaml")
	src := strings.Replace(DefaultTableSource(), "name: horowitz-isscc2014-45nm\n", "", 1)
	src = strings.Replace(src, "dram_read_32b_pj: 640", "dram_read_32b_pj: 100", 1)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tb, err := LoadTable(path)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Name != "fpga" || tb.DRAMRead32 != 100 {
		t.Fatalf("table %+v", *tb)
	}
	if _, err := LoadTable(filepath.Join(t.TempDir(), "none.yaml")); err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}
