package sweep

import (
	"fmt"
	"sort"
	"strconv"
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
dataset: fashion-mnist
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

// preferred names the presets that run on another dataset than their
// text's when that one is in the dataset cache: paper-cnn is the paper's
// CIFAR-10 network and takes Fashion-MNIST only when CIFAR-10 (which must
// be downloaded) is missing.
var preferred = map[string]struct{ dataset, instead string }{
	"paper-cnn": {dataset: "cifar10", instead: "fashion-mnist"},
}

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
	src, err := presetText(name, 0, have)
	if err != nil {
		return nil, err
	}
	return ParseSpec("preset "+name, []byte(src))
}

// PresetSource returns the YAML text that Preset parses, so that the text
// shown (resq reproduce --print-spec) is the spec that runs: for paper-cnn
// it names the dataset chosen by what is in the dataset cache now.
func PresetSource(name string) (string, bool) {
	src, err := presetText(name, 0, datasetCached)
	return src, err == nil
}

// PresetSourceWithSeeds is PresetSource for PresetWithSeeds: the text with
// the seeds 1..seeds (seeds 0 keeps the preset's).
func PresetSourceWithSeeds(name string, seeds int) (string, error) {
	if err := checkPresetSeeds(name, seeds); err != nil {
		return "", err
	}
	return presetText(name, seeds, datasetCached)
}

// presetText is the YAML of a preset with its dataset resolved by have and,
// when seeds > 0, the seeds 1..seeds.
func presetText(name string, seeds int, have func(dataset string) bool) (string, error) {
	src, ok := presets[name]
	if !ok {
		return "", fmt.Errorf("sweep: unknown preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	src = strings.TrimPrefix(src, "\n")
	if p, ok := preferred[name]; ok && have != nil && have(p.dataset) {
		src = replaceLine(src, "dataset: "+p.instead, "dataset: "+p.dataset)
	}
	if seeds > 0 {
		list := make([]string, seeds)
		for i := range list {
			list[i] = strconv.Itoa(i + 1)
		}
		src = replaceLine(src, "seeds: [1]", "seeds: ["+strings.Join(list, ", ")+"]")
	}
	return src, nil
}

// replaceLine replaces the line old of a preset's text by new; every preset
// has the lines it is called with (TestPresetSource).
func replaceLine(src, old, new string) string {
	return strings.Replace(src, "\n"+old+"\n", "\n"+new+"\n", 1)
}

// MaxPresetSeeds bounds PresetWithSeeds.
const MaxPresetSeeds = 100

// PresetWithSeeds is Preset with the seeds 1..seeds instead of the preset's
// own; seeds 0 keeps them. Only the paper presets take other seeds: quick
// stays at one (it is the first look, sized to minutes). Seed 1's cells are
// the same as those of the preset's default run, so a run with more seeds
// in the same folder reuses them.
func PresetWithSeeds(name string, seeds int) (*Spec, error) {
	if err := checkPresetSeeds(name, seeds); err != nil {
		return nil, err
	}
	src, err := presetText(name, seeds, datasetCached)
	if err != nil {
		return nil, err
	}
	return ParseSpec("preset "+name, []byte(src))
}

func checkPresetSeeds(name string, seeds int) error {
	if _, ok := presets[name]; !ok {
		return fmt.Errorf("sweep: unknown preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	if seeds == 0 {
		return nil
	}
	if seeds < 1 || seeds > MaxPresetSeeds {
		return fmt.Errorf("sweep: preset %s: %d seeds, want 1..%d", name, seeds, MaxPresetSeeds)
	}
	if name == "quick" && seeds != 1 {
		return fmt.Errorf("sweep: preset quick runs one seed (asked for %d); the paper presets take more, or write a sweep spec", seeds)
	}
	return nil
}
