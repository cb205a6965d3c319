package cost

import (
	"fmt"
	"math"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
)

// Version is the version of the cost model; records carry it, so figures
// computed by an older model can be told apart and recomputed.
const Version = 1

// DefaultBatch is the batch size B of the per-sample batch figures.
const DefaultBatch = 100

// Figures is the cost of one inference of a model, computed exactly from
// its architecture and weight codes (see the package documentation for
// what each figure counts). Operation counts are per sample: they do not
// depend on the batch.
type Figures struct {
	Version int `json:"version"`

	// Weight storage.
	Weights        int64   `json:"weights"`                           // quantizable weights
	NonzeroWeights int64   `json:"nonzero_weights"`                   // weights whose code is not 0 (all of them for float layers)
	WeightBytes    int64   `json:"weight_bytes"`                      // exact packed bytes: codes, steps, biases (4 per parameter for float)
	EntropyBits    float64 `json:"entropy_bits_per_weight,omitempty"` // Shannon entropy of the codes, bits per quantized weight (0: float)
	EntropyBytes   int64   `json:"entropy_bytes,omitempty"`           // codes at their entropy + steps + biases: what entropy coding could reach

	// Activation memory.
	ActBits          int   `json:"act_bits"`            // 8 for the packed engine's codes, 32 for float
	ActRAMBytes      int64 `json:"act_ram_bytes"`       // peak live activations, batch 1
	Batch            int   `json:"batch"`               // B of the batch figures
	ActRAMBytesBatch int64 `json:"act_ram_bytes_batch"` // peak live activations of a whole batch of B

	// Operations per sample.
	FP32MACs    int64 `json:"fp32_macs"`    // float32 multiply-adds (float layers)
	FP32Adds    int64 `json:"fp32_adds"`    // float32 bias additions (float layers)
	Int8MACs    int64 `json:"int8_macs"`    // 8-bit weight x int8 activation multiply-adds
	LowBitMACs  int64 `json:"lowbit_macs"`  // 3..7-bit weight x int8 activation multiply-adds
	TernaryAdds int64 `json:"ternary_adds"` // additions/subtractions of ternary layers, over nonzero codes only
	Rescales    int64 `json:"rescales"`     // outputs of quantized layers: one int32 multiply and one int32 add (bias) each

	// Weight traffic and energy.
	WeightTrafficBytes     int64   `json:"weight_traffic_bytes"`      // weight bytes read per inference at batch 1
	WeightTrafficPerSample float64 `json:"weight_traffic_per_sample"` // at batch B: weights are read once per batch
	OnChip                 bool    `json:"onchip"`                    // the weights fit the table's on-chip memory (SRAM reads)
	EnergyPJ               float64 `json:"energy_pj"`                 // one inference at batch 1
	EnergyPJPerSample      float64 `json:"energy_pj_per_sample"`      // per sample at batch B
	Table                  string  `json:"table"`                     // name of the energy table used

	Latency *Latency `json:"latency,omitempty"` // measured, when asked for
}

// Mults returns the multiplications per sample: every multiply-add of
// float, 8-bit and low-bit layers and one per rescaled output. Ternary
// layers add none for their weights.
func (f *Figures) Mults() int64 { return f.FP32MACs + f.Int8MACs + f.LowBitMACs + f.Rescales }

// MultFreeOps returns the operations per sample that need no multiplier:
// the additions of ternary layers.
func (f *Figures) MultFreeOps() int64 { return f.TernaryAdds }

// EnergyNJ returns the energy of one inference at batch 1 in nanojoules.
func (f *Figures) EnergyNJ() float64 { return f.EnergyPJ / 1000 }

// Of computes the figures of m: quantized as s (the codes s gives the
// weights, exactly as packed.Export stores them), or float when s is nil.
// opt selects the packed storage (base-3 ternary), batch is B (0 means
// DefaultBatch) and t the energy table (nil means DefaultTable).
func Of(m *nn.Model, s *quant.State, opt packed.Options, batch int, t *Table) (*Figures, error) {
	d, err := packed.Describe(m, s, opt)
	if err != nil {
		return nil, fmt.Errorf("cost: %v", err)
	}
	return Compute(d, batch, t)
}

// Compute returns the figures of a described model (see Of).
func Compute(d *packed.Description, batch int, t *Table) (*Figures, error) {
	if batch == 0 {
		batch = DefaultBatch
	}
	if batch < 1 {
		return nil, fmt.Errorf("cost: batch %d, need at least 1", batch)
	}
	if t == nil {
		t = DefaultTable()
	}
	f := &Figures{Version: Version, WeightBytes: d.StoredBytes, Batch: batch, ActBits: 8}
	var entropyBits float64
	var meta int64 // bytes of steps and biases of quantized layers
	for i := range d.Stages {
		st := &d.Stages[i]
		if !st.Weighted() {
			continue
		}
		n := int64(st.Rows) * int64(st.Cols)
		outs := int64(st.Rows) * int64(st.Positions)
		f.Weights += n
		if st.Bits == 32 {
			f.ActBits = 32
			f.NonzeroWeights += n
			f.FP32MACs += n * int64(st.Positions)
			f.FP32Adds += outs
			continue
		}
		if int64(len(st.Codes)) != n {
			return nil, fmt.Errorf("cost: %s stage %d: %d codes for %dx%d weights", st.Kind, i, len(st.Codes), st.Rows, st.Cols)
		}
		h, nz := histogram(st.Codes)
		f.NonzeroWeights += nz
		entropyBits += float64(n) * entropy(h, n)
		meta += 4 * (int64(st.Steps) + int64(st.Rows))
		switch {
		case st.Bits == 2:
			f.TernaryAdds += nz * int64(st.Positions)
		case st.Bits == 8:
			f.Int8MACs += n * int64(st.Positions)
		default:
			f.LowBitMACs += n * int64(st.Positions)
		}
		f.Rescales += outs
	}
	if f.ActBits == 32 {
		// A float layer makes the model a float model: activations stay
		// float32 throughout.
		f.EntropyBits, f.EntropyBytes = 0, 0
	} else if f.Weights > 0 {
		f.EntropyBits = entropyBits / float64(f.Weights)
		f.EntropyBytes = int64(math.Ceil(entropyBits/8)) + meta
	}
	peak := peakLive(d)
	f.ActRAMBytes = peak * int64(f.ActBits/8)
	f.ActRAMBytesBatch = f.ActRAMBytes * int64(batch)
	f.WeightTrafficBytes = f.WeightBytes
	f.WeightTrafficPerSample = float64(f.WeightBytes) / float64(batch)
	f.Reprice(t)
	return f, nil
}

// Reprice recomputes the energy figures (and OnChip) from the operation
// counts and weight bytes with table t, so that figures recorded with one
// table can be read with another.
func (f *Figures) Reprice(t *Table) {
	ops := float64(f.FP32MACs)*(t.FP32Mult+t.FP32Add) + float64(f.FP32Adds)*t.FP32Add +
		float64(f.Int8MACs+f.LowBitMACs)*(t.Int8Mult+t.Int32Add) +
		float64(f.TernaryAdds)*t.Int32Add +
		float64(f.Rescales)*(t.Int32Mult+t.Int32Add)
	words := float64((f.WeightBytes + 3) / 4)
	f.OnChip = f.WeightBytes <= t.OnChipBytes
	read := t.DRAMRead32
	if f.OnChip {
		read = t.SRAMRead32
	}
	batch := max(f.Batch, 1)
	f.EnergyPJ = ops + words*read
	f.EnergyPJPerSample = ops + words*read/float64(batch)
	f.Table = t.Name
}

// peakLive returns the largest number of activation values live at once
// for one sample: a stage that makes a new buffer (dense, conv, max pool)
// holds its input and its output; a standalone activation or signal
// quantizer works in place; flatten is free. The network's input counts
// as an activation buffer.
func peakLive(d *packed.Description) int64 {
	peak := int64(1)
	for _, d := range d.In {
		peak *= int64(d)
	}
	for i := range d.Stages {
		st := &d.Stages[i]
		switch st.Kind {
		case "dense", "conv", "maxpool":
			peak = max(peak, int64(st.InSize)+int64(st.OutSize))
		case "flatten":
		default:
			peak = max(peak, int64(st.InSize))
		}
	}
	return peak
}

// histogram counts the codes by value (index code+128) and the nonzero ones.
func histogram(codes []int8) (h [256]int64, nonzero int64) {
	for _, c := range codes {
		h[int(c)+128]++
	}
	return h, int64(len(codes)) - h[128]
}

// entropy returns the Shannon entropy in bits of the code distribution h
// over n codes.
func entropy(h [256]int64, n int64) float64 {
	var e float64
	for _, k := range h {
		if k == 0 {
			continue
		}
		p := float64(k) / float64(n)
		e -= p * math.Log2(p)
	}
	return e
}
