package sweep

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/units"
)

// Spec is a sweep: a dataset, a model family with the axes varied, bit
// widths, modes, seeds and training budgets. Build one with LoadSpec,
// ParseSpec or Preset; they return it resolved (defaults filled in, see
// doc.go) and validated. Cells expands it.
type Spec struct {
	Name     string  `yaml:"name" json:"name"`
	Dataset  string  `yaml:"dataset" json:"dataset"`     // mnist, fashion-mnist, cifar10, npy:...
	Limit    int     `yaml:"limit" json:"limit"`         // use only the first N training and test samples (0 = all)
	ValSize  int     `yaml:"val_size" json:"val_size"`   // validation rows carved from the training set (0 = none)
	DataSeed uint64  `yaml:"data_seed" json:"data_seed"` // seed of the validation split (same for every cell)
	Family   string  `yaml:"family" json:"family"`       // mlp, cnn, lstm or gru
	MLP      MLPAxes `yaml:"mlp" json:"mlp"`
	CNN      CNNAxes `yaml:"cnn" json:"cnn"`
	RNN      RNNAxes `yaml:"rnn" json:"rnn,omitzero"` // lstm, gru
	Bits     []int   `yaml:"bits" json:"bits"`
	// Sparsity is the pruning axis (fractions of pruned weights, each in
	// [0, 1)); Prune its schedule; BitsPerLayer per-layer allocations such
	// as "8,2,2,8", each quantized beside the uniform bit widths.
	Sparsity     []float64    `yaml:"sparsity" json:"sparsity,omitempty"`
	Prune        PruneOptions `yaml:"prune" json:"prune,omitzero"`
	BitsPerLayer []string     `yaml:"bits_per_layer" json:"bits_per_layer,omitempty"`
	Modes        []string     `yaml:"modes" json:"modes"`
	Seeds        []uint64     `yaml:"seeds" json:"seeds"`
	Float        Budget       `yaml:"float" json:"float"`
	Retrain      Budget       `yaml:"retrain" json:"retrain"`
	Quant        QuantOptions `yaml:"quant" json:"quant"`
	Workers      int          `yaml:"workers" json:"workers"`                  // 0 = auto (see Run)
	EvalBatch    int          `yaml:"eval_batch" json:"eval_batch"`            // batch size of evaluation
	Budgets      Budgets      `yaml:"budgets" json:"budgets"`                  // the report's designer's view (not hashed)
	Faults       FaultSpec    `yaml:"faults,omitempty" json:"faults,omitzero"` // bit-error experiments per cell (hashed only when given)

	file  string         // file name for error messages
	lines map[string]int // key path -> line, for validation errors
}

// MLPAxes are the axes of the fully connected family.
type MLPAxes struct {
	Widths  []int   `yaml:"widths" json:"widths"` // hidden units per layer
	Depths  []int   `yaml:"depths" json:"depths"` // hidden layers
	Act     string  `yaml:"act" json:"act"`       // relu, sigmoid, tanh
	Dropout float64 `yaml:"dropout" json:"dropout"`
	DropIn  float64 `yaml:"dropin" json:"dropin"` // dropout on the input
	Init    string  `yaml:"init" json:"init"`     // weight initialisation: uniform or he (nn.InitUniform, nn.InitHe)
}

// Budgets are the budgets of the report's designer's view: weight memory
// ("64KiB", "1.5MB", "200000") and energy per inference ("200nJ", "1uJ"),
// as package units parses them. resq report's --weight-budgets and
// --energy-budgets override them. They change no cell and are not hashed
// into cell IDs.
type Budgets struct {
	WeightBytes []string `yaml:"weight_bytes" json:"weight_bytes,omitempty"`
	Energy      []string `yaml:"energy" json:"energy,omitempty"`
}

// Values returns the budgets in bytes and nanojoules (nil where none are
// given).
func (b Budgets) Values() (weightBytes, energyNJ []float64, err error) {
	if weightBytes, err = parseAll(b.WeightBytes, units.ParseSize); err != nil {
		return nil, nil, fmt.Errorf("weight_bytes: %v", err)
	}
	if energyNJ, err = parseAll(b.Energy, units.ParseEnergy); err != nil {
		return nil, nil, fmt.Errorf("energy: %v", err)
	}
	return weightBytes, energyNJ, nil
}

func parseAll(ss []string, parse func(string) (float64, error)) ([]float64, error) {
	var v []float64
	for _, s := range ss {
		x, err := parse(s)
		if err != nil {
			return nil, err
		}
		v = append(v, x)
	}
	return v, nil
}

// CNNAxes are the axes of the convolutional family.
type CNNAxes struct {
	Base   string    `yaml:"base" json:"base"`     // base network, e.g. "cnn:32c5-p2-64c5-p2-fc512-10"
	Scales []float64 `yaml:"scales" json:"scales"` // feature-map multipliers
}

// Budget is a training budget: the fields of train.Config that a sweep
// sets (the seed comes from the cell). JSON names match train.Config.
type Budget struct {
	Epochs      int     `yaml:"epochs" json:"epochs"`
	Batch       int     `yaml:"batch" json:"batch"`
	LR          float64 `yaml:"lr" json:"lr"`
	Optimizer   string  `yaml:"optimizer" json:"optimizer"`
	Momentum    float64 `yaml:"momentum" json:"momentum"`
	Nesterov    bool    `yaml:"nesterov" json:"nesterov"`
	WeightDecay float64 `yaml:"weight_decay" json:"weight_decay"`
	Schedule    string  `yaml:"schedule" json:"schedule"`
	StepEvery   int     `yaml:"step_every" json:"step_every"`
	Gamma       float64 `yaml:"gamma" json:"gamma"`
	Patience    int     `yaml:"patience" json:"patience"`
	ClipNorm    float64 `yaml:"clip_norm" json:"clip_norm,omitempty"`
}

// QuantOptions are the fields of quant.Config that a sweep sets (the bit
// width comes from the cell). JSON names match quant.Config.
type QuantOptions struct {
	Rule          string `yaml:"rule" json:"rule"`
	PerChannel    bool   `yaml:"per_channel" json:"per_channel"`
	FirstLastBits int    `yaml:"first_last_bits" json:"first_last_bits"`
	Reestimate    int    `yaml:"reestimate" json:"reestimate"`
	PerGate       bool   `yaml:"per_gate" json:"per_gate,omitempty"`     // recurrent layers: a step per gate
	StateBits     int    `yaml:"state_bits" json:"state_bits,omitempty"` // recurrent layers: hidden-state bits (0: float)
}

// Modes of a cell.
const (
	ModeFloat   = results.ModeFloat
	ModeDirect  = results.ModeDirect
	ModeRetrain = results.ModeRetrain
)

// Default values (see doc.go for the full list).
const (
	DefaultCNNBase = "cnn:32c5-p2-64c5-p2-fc512-10"
)

// LoadSpec reads and resolves the YAML sweep spec in the file path.
// A spec's retrain budget, where not given, is its float budget with
// DefaultRetrainEpochs epochs at the float learning rate divided by
// RetrainLRDivisor. resq retrain's defaults are the same (for the float
// defaults: 3 epochs at lr 0.01).
const (
	DefaultRetrainEpochs = 3
	RetrainLRDivisor     = 10
)

func LoadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep: %v", err)
	}
	return ParseSpec(filepath.Base(path), b)
}

// ParseSpec parses and resolves a YAML sweep spec; name is the file name
// used in error messages (and the sweep's name when the spec has none).
func ParseSpec(name string, src []byte) (*Spec, error) {
	if len(src) > MaxSpecBytes {
		return nil, fmt.Errorf("sweep: %s: %d bytes: a spec is at most %d bytes (its grid at most %d cells)", name, len(src), MaxSpecBytes, MaxCells)
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if strings.HasPrefix(msg, "line ") { // "line 7: ..." -> "spec.yaml:7: ..."
			msg = strings.Replace(strings.TrimPrefix(msg, "line "), ": ", "\x00", 1)
			lineNo, rest, _ := strings.Cut(msg, "\x00")
			return nil, fmt.Errorf("sweep: %s:%s: %s", name, lineNo, rest)
		}
		if msg == "EOF" {
			return nil, fmt.Errorf("sweep: %s: empty spec", name)
		}
		return nil, fmt.Errorf("sweep: %s: %s", name, msg)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("sweep: %s:%d: more than one YAML document", name, extra.Line)
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, fmt.Errorf("sweep: %s: empty spec", name)
		}
		doc = doc.Content[0]
	}
	s := &Spec{file: name, lines: map[string]int{}}
	d := &decoder{file: name, lines: s.lines}
	if err := d.decodeStruct(doc, reflect.ValueOf(s).Elem(), ""); err != nil {
		return nil, err
	}
	if err := s.resolve(); err != nil {
		return nil, err
	}
	return s, nil
}

// has reports whether the spec file set the key path.
func (s *Spec) has(path string) bool { _, ok := s.lines[path]; return ok }

// errAt returns a validation error at the line of key path (or of the
// closest parent key the file set).
func (s *Spec) errAt(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	for p := path; p != ""; {
		if line, ok := s.lines[p]; ok {
			return fmt.Errorf("sweep: %s:%d: %s", s.file, line, msg)
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return fmt.Errorf("sweep: %s: %s", s.file, msg)
}

// resolve fills defaults and validates. It is idempotent.
func (s *Spec) resolve() error {
	if s.lines == nil {
		s.lines = map[string]int{}
	}
	if s.file == "" {
		s.file = "spec"
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(strings.TrimSuffix(s.file, ".yaml"), ".yml")
	}
	if s.Dataset == "" {
		return s.errAt("dataset", "dataset is required (mnist, fashion-mnist, cifar10 or npy:TRAIN_X.npy,TRAIN_Y.npy,TEST_X.npy,TEST_Y.npy)")
	}
	if s.Family == "" {
		s.Family = "mlp"
		if s.has("cnn") && !s.has("mlp") {
			s.Family = "cnn"
		}
	}
	if s.DataSeed == 0 {
		s.DataSeed = 1
	}
	if s.EvalBatch == 0 {
		s.EvalBatch = 500
	}
	if err := s.checkEmptyLists(); err != nil {
		return err
	}
	switch s.Family {
	case "mlp":
		if len(s.MLP.Widths) == 0 {
			return s.errAt("mlp.widths", "family mlp needs mlp.widths (hidden units per layer, e.g. [32, 64, 128])")
		}
		if len(s.MLP.Depths) == 0 {
			s.MLP.Depths = []int{3}
		}
		if s.MLP.Init == "" {
			s.MLP.Init = nn.DefaultInit
		}
		if s.MLP.Act == "" {
			s.MLP.Act = "relu"
		}
		s.CNN = CNNAxes{}
	case "cnn":
		if s.CNN.Base == "" {
			s.CNN.Base = DefaultCNNBase
		}
		if len(s.CNN.Scales) == 0 {
			s.CNN.Scales = []float64{1}
		}
		s.MLP = MLPAxes{}
	case "lstm", "gru":
		if len(s.RNN.Hidden) == 0 {
			return s.errAt("rnn.hidden", "family %s needs rnn.hidden (hidden units per layer, e.g. [32, 64, 128])", s.Family)
		}
		if len(s.RNN.Layers) == 0 {
			s.RNN.Layers = []int{1}
		}
		s.MLP, s.CNN = MLPAxes{}, CNNAxes{}
	default:
		return s.errAt("family", "family %q: want mlp, cnn, lstm or gru", s.Family)
	}
	if len(s.Bits) == 0 {
		s.Bits = []int{2, 3}
	}
	if len(s.Modes) == 0 {
		s.Modes = []string{ModeFloat, ModeDirect, ModeRetrain}
	}
	if len(s.Seeds) == 0 {
		s.Seeds = []uint64{1}
	}
	s.Float = s.Float.withDefaults(s, "float", Budget{Epochs: 10, Batch: 100, LR: 0.1, Optimizer: "sgd", Momentum: 0.9, Schedule: "cosine", StepEvery: 10, Gamma: 0.1})
	rdef := s.Float
	rdef.Epochs, rdef.LR, rdef.Patience = DefaultRetrainEpochs, s.Float.LR/RetrainLRDivisor, 0
	s.Retrain = s.Retrain.withDefaults(s, "retrain", rdef)
	if s.Quant.Rule == "" {
		s.Quant.Rule = "l2"
	}
	if err := s.resolveFaults(); err != nil {
		return err
	}
	if err := s.validatePrune(); err != nil {
		return err
	}
	return s.validate()
}

// checkEmptyLists refuses a list of the spec's family, or of bits, modes
// or seeds, that the file gave as [] (an absent key, or one without a
// value, takes the default instead). The other family's axes are ignored:
// the resolved spec writes them as [].
func (s *Spec) checkEmptyLists() error {
	for _, l := range []struct {
		key   string
		empty bool
	}{
		{"mlp.widths", s.Family == "mlp" && s.MLP.Widths != nil && len(s.MLP.Widths) == 0},
		{"mlp.depths", s.Family == "mlp" && s.MLP.Depths != nil && len(s.MLP.Depths) == 0},
		{"cnn.scales", s.Family == "cnn" && s.CNN.Scales != nil && len(s.CNN.Scales) == 0},
		{"rnn.hidden", isRecurrent(s.Family) && s.RNN.Hidden != nil && len(s.RNN.Hidden) == 0},
		{"rnn.layers", isRecurrent(s.Family) && s.RNN.Layers != nil && len(s.RNN.Layers) == 0},
		{"bits", s.Bits != nil && len(s.Bits) == 0},
		{"modes", s.Modes != nil && len(s.Modes) == 0},
		{"seeds", s.Seeds != nil && len(s.Seeds) == 0},
	} {
		if l.empty {
			return s.errAt(l.key, "%s is an empty list: give at least one value, or leave the key out for the default", l.key)
		}
	}
	return nil
}

// MaxSpecBytes bounds the size of a spec file, and so the memory its
// parsing takes before the grid's size is known.
const MaxSpecBytes = 1 << 20

// MaxCells bounds the cells a spec may expand to: a larger grid is
// refused before anything is allocated for it (paper-ffdnn has 90 cells).
const MaxCells = 100000

// countCells returns the number of cells Cells will make, saturating at
// MaxCells+1.
func (s *Spec) countCells() int {
	sizes := len(s.CNN.Scales)
	if s.Family == "mlp" {
		sizes = len(s.MLP.Widths) * len(s.MLP.Depths)
	}
	if isRecurrent(s.Family) {
		sizes = len(s.RNN.Hidden) * len(s.RNN.Layers)
	}
	quantModes := 0
	for _, m := range s.Modes {
		if m != ModeFloat {
			quantModes++
		}
	}
	n := 1
	for _, f := range []int{sizes, len(s.Seeds), 1 + (len(s.Bits)+len(s.BitsPerLayer))*quantModes*len(s.sparsities())} {
		if f > 0 && n > (MaxCells+1)/f {
			return MaxCells + 1
		}
		n *= f
	}
	return min(n, MaxCells+1)
}

// withDefaults returns b with every field the spec did not set under key
// taken from def.
func (b Budget) withDefaults(s *Spec, key string, def Budget) Budget {
	bv, dv := reflect.ValueOf(&b).Elem(), reflect.ValueOf(def)
	t := bv.Type()
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		if !s.has(key+"."+tag) && bv.Field(i).IsZero() {
			bv.Field(i).Set(dv.Field(i))
		}
	}
	return b
}

func (s *Spec) validate() error {
	if s.Limit < 0 {
		return s.errAt("limit", "limit %d must be >= 0", s.Limit)
	}
	if s.ValSize < 0 {
		return s.errAt("val_size", "val_size %d must be >= 0", s.ValSize)
	}
	if s.Workers < 0 {
		return s.errAt("workers", "workers %d must be >= 0 (0 = auto)", s.Workers)
	}
	if s.EvalBatch < 1 {
		return s.errAt("eval_batch", "eval_batch %d must be >= 1", s.EvalBatch)
	}
	switch s.Family {
	case "mlp":
		for _, w := range s.MLP.Widths {
			if w < 1 || w > 1<<16 {
				return s.errAt("mlp.widths", "width %d out of range 1..65536", w)
			}
		}
		for _, d := range s.MLP.Depths {
			if d < 1 || d > 64 {
				return s.errAt("mlp.depths", "depth %d out of range 1..64", d)
			}
		}
		if !slices.Contains([]string{"relu", "sigmoid", "tanh"}, s.MLP.Act) {
			return s.errAt("mlp.act", "act %q: want relu, sigmoid or tanh", s.MLP.Act)
		}
		if s.MLP.Init != nn.InitUniform && s.MLP.Init != nn.InitHe {
			return s.errAt("mlp.init", "init %q: want %s or %s", s.MLP.Init, nn.InitUniform, nn.InitHe)
		}
		if s.MLP.Dropout < 0 || s.MLP.Dropout >= 1 {
			return s.errAt("mlp.dropout", "dropout %g out of range [0, 1)", s.MLP.Dropout)
		}
		if s.MLP.DropIn < 0 || s.MLP.DropIn >= 1 {
			return s.errAt("mlp.dropin", "dropin %g out of range [0, 1)", s.MLP.DropIn)
		}
		if err := uniq(s, "mlp.widths", s.MLP.Widths); err != nil {
			return err
		}
		if err := uniq(s, "mlp.depths", s.MLP.Depths); err != nil {
			return err
		}
	case "cnn":
		if !strings.HasPrefix(s.CNN.Base, "cnn:") {
			return s.errAt("cnn.base", "base %q: want a cnn model spec such as %q", s.CNN.Base, DefaultCNNBase)
		}
		for _, m := range s.CNN.Scales {
			if !(m > 0 && m <= 64) || math.IsInf(m, 0) {
				return s.errAt("cnn.scales", "scale %g out of range (0, 64]", m)
			}
		}
		if err := uniq(s, "cnn.scales", s.CNN.Scales); err != nil {
			return err
		}
	case "lstm", "gru":
		if err := s.validateRNN(); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		key   string
		v     []string
		parse func(string) (float64, error)
	}{{"budgets.weight_bytes", s.Budgets.WeightBytes, units.ParseSize}, {"budgets.energy", s.Budgets.Energy, units.ParseEnergy}} {
		if _, err := parseAll(l.v, l.parse); err != nil {
			return s.errAt(l.key, "%s: %v", l.key, err)
		}
	}
	for _, b := range s.Bits {
		if b < 2 || b > 8 {
			return s.errAt("bits", "bits %d out of range 2..8", b)
		}
	}
	if err := uniq(s, "bits", s.Bits); err != nil {
		return err
	}
	for _, m := range s.Modes {
		if m != ModeFloat && m != ModeDirect && m != ModeRetrain {
			return s.errAt("modes", "mode %q: want float, direct or retrain", m)
		}
	}
	if err := uniq(s, "modes", s.Modes); err != nil {
		return err
	}
	if err := uniq(s, "seeds", s.Seeds); err != nil {
		return err
	}
	for _, kb := range []struct {
		key string
		b   Budget
	}{{"float", s.Float}, {"retrain", s.Retrain}} {
		if err := kb.b.check(s, kb.key); err != nil {
			return err
		}
	}
	q := s.Quant
	if !slices.Contains([]string{"l2", "maxabs", "twn", "pow2"}, strings.ToLower(q.Rule)) {
		return s.errAt("quant.rule", "rule %q: want l2, maxabs, twn or pow2", q.Rule)
	}
	if q.FirstLastBits != 0 && (q.FirstLastBits < 2 || q.FirstLastBits > 8) {
		return s.errAt("quant.first_last_bits", "first_last_bits %d: want 0 (same as bits) or 2..8", q.FirstLastBits)
	}
	if q.Reestimate < 0 {
		return s.errAt("quant.reestimate", "reestimate %d must be >= 0 (0 = steps fixed from the float model)", q.Reestimate)
	}
	if slices.Contains(s.Modes, ModeDirect) || slices.Contains(s.Modes, ModeRetrain) {
		for _, b := range s.Bits {
			if err := q.QuantConfig(b).Validate(); err != nil {
				return s.errAt("quant", "quant with bits %d: %v", b, err)
			}
		}
	}
	if n := s.countCells(); n > MaxCells {
		return s.errAt("seeds", "the grid has more than %d cells (sizes x seeds x (1 + bits x quantized modes)); split it into several sweeps", MaxCells)
	}
	return nil
}

func (b Budget) check(s *Spec, key string) error {
	switch {
	case b.Epochs < 1:
		return s.errAt(key+".epochs", "%s.epochs %d must be >= 1", key, b.Epochs)
	case b.Batch < 1:
		return s.errAt(key+".batch", "%s.batch %d must be >= 1", key, b.Batch)
	case !(b.LR > 0) || math.IsInf(b.LR, 0):
		return s.errAt(key+".lr", "%s.lr %g must be > 0", key, b.LR)
	case b.Momentum < 0 || b.Momentum >= 1:
		return s.errAt(key+".momentum", "%s.momentum %g out of range [0, 1)", key, b.Momentum)
	case b.WeightDecay < 0:
		return s.errAt(key+".weight_decay", "%s.weight_decay %g must be >= 0", key, b.WeightDecay)
	case b.StepEvery < 0:
		return s.errAt(key+".step_every", "%s.step_every %d must be >= 0", key, b.StepEvery)
	case b.Gamma < 0:
		return s.errAt(key+".gamma", "%s.gamma %g must be >= 0", key, b.Gamma)
	case b.Patience < 0:
		return s.errAt(key+".patience", "%s.patience %d must be >= 0", key, b.Patience)
	}
	// The training package's own rules (optimizer and schedule names).
	if err := b.TrainConfig(1).Validate(); err != nil {
		return s.errAt(key, "%s: %v", key, err)
	}
	return nil
}

func uniq[T comparable](s *Spec, key string, v []T) error {
	seen := map[T]bool{}
	for _, x := range v {
		if seen[x] {
			return s.errAt(key, "%s lists %v twice", key, x)
		}
		seen[x] = true
	}
	return nil
}

// String returns the resolved spec as YAML.
func (s *Spec) String() string {
	b, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Sprintf("sweep: %v", err)
	}
	return string(b)
}
