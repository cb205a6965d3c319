package sweep

import (
	"fmt"
	"sort"
	"strings"
)

// presets are written in the spec language itself, so that `resq sweep`
// users can copy one and edit it, and so that they resolve exactly like a
// spec file.
var presets = map[string]string{
	// quick: the README's first command. 4 widths x 1 depth x 1 seed:
	// 4 float cells and 16 quantized cells, full MNIST, small budgets, sized
	// to finish in <= 10 minutes on a 2-core machine (measured times: the
	// README's performance section).
	"quick": `
name: quick
dataset: mnist
family: mlp
mlp: {widths: [32, 64, 128, 256], depths: [2], act: relu}
bits: [2, 3]
modes: [float, direct, retrain]
seeds: [1]
float: {epochs: 10, batch: 100, lr: 0.1, optimizer: sgd, momentum: 0.9, schedule: cosine}
retrain: {epochs: 3, lr: 0.01}
quant: {rule: l2}
`,
	// paper-ffdnn: the paper's fully connected sweep (Sung et al. 2016,
	// section 3), on MNIST: hidden widths 32..1024, 2 to 4 hidden layers,
	// ternary and 3-bit weights, direct and retrained. The float budget
	// (10 epochs, dropout 0.2) reaches the training target (784-1024x3-10
	// <= 1.4% test error); the whole preset takes about 11 minutes on 2
	// cores (README).
	"paper-ffdnn": `
name: paper-ffdnn
dataset: mnist
family: mlp
mlp: {widths: [32, 64, 128, 256, 512, 1024], depths: [2, 3, 4], act: relu, dropout: 0.2}
bits: [2, 3]
modes: [float, direct, retrain]
seeds: [1]
float: {epochs: 10, batch: 100, lr: 0.05, optimizer: sgd, momentum: 0.9, schedule: cosine}
retrain: {epochs: 2, lr: 0.01}
quant: {rule: l2}
`,
	// paper-cnn: feature-map multipliers over a base CNN (the paper's
	// CIFAR-10 network has two conv-pool stages and a dense layer).
	"paper-cnn": `
name: paper-cnn
dataset: fashion-mnist   # cifar10 when it is in the dataset cache
family: cnn
cnn: {base: "cnn:32c5-p2-64c5-p2-fc512-10", scales: [0.25, 0.5, 1, 2]}
bits: [2, 3]
modes: [float, direct, retrain]
seeds: [1]
float: {epochs: 5, batch: 100, lr: 0.05, optimizer: sgd, momentum: 0.9, schedule: cosine}
retrain: {epochs: 2, lr: 0.005}
quant: {rule: l2}
`,
}

// cifarMarker marks the dataset line of a preset that prefers CIFAR-10.
const cifarMarker = "dataset: fashion-mnist   # cifar10 when it is in the dataset cache"

// PresetNames lists the presets.
func PresetNames() []string {
	var n []string
	for k := range presets {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Preset returns a named, resolved spec: quick, paper-ffdnn or paper-cnn.
// paper-cnn runs on CIFAR-10 when it is in the default dataset cache and on
// Fashion-MNIST otherwise (see PresetFor).
func Preset(name string) (*Spec, error) {
	return PresetFor(name, datasetCached)
}

// PresetFor is Preset with the test for "dataset present" supplied by the
// caller (nil means only datasets installed with the system count: paper-cnn
// then uses Fashion-MNIST).
func PresetFor(name string, have func(dataset string) bool) (*Spec, error) {
	src, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("sweep: unknown preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	if strings.Contains(src, cifarMarker) && have != nil && have("cifar10") {
		src = strings.Replace(src, cifarMarker, "dataset: cifar10", 1)
	}
	return ParseSpec("preset "+name, []byte(src))
}

// PresetSource returns the YAML text of a preset. For paper-cnn it names
// fashion-mnist, with a comment: Preset switches to cifar10 when cached.
func PresetSource(name string) (string, bool) {
	s, ok := presets[name]
	return strings.TrimPrefix(s, "\n"), ok
}

// MaxPresetSeeds bounds PresetWithSeeds.
const MaxPresetSeeds = 100

// PresetWithSeeds is Preset with the seeds 1..seeds instead of the preset's
// own; seeds 0 keeps them. Only the paper presets take other seeds: quick
// stays at one (it is the first look, sized to minutes). Seed 1's cells are
// the same as those of the preset's default run, so a run with more seeds
// in the same folder reuses them.
func PresetWithSeeds(name string, seeds int) (*Spec, error) {
	s, err := Preset(name)
	if err != nil || seeds == 0 {
		return s, err
	}
	if seeds < 1 || seeds > MaxPresetSeeds {
		return nil, fmt.Errorf("sweep: preset %s: %d seeds, want 1..%d", name, seeds, MaxPresetSeeds)
	}
	if name == "quick" && seeds != 1 {
		return nil, fmt.Errorf("sweep: preset quick runs one seed (asked for %d); the paper presets take more, or write a sweep spec", seeds)
	}
	s.Seeds = make([]uint64, seeds)
	for i := range s.Seeds {
		s.Seeds[i] = uint64(i + 1)
	}
	return s, nil
}
