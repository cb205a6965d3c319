package sweep

import (
	"strings"
	"testing"
)

// TestFaultsKeyIDs checks that a faults key is hashed into every cell ID
// only when given: without it the IDs are those of TestCellIDs' golden.
func TestFaultsKeyIDs(t *testing.T) {
	plain := mustSpec(t, goodSpec)
	with := mustSpec(t, goodSpec+"faults: {ber: [1e-6, 1e-4], trials: 5}\n")
	other := mustSpec(t, goodSpec+"faults: {ber: [1e-6, 1e-3], trials: 5}\n")
	a, _ := plain.Cells()
	b, _ := with.Cells()
	c, _ := other.Cells()
	if a[0].ID != "1c5de936595286cdf04fa848e25bdbce" {
		t.Fatalf("a spec without faults changed its first cell ID: %s", a[0].ID)
	}
	for i := range a {
		if a[i].ID == b[i].ID || b[i].ID == c[i].ID {
			t.Fatalf("cell %d (%s): the faults key is not hashed", i, a[i].Label())
		}
	}
	if b[0].Config.Faults.Seed != 1 || len(b[0].Config.Faults.Protections) != 1 {
		t.Fatalf("faults defaults %+v", *b[0].Config.Faults)
	}
	again, err := ParseSpec("again.yaml", []byte(with.String()))
	if err != nil {
		t.Fatalf("re-parse of the resolved spec: %v", err)
	}
	if d, _ := again.Cells(); d[0].ID != b[0].ID {
		t.Fatal("a resolved spec with faults does not round-trip")
	}
}

func TestFaultsSpecErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"faults: {ber: [1e-3, 2]}\n", "faults: ber 2"},
		{"faults: {ber: [1e-3], trials: 0}\n", "faults: trials 0"},
		{"faults: {ber: [1e-3], protections: [ecc]}\n", `faults: protections "ecc"`},
		{"faults: {trials: 3}\n", "faults needs ber"},
		{"faults: {bers: [1e-3]}\n", `unknown key "bers" in faults`},
	} {
		_, err := ParseSpec("spec.yaml", []byte("dataset: mnist\nmlp: {widths: [32]}\n"+tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "spec.yaml:3") {
			t.Errorf("%q: error %v, want one naming spec.yaml:3 and %q", tc.src, err, tc.want)
		}
	}
}
