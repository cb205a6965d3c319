package sweep

import (
	"strings"
	"testing"
)

// FuzzParseSpec feeds arbitrary YAML to ParseSpec. A spec that parses must
// be resolved and valid: Cells succeeds with unique IDs, every cell's bits
// are 2..8 (or 32 for float cells), and the resolved spec printed by String
// parses again to the same cells. A spec that does not parse must give an
// error prefixed "sweep: " that names the file.
func FuzzParseSpec(f *testing.F) {
	for _, name := range PresetNames() {
		src, ok := PresetSource(name)
		if !ok {
			f.Fatalf("preset %q has no source", name)
		}
		f.Add(src)
		f.Add(strings.Replace(src, "DATASET", "fashion-mnist", 1))
	}
	f.Add("name: tiny\ndataset: mnist\nlimit: 3000\nfamily: mlp\nmlp: {widths: [16, 32, 64], depths: [2], act: relu}\nbits: [2, 3]\nmodes: [float, direct, retrain]\nseeds: [1]\nfloat: {epochs: 2, batch: 100, lr: 0.1}\nretrain: {epochs: 1, lr: 0.01}\n")
	f.Add("dataset: mnist\nfamily: cnn\ncnn: {base: \"cnn:8c3-p2-fc16-10\", scales: [0.5, 1]}\nbits: [2]\n")
	f.Add("dataset: mnist\nfamily: mlp\nmlp: {widths: [8], depths: [1]}\nbits: [9]\n")
	f.Add("dataset: mnist\nfamily: mlp\nmlp: {widths: [8], depths: [1]}\nbitz: [2]\n")
	f.Add("a: &x [1, *x]\n")
	f.Add("---\nname: a\n---\nname: b\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, src string) {
		s, err := ParseSpec("fuzz.yaml", []byte(src))
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "sweep: fuzz.yaml") {
				t.Fatalf("error does not name the file: %q", msg)
			}
			return
		}
		if s == nil {
			t.Fatal("nil spec and nil error")
		}
		if n := cellCount(s); n > 1<<16 {
			return // valid but too large to expand on every fuzz input
		}
		cells, err := s.Cells()
		if err != nil {
			t.Fatalf("ParseSpec accepted a spec whose Cells fails: %v", err)
		}
		seen := map[string]bool{}
		for _, c := range cells {
			if seen[c.ID] {
				t.Fatalf("duplicate cell ID %s", c.ID)
			}
			seen[c.ID] = true
			b := c.Config.Bits
			if (c.Config.Mode == ModeFloat && b != 32) || (c.Config.Mode != ModeFloat && (b < 2 || b > 8)) {
				t.Fatalf("cell %s: mode %s with %d bits", c.ID, c.Config.Mode, b)
			}
		}
		again, err := ParseSpec("fuzz.yaml", []byte(s.String()))
		if err != nil {
			t.Fatalf("resolved spec does not parse again: %v\n%s", err, s.String())
		}
		cells2, err := again.Cells()
		if err != nil {
			t.Fatalf("re-parsed spec: Cells: %v", err)
		}
		if len(cells2) != len(cells) {
			t.Fatalf("re-parsed spec has %d cells, want %d", len(cells2), len(cells))
		}
		for i := range cells {
			if cells[i].ID != cells2[i].ID {
				t.Fatalf("cell %d: ID %s after re-parse, want %s", i, cells2[i].ID, cells[i].ID)
			}
		}
	})
}

// cellCount is the number of cells s expands to, computed without expanding.
func cellCount(s *Spec) int {
	sizes := len(s.CNN.Scales)
	if s.Family == "mlp" {
		sizes = len(s.MLP.Depths) * len(s.MLP.Widths)
	}
	return sizes * len(s.Seeds) * (1 + 2*len(s.Bits))
}
