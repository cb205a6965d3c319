package sweep

import (
	"strings"
	"testing"
)

// TestSparsityAxisKeepsIDs checks that adding a sparsity axis and
// allocations leaves the cells of the spec without them unchanged (same
// IDs, same order among themselves) and adds pruned and allocated cells.
func TestSparsityAxisKeepsIDs(t *testing.T) {
	base := "name: s\ndataset: mnist\nmlp: {widths: [16], depths: [1, 2]}\nbits: [2, 3]\n"
	plain, err := ParseSpec("a.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	more, err := ParseSpec("b.yaml", []byte(base+"sparsity: [0, 0.9]\nprune: {scope: global}\nbits_per_layer: [\"8,2,8\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := plain.Cells()
	if err != nil {
		t.Fatal(err)
	}
	mc, err := more.Cells()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	var pruned, alloc int
	for _, c := range mc {
		ids[c.ID] = true
		if c.Config.Sparsity > 0 {
			pruned++
			if c.Config.Prune == nil || c.Config.Prune.Scope != "global" {
				t.Errorf("%s: prune options %+v", c.Label(), c.Config.Prune)
			}
		}
		if c.Config.BitsPerLayer != nil {
			alloc++
			if c.Config.Depth != 2 || c.Config.Bits != 8 {
				t.Errorf("%s: allocation 8,2,8 on depth %d with bits %d", c.Label(), c.Config.Depth, c.Config.Bits)
			}
		}
	}
	for _, c := range pc {
		if !ids[c.ID] {
			t.Errorf("%s: ID %s changed with the sparsity axis", c.Label(), c.ID)
		}
	}
	// 2 depths x (float + 2 bits x 2 sparsities x 2 modes) + depth 2's
	// allocation x 2 sparsities x 2 modes.
	if want := 2*(1+2*2*2) + 4; len(mc) != want {
		t.Errorf("%d cells, want %d", len(mc), want)
	}
	if pruned != 2*2*2+2 || alloc != 4 {
		t.Errorf("%d pruned and %d allocated cells, want 10 and 4", pruned, alloc)
	}
	if !strings.Contains(mc[len(mc)-1].Label(), "8,2,8b sparsity=0.9") {
		t.Errorf("last cell label %q", mc[len(mc)-1].Label())
	}
}

func TestSparsityAxisRejects(t *testing.T) {
	base := "name: s\ndataset: mnist\nmlp: {widths: [16], depths: [2]}\n"
	for _, tt := range []struct{ extra, want string }{
		{"sparsity: [0.5, 1]\n", "sparsity[1]: prune: sparsity 1 out of range"},
		{"sparsity: [-0.2]\n", "-0.2"},
		{"prune: {scope: rows}\n", "scope \"rows\""},
		{"bits_per_layer: [\"8,2\"]\n", "\"8,2\" has 2 entries"},
		{"bits_per_layer: [\"8,2,x\"]\n", "8,2,x"},
	} {
		if _, err := ParseSpec("s.yaml", []byte(base+tt.extra)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err %v, want %q", tt.extra, err, tt.want)
		}
	}
}
