package faults_test

import (
	"fmt"

	"github.com/resq-dev/resq/faults"
)

// ExampleFlipBytes flips the bits of 64 KiB of zeros at a bit error rate
// of 1e-3 with trial 0's stream of seed 1: the same bits on every run, and
// in the generated C compiled with the same state and threshold.
func ExampleFlipBytes() {
	b := make([]byte, 1<<16)
	state := faults.TrialSeed(1, 0)
	s := faults.Stream{State: state}
	n := faults.FlipBytes(b, &s, faults.Threshold(1e-3))
	fmt.Printf("-DRESQ_FAULT_SEED=%#x -DRESQ_FAULT_BER_Q64=%#x\n", state, faults.Threshold(1e-3))
	fmt.Println(n, "of", 8*len(b), "bits flipped")
	// Output:
	// -DRESQ_FAULT_SEED=0x910a2dec89025cc1 -DRESQ_FAULT_BER_Q64=0x4189374bc6a7f0
	// 510 of 524288 bits flipped
}
