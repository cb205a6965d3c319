package cost_test

import (
	"fmt"
	"log"

	"github.com/resq-dev/resq/cost"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/packed"
	"github.com/resq-dev/resq/quant"
)

// ExampleOf prices a ternary MLP with the default 45 nm table.
func ExampleOf() {
	m, err := nn.Build("mlp:784-256x2-10", nil, 1) // untrained: codes of the random init
	if err != nil {
		log.Fatal(err)
	}
	s, err := quant.Direct(m, quant.Config{Bits: 2})
	if err != nil {
		log.Fatal(err)
	}
	f, err := cost.Of(m, s, packed.Options{}, 100, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("weights %d in %d bytes, activations %d bytes\n", f.Weights, f.WeightBytes, f.ActRAMBytes)
	fmt.Printf("multiplications %d (rescales only), on chip %v\n", f.Mults(), f.OnChip)
	fmt.Println("table", f.Table)
	// Output:
	// weights 268800 in 69300 bytes, activations 1040 bytes
	// multiplications 522 (rescales only), on chip true
	// table horowitz-isscc2014-45nm
}

// ExampleParseTable reads a user's own energy table.
func ExampleParseTable() {
	src := `name: my-fpga
int8_add_pj: 0.05
int32_add_pj: 0.2
fp32_add_pj: 1.5
int8_mult_pj: 0.5
int32_mult_pj: 4
fp32_mult_pj: 6
sram_read_32b_pj: 2
dram_read_32b_pj: 300
onchip_weight_bytes: 524288
`
	t, err := cost.ParseTable("my-fpga.yaml", []byte(src))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Name, t.DRAMRead32, t.OnChipBytes)
	_, err = cost.ParseTable("bad.yaml", []byte("int8_add_pj: -1\n"))
	fmt.Println(err)
	// Output:
	// my-fpga 300 524288
	// cost: bad.yaml:1: int8_add_pj is -1; energies and sizes must be >= 0
}
