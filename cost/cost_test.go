package cost

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
)

// handTable has round numbers so that every energy below can be checked
// by hand.
var handTable = &Table{Name: "hand", Int8Add: 0.01, Int32Add: 0.1, FP32Add: 1, Int8Mult: 0.2, Int32Mult: 3, FP32Mult: 4,
	SRAMRead32: 5, DRAMRead32: 600, OnChipBytes: 64}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestComputeByHand: a 4-3-2 MLP, ternary then 3-bit, with known codes.
func TestComputeByHand(t *testing.T) {
	d := &packed.Description{In: []int{4}, Classes: 2, StoredBytes: 30, Stages: []packed.Stage{
		{Kind: "dense", InSize: 4, OutSize: 3, Rows: 3, Cols: 4, Positions: 1, Bits: 2, Steps: 1,
			Codes: []int8{1, 0, -1, 0 /**/, 0, 0, 0, 0 /**/, 1, 1, 1, 1}},
		{Kind: "dense", InSize: 3, OutSize: 2, Rows: 2, Cols: 3, Positions: 1, Bits: 3, Steps: 2,
			Codes: []int8{3, -2, 0 /**/, 1, 0, -1}},
	}}
	f, err := Compute(d, 2, handTable)
	if err != nil {
		t.Fatal(err)
	}
	// Ternary layer: 6 nonzero codes -> 6 additions; 3-bit layer: 6 MACs.
	// Rescales: 3 + 2 outputs. Peak activations: dense 1 holds 4 + 3.
	want := Figures{Version: Version, Weights: 18, NonzeroWeights: 10, WeightBytes: 30, ActBits: 8, ActRAMBytes: 7, Batch: 2,
		ActRAMBytesBatch: 14, LowBitMACs: 6, TernaryAdds: 6, Rescales: 5, WeightTrafficBytes: 30, WeightTrafficPerSample: 15,
		OnChip: true, Table: "hand"}
	// ops: 6*(0.2+0.1) + 6*0.1 + 5*(3+0.1) = 1.8 + 0.6 + 15.5 = 17.9 pJ;
	// 30 bytes = 8 words of 32 bits from SRAM at 5 pJ = 40 pJ.
	want.EnergyPJ, want.EnergyPJPerSample = 17.9+40, 17.9+20
	// Entropies: layer 1 has codes {1: 5, -1: 1, 0: 6} of 12, layer 2
	// {0: 2, 3, -2, 1, -1: 1 each} of 6.
	h1 := -(5.0/12*math.Log2(5.0/12) + 1.0/12*math.Log2(1.0/12) + 0.5*math.Log2(0.5))
	h2 := -(1.0/3*math.Log2(1.0/3) + 4*(1.0/6*math.Log2(1.0/6)))
	want.EntropyBits = (12*h1 + 6*h2) / 18
	// steps and biases of the quantized layers: (1+3)*4 + (2+2)*4 = 32 bytes.
	want.EntropyBytes = int64(math.Ceil((12*h1+6*h2)/8)) + 32
	gotE, wantE := f.EntropyBits, want.EntropyBits
	f.EntropyBits, want.EntropyBits = 0, 0
	if !near(gotE, wantE) || !near(f.EnergyPJ, want.EnergyPJ) || !near(f.EnergyPJPerSample, want.EnergyPJPerSample) {
		t.Fatalf("entropy %v want %v; energy %v, %v want %v, %v", gotE, wantE, f.EnergyPJ, f.EnergyPJPerSample, want.EnergyPJ, want.EnergyPJPerSample)
	}
	f.EnergyPJ, f.EnergyPJPerSample, want.EnergyPJ, want.EnergyPJPerSample = 0, 0, 0, 0
	if *f != want {
		t.Fatalf("figures\n got %+v\nwant %+v", *f, want)
	}
	if f.Mults() != 6+5 || f.MultFreeOps() != 6 {
		t.Fatalf("mults %d, mult-free %d", f.Mults(), f.MultFreeOps())
	}

	// Above the on-chip size the same weights come from DRAM.
	big := *handTable
	big.OnChipBytes = 29
	f.Reprice(&big)
	if f.OnChip || !near(f.EnergyPJ, 17.9+8*600) || !near(f.EnergyPJPerSample, 17.9+4*600) {
		t.Fatalf("DRAM: onchip %v energy %v per sample %v", f.OnChip, f.EnergyPJ, f.EnergyPJPerSample)
	}
}

// TestComputeFloatAndInt8: float layers count float32 MACs and bias adds
// and 4-byte activations; 8-bit layers count int8 MACs.
func TestComputeFloatAndInt8(t *testing.T) {
	fl := &packed.Description{In: []int{5}, Classes: 2, StoredBytes: 4 * (5*4 + 4 + 4*2 + 2), Stages: []packed.Stage{
		{Kind: "dense", InSize: 5, OutSize: 4, Rows: 4, Cols: 5, Positions: 1, Bits: 32},
		{Kind: "dense", InSize: 4, OutSize: 2, Rows: 2, Cols: 4, Positions: 1, Bits: 32},
	}}
	f, err := Compute(fl, 1, handTable)
	if err != nil {
		t.Fatal(err)
	}
	// 28 MACs at 5 pJ, 6 bias adds at 1 pJ; 136 bytes = 34 words from DRAM.
	if f.FP32MACs != 28 || f.FP32Adds != 6 || f.ActBits != 32 || f.ActRAMBytes != 4*(5+4) || f.EntropyBits != 0 ||
		f.OnChip || !near(f.EnergyPJ, 28*5+6+34*600) || f.Rescales != 0 || f.Mults() != 28 {
		t.Fatalf("float figures %+v", *f)
	}
	q := &packed.Description{In: []int{3}, Classes: 2, StoredBytes: 6 + 8 + 8, Stages: []packed.Stage{
		{Kind: "dense", InSize: 3, OutSize: 2, Rows: 2, Cols: 3, Positions: 1, Bits: 8, Steps: 1, Codes: []int8{0, 0, 0, 127, -127, 5}},
	}}
	f, err = Compute(q, 1, handTable)
	if err != nil {
		t.Fatal(err)
	}
	// Zero 8-bit codes still cost a MAC on a dense multiplier array.
	if f.Int8MACs != 6 || f.TernaryAdds != 0 || f.NonzeroWeights != 3 || !near(f.EnergyPJ, 6*0.3+2*3.1+6*5) {
		t.Fatalf("int8 figures %+v", *f)
	}
}

// TestOfConv counts a conv network built by nn: cnn:2c3-p2-3 on [1, 4, 4]
// with ternary weights whose codes are set by hand.
func TestOfConv(t *testing.T) {
	m := handConv(t)
	s, err := quant.Direct(m, quant.Config{Bits: 2})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Of(m, s, packed.Options{}, 4, handTable)
	if err != nil {
		t.Fatal(err)
	}
	// conv: [1,4,4] -> [2,4,4] (same padding), 16 positions, 12 nonzero
	// weights -> 192 adds; pool -> [2,2,2]; dense 8 -> 3: 24 adds.
	// Rescales: 2*16 + 3. Peak: the conv's 16 inputs + 32 outputs.
	if f.TernaryAdds != 192+24 || f.Rescales != 35 || f.ActRAMBytes != 48 || f.ActRAMBytesBatch != 4*48 ||
		f.Weights != 42 || f.NonzeroWeights != 36 || f.WeightBytes != packed.StoredBytes(m, s, packed.Options{}) {
		t.Fatalf("conv figures %+v (stored %d)", *f, packed.StoredBytes(m, s, packed.Options{}))
	}
	// At 3 bits every weight costs a MAC at every position: 2*9*16 + 24.
	s3Model := handConv(t)
	s3, err := quant.Direct(s3Model, quant.Config{Bits: 3})
	if err != nil {
		t.Fatal(err)
	}
	f3, err := Of(s3Model, s3, packed.Options{}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f3.LowBitMACs != 288+24 || f3.TernaryAdds != 0 || f3.Batch != DefaultBatch || f3.Table != DefaultTable().Name {
		t.Fatalf("3-bit conv figures %+v", *f3)
	}
	ff, err := Of(handConv(t), nil, packed.Options{}, 1, handTable)
	if err != nil {
		t.Fatal(err)
	}
	if ff.FP32MACs != 288+24 || ff.ActRAMBytes != 4*48 || ff.WeightBytes != 4*(18+2+24+3) {
		t.Fatalf("float conv figures %+v", *ff)
	}
}

func TestComputeErrors(t *testing.T) {
	d := &packed.Description{In: []int{2}, Classes: 1, Stages: []packed.Stage{
		{Kind: "dense", InSize: 2, OutSize: 1, Rows: 1, Cols: 2, Positions: 1, Bits: 2, Steps: 1, Codes: []int8{1}},
	}}
	if _, err := Compute(d, 1, handTable); err == nil || !strings.HasPrefix(err.Error(), "cost: ") {
		t.Fatalf("short codes: %v", err)
	}
	d.Stages[0].Codes = []int8{1, 0}
	if _, err := Compute(d, -1, handTable); err == nil {
		t.Fatal("negative batch accepted")
	}
}

// handConv builds cnn:2c3-p2-3 on [1, 4, 4] with weights of magnitude 0.5
// and 0: the L2-optimal ternary step is 0.5 and the codes are the signs.
// The conv has 6 zero weights of 18, the dense layer none of 24.
func handConv(t *testing.T) *nn.Model {
	t.Helper()
	m, err := nn.Build("cnn:2c3-p2-3", []int{1, 4, 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	ps := m.Params()
	conv, dense := ps[0], ps[2] // 0.weight [2,1,3,3], its bias, then the dense weight [3, 8]
	if len(conv.W.Data) != 18 || len(dense.W.Data) != 24 {
		t.Fatalf("params %v %v", conv.W.Shape, dense.W.Shape)
	}
	for i := range conv.W.Data {
		conv.W.Data[i] = 0
		if i >= 6 {
			conv.W.Data[i] = 0.5 * float32(1-2*rng.IntN(2))
		}
	}
	for i := range dense.W.Data {
		dense.W.Data[i] = 0.5 * float32(1-2*rng.IntN(2))
	}
	return m
}
