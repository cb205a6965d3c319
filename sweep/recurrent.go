package sweep

import (
	"fmt"
	"slices"
	"strings"

	"github.com/resq-dev/resq/nn"
)

// RNNAxes are the axes of the recurrent families (lstm, gru): the hidden
// size and the number of stacked layers, the options every model spec
// gets, and per hidden size (in the order of Hidden) the epochs of float
// training and of retraining, where they differ from the float and
// retrain budgets: the large recurrent models are expensive, so a sweep
// can give them fewer epochs; each cell's config holds what it ran.
type RNNAxes struct {
	Hidden        []int  `yaml:"hidden" json:"hidden"`                           // hidden units per layer
	Layers        []int  `yaml:"layers" json:"layers"`                           // stacked layers
	Opts          string `yaml:"opts" json:"opts,omitempty"`                     // nn spec options, e.g. "head=seq,tokens"
	FloatEpochs   []int  `yaml:"float_epochs" json:"float_epochs,omitempty"`     // per hidden size: float epochs
	RetrainEpochs []int  `yaml:"retrain_epochs" json:"retrain_epochs,omitempty"` // per hidden size: retrain epochs
}

func isRecurrent(family string) bool { return family == "lstm" || family == "gru" }

// epochs returns the entry of per for hidden size h, else def.
func (a RNNAxes) epochs(per []int, h, def int) int {
	if i := slices.Index(a.Hidden, h); i >= 0 && i < len(per) {
		return per[i]
	}
	return def
}

func (s *Spec) validateRNN() error {
	for _, h := range s.RNN.Hidden {
		if h < 1 || h > 1<<14 {
			return s.errAt("rnn.hidden", "hidden size %d out of range 1..16384", h)
		}
	}
	for _, l := range s.RNN.Layers {
		if l < 1 || l > 16 {
			return s.errAt("rnn.layers", "layers %d out of range 1..16", l)
		}
	}
	if err := uniq(s, "rnn.hidden", s.RNN.Hidden); err != nil {
		return err
	}
	if err := uniq(s, "rnn.layers", s.RNN.Layers); err != nil {
		return err
	}
	probe := s.Family + ":2-2-2"
	if s.RNN.Opts != "" {
		probe += "," + s.RNN.Opts
	}
	if _, err := nn.ParseSpec(probe); err != nil {
		return s.errAt("rnn.opts", "opts %q: %v", s.RNN.Opts, err)
	}
	for _, kv := range []struct {
		key string
		per []int
	}{{"rnn.float_epochs", s.RNN.FloatEpochs}, {"rnn.retrain_epochs", s.RNN.RetrainEpochs}} {
		if len(kv.per) > 0 && len(kv.per) != len(s.RNN.Hidden) {
			return s.errAt(kv.key, "%s has %d entries, rnn.hidden %d: give one per hidden size", kv.key, len(kv.per), len(s.RNN.Hidden))
		}
		for i, e := range kv.per {
			if e < 1 {
				return s.errAt(kv.key, "epochs %d for hidden size %d: want >= 1", e, s.RNN.Hidden[i])
			}
		}
	}
	return nil
}

// recurrentSpec is the model spec of a recurrent cell: features per step
// from the last dimension of the per-sample shape (the vocabulary, the
// class count, with the option tokens), hidden size x layers, classes.
func recurrentSpec(k CellConfig, in []int, classes int) (string, error) {
	if len(in) == 0 {
		return "", fmt.Errorf("sweep: family %s needs a dataset with a per-sample shape", k.Family)
	}
	feat := in[len(in)-1]
	if slices.Contains(strings.Split(k.Opts, ","), "tokens") {
		feat = classes
	}
	spec := fmt.Sprintf("%s:%d-%dx%d-%d", k.Family, feat, k.Width, k.Depth, classes)
	if k.Opts != "" {
		spec += "," + k.Opts
	}
	return spec, nil
}
