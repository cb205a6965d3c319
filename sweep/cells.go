package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// IDFormat is the version of the content-address scheme. It is hashed into
// every cell ID; it changes only when what a cell computes changes for the
// same config, so that old results are not reused by mistake. Format 2:
// models start from the uniform initialisation (nn.DefaultInit, hashed as
// the init of mlp cells) and retraining draws its own batch order and
// dropout masks (pipeline.RetrainSeed); format 1 cells were He normal.
const IDFormat = 2

// Cell is one unit of work of a sweep: one model size, seed, mode and bit
// width. Float cells train a model; direct and retrain cells start from
// the float cell of their group (Parent).
type Cell struct {
	ID     string     // content address: hex of the first 16 bytes of sha256(canonical JSON of Config)
	Parent string     // ID of the float cell this cell starts from; "" for float cells
	Group  int        // index of the (size, seed) group in spec order; shards split by group
	Config CellConfig // the resolved cell config (what is hashed)
}

// CellConfig is the resolved config of one cell: everything that
// determines its result. Its canonical JSON (encoding/json of this struct:
// fields in declared order, no spaces, empty optional fields left out) is
// what the cell ID hashes. It holds no dataset checksum (unknown before the
// data is loaded; records carry it) and no resq version (records carry it;
// IDFormat changes when results would).
type CellConfig struct {
	IDFormat int     `json:"id_format"`
	Dataset  string  `json:"dataset"`
	Limit    int     `json:"limit,omitempty"`
	ValSize  int     `json:"val_size,omitempty"`
	DataSeed uint64  `json:"data_seed"`
	Family   string  `json:"family"`
	Width    int     `json:"width,omitempty"`
	Depth    int     `json:"depth,omitempty"`
	Act      string  `json:"act,omitempty"`
	Dropout  float64 `json:"dropout,omitempty"`
	DropIn   float64 `json:"dropin,omitempty"`
	Init     string  `json:"init,omitempty"`
	Base     string  `json:"base,omitempty"`
	Scale    float64 `json:"scale,omitempty"`
	Opts     string  `json:"opts,omitempty"` // lstm, gru: the model spec's options
	Seed     uint64  `json:"seed"`
	Float    Budget  `json:"float"`
	Mode     string  `json:"mode"`
	Bits     int     `json:"bits"` // 32 for float cells

	Quant   *QuantOptions `json:"quant,omitempty"`   // direct and retrain cells
	Retrain *Budget       `json:"retrain,omitempty"` // retrain cells
	Faults  *FaultSpec    `json:"faults,omitempty"`  // bit-error experiments (specs with a faults key)
	// Sparsity is the fraction of weights pruned (one shot before direct
	// quantization, gradually during retraining) and Prune its schedule;
	// BitsPerLayer a per-layer allocation (Bits is then its widest layer).
	// All are left out of the hash when unused, so cells of specs without
	// them keep their IDs.
	Sparsity     float64       `json:"sparsity,omitempty"`
	Prune        *PruneOptions `json:"prune,omitempty"`
	BitsPerLayer []int         `json:"bits_per_layer,omitempty"`
	EvalBatch    int           `json:"-"` // how, not what: not hashed
}

// canonical returns the canonical JSON of c.
func (c CellConfig) canonical() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("sweep: cell config does not encode: %v", err))
	}
	return b
}

// ID returns the content address of c.
func (c CellConfig) ID() string {
	sum := sha256.Sum256(c.canonical())
	return hex.EncodeToString(sum[:16])
}

// Map returns c as a generic JSON object (for results.Record.Config).
func (c CellConfig) Map() map[string]any {
	var m map[string]any
	if err := json.Unmarshal(c.canonical(), &m); err != nil {
		panic(fmt.Sprintf("sweep: cell config does not decode: %v", err))
	}
	return m
}

// Label is a short human description of the cell, e.g.
// "mlp w=64 d=3 seed=1 retrain 2b".
func (c Cell) Label() string {
	k := c.Config
	var s string
	if k.Family == "mlp" {
		s = fmt.Sprintf("mlp w=%d d=%d", k.Width, k.Depth)
	} else if isRecurrent(k.Family) {
		s = fmt.Sprintf("%s h=%d l=%d", k.Family, k.Width, k.Depth)
	} else {
		s = "cnn x" + strconv.FormatFloat(k.Scale, 'g', -1, 64)
	}
	s += fmt.Sprintf(" seed=%d %s", k.Seed, k.Mode)
	if k.Mode != ModeFloat {
		s += " " + precision{bits: k.Bits, perLayer: k.BitsPerLayer}.label()
	}
	if k.Sparsity > 0 {
		s += " sparsity=" + strconv.FormatFloat(k.Sparsity, 'g', -1, 64)
	}
	return s
}

// Cells expands the spec into its cells, in a deterministic order: groups
// (depth, then width, or scale; then seed), and in each group the float
// cell first, then per bit width the direct and the retrain cell. The
// float cell of a group exists even when modes omits "float": the other
// cells need its model.
func (s *Spec) Cells() ([]Cell, error) {
	if err := s.resolve(); err != nil {
		return nil, err
	}
	type size struct {
		width, depth int
		scale        float64
	}
	var sizes []size
	if s.Family == "mlp" {
		for _, d := range s.MLP.Depths {
			for _, w := range s.MLP.Widths {
				sizes = append(sizes, size{width: w, depth: d})
			}
		}
	} else if isRecurrent(s.Family) {
		for _, d := range s.RNN.Layers {
			for _, w := range s.RNN.Hidden {
				sizes = append(sizes, size{width: w, depth: d})
			}
		}
	} else {
		for _, m := range s.CNN.Scales {
			sizes = append(sizes, size{scale: m})
		}
	}
	var cells []Cell
	group := 0
	for _, sz := range sizes {
		for _, seed := range s.Seeds {
			base := CellConfig{
				IDFormat: IDFormat, Dataset: s.Dataset, Limit: s.Limit, ValSize: s.ValSize, DataSeed: s.DataSeed,
				Family: s.Family, Seed: seed, Float: s.Float, Mode: ModeFloat, Bits: 32, EvalBatch: s.EvalBatch,
				Faults: s.cellFaults(),
			}
			if s.Family == "mlp" {
				base.Width, base.Depth, base.Act, base.Dropout, base.DropIn, base.Init = sz.width, sz.depth, s.MLP.Act, s.MLP.Dropout, s.MLP.DropIn, s.MLP.Init
			} else if isRecurrent(s.Family) {
				base.Width, base.Depth, base.Opts = sz.width, sz.depth, s.RNN.Opts
				base.Float.Epochs = s.RNN.epochs(s.RNN.FloatEpochs, sz.width, base.Float.Epochs)
			} else {
				base.Base, base.Scale = s.CNN.Base, sz.scale
			}
			fl := Cell{ID: base.ID(), Group: group, Config: base}
			cells = append(cells, fl)
			for _, pr := range s.cellPrecisions(sz.depth) {
				for _, mode := range []string{ModeDirect, ModeRetrain} {
					if !slices.Contains(s.Modes, mode) {
						continue
					}
					c := base
					q := s.Quant
					c.Mode, c.Bits, c.Quant = mode, pr.bits, &q
					c.BitsPerLayer, c.Sparsity = pr.perLayer, pr.sparsity
					if pr.sparsity > 0 {
						po := s.Prune
						c.Prune = &po
					}
					if mode == ModeRetrain {
						r := s.Retrain
						if isRecurrent(s.Family) {
							r.Epochs = s.RNN.epochs(s.RNN.RetrainEpochs, sz.width, r.Epochs)
						}
						c.Retrain = &r
					}
					cells = append(cells, Cell{ID: c.ID(), Parent: fl.ID, Group: group, Config: c})
				}
			}
			group++
		}
	}
	return cells, nil
}
