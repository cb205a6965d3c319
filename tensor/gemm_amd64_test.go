//go:build amd64 && !purego

package tensor

import "testing"

// TestFamilyModel checks the parse of the CPU name's family and model,
// which choose the AVX-512 kernel order (archKernels).
func TestFamilyModel(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fam, mode int
	}{
		{"Intel(R) Xeon(R) Processor (family 6 model 207)", 6, 207},
		{"AMD EPYC 9B14 96-Core Processor (family 25 model 17)", 25, 17},
		{"Intel(R) Xeon(R) Processor", 0, 0},
		{"odd (family x model 3)", 0, 0},
		{"", 0, 0},
	} {
		f, m := familyModel(tc.name)
		if f != tc.fam || m != tc.mode {
			t.Errorf("familyModel(%q) = %d, %d, want %d, %d", tc.name, f, m, tc.fam, tc.mode)
		}
	}
}

// TestCPUIdentityNoAllocs: the CPU checks the kernel choices make on every
// call (the convolutions ask amdFamily) parse the CPU's name once, not per
// call: a per-call parse allocated in every training step.
func TestCPUIdentityNoAllocs(t *testing.T) {
	if a := testing.AllocsPerRun(10, func() {
		amdFamily()
		cpuFamilyModel()
		intelSPR()
		convDirectSwitch()
	}); a != 0 {
		t.Errorf("the CPU checks allocate %v times a call", a)
	}
}
