package sweep

import (
	"fmt"
	"testing"
)

func TestPresetWithSeeds(t *testing.T) {
	one, err := Preset("paper-ffdnn")
	if err != nil {
		t.Fatal(err)
	}
	three, err := PresetWithSeeds("paper-ffdnn", 3)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(three.Seeds) != "[1 2 3]" {
		t.Fatalf("seeds %v, want [1 2 3]", three.Seeds)
	}
	c1, _ := one.Cells()
	c3, _ := three.Cells()
	if len(c3) != 3*len(c1) {
		t.Fatalf("%d cells with 3 seeds, %d with one: want 3x", len(c3), len(c1))
	}
	ids := map[string]bool{}
	for _, c := range c3 {
		ids[c.ID] = true
	}
	for _, c := range c1 {
		if !ids[c.ID] {
			t.Fatalf("cell %s of the one-seed run is not among the 3-seed run's: a rerun would not reuse it", c.ID)
		}
	}
	if s, err := PresetWithSeeds("paper-ffdnn", 0); err != nil || fmt.Sprint(s.Seeds) != "[1]" {
		t.Errorf("seeds 0: %v, %v; want the preset's [1]", s.Seeds, err)
	}
	for _, bad := range []struct {
		name  string
		seeds int
	}{{"quick", 3}, {"paper-ffdnn", -1}, {"paper-cnn", MaxPresetSeeds + 1}, {"nope", 2}} {
		if _, err := PresetWithSeeds(bad.name, bad.seeds); err == nil {
			t.Errorf("PresetWithSeeds(%q, %d): no error", bad.name, bad.seeds)
		}
	}
	if _, err := PresetWithSeeds("quick", 1); err != nil {
		t.Errorf("quick with 1 seed: %v", err)
	}
}
