//go:build purego

package kernels

import (
	"slices"
	"testing"
)

// TestPuregoHasNoAssembly: built with -tags purego, only the pure-Go kernel
// exists and it is the one selected.
func TestPuregoHasNoAssembly(t *testing.T) {
	if got := Available(); !slices.Equal(got, []string{NameGo}) {
		t.Errorf("Available() = %v, want [%s]", got, NameGo)
	}
	if got := Selected(); got != NameGo {
		t.Errorf("Selected() = %q, want %q", got, NameGo)
	}
	if _, err := Force(NameAVX2); err == nil {
		t.Errorf("Force(%q) succeeded in a purego build", NameAVX2)
	}
}
