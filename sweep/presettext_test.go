package sweep

import (
	"reflect"
	"strings"
	"testing"
)

// TestPresetSource: the text a preset prints is the spec it runs, for
// every preset, with and without CIFAR-10 in the cache, with its own seeds
// and with more.
func TestPresetSource(t *testing.T) {
	for _, name := range PresetNames() {
		if !strings.Contains(presets[name], "\nseeds: [1]\n") {
			t.Errorf("preset %s has no line \"seeds: [1]\" for --seeds to replace", name)
		}
		if p, ok := preferred[name]; ok && !strings.Contains(presets[name], "\ndataset: "+p.instead+"\n") {
			t.Errorf("preset %s has no line \"dataset: %s\" to switch to %s", name, p.instead, p.dataset)
		}
		for _, have := range []bool{false, true} {
			haveFn := func(string) bool { return have }
			for _, seeds := range []int{0, 3} {
				if name == "quick" && seeds > 1 {
					continue
				}
				text, err := presetText(name, seeds, haveFn)
				if err != nil {
					t.Fatalf("preset %s: %v", name, err)
				}
				printed, err := ParseSpec("preset "+name, []byte(text))
				if err != nil {
					t.Fatalf("preset %s, cifar10 cached %v, seeds %d: printed text does not parse: %v", name, have, seeds, err)
				}
				runs, err := PresetFor(name, haveFn)
				if err != nil {
					t.Fatal(err)
				}
				if seeds > 0 {
					runs.Seeds = []uint64{1, 2, 3}
				}
				if !reflect.DeepEqual(printed, runs) {
					t.Errorf("preset %s, cifar10 cached %v, seeds %d: printed spec\n%+v\nruns\n%+v", name, have, seeds, printed, runs)
				}
				if want := map[bool]string{false: "fashion-mnist", true: "cifar10"}[have]; name == "paper-cnn" && printed.Dataset != want {
					t.Errorf("paper-cnn, cifar10 cached %v: dataset %s, want %s", have, printed.Dataset, want)
				}
			}
		}
	}
	if _, err := PresetSourceWithSeeds("quick", 2); err == nil {
		t.Error("quick with 2 seeds: no error")
	}
	if _, err := PresetSourceWithSeeds("nope", 0); err == nil || !strings.Contains(err.Error(), "unknown preset") {
		t.Errorf("unknown preset: %v", err)
	}
}
