package sweep

import (
	"strings"
	"testing"
)

func TestRecurrentSpec(t *testing.T) {
	src := `dataset: fortunes
family: lstm
rnn: {hidden: [32, 64, 512], opts: "head=seq,tokens", float_epochs: [6, 6, 1], retrain_epochs: [2, 2, 1]}
bits: [2]
float: {epochs: 4, optimizer: adam, lr: 0.003, clip_norm: 1}
`
	s, err := ParseSpec("spec.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cells, err := s.Cells()
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 9 { // 3 sizes x (float, direct, retrain)
		t.Fatalf("%d cells, want 9", len(cells))
	}
	var f512, r512 *CellConfig
	for i := range cells {
		k := &cells[i].Config
		if k.Width == 512 && k.Mode == ModeFloat {
			f512 = k
		}
		if k.Width == 512 && k.Mode == ModeRetrain {
			r512 = k
		}
	}
	if f512 == nil || r512 == nil || f512.Float.Epochs != 1 || r512.Retrain.Epochs != 1 || f512.Float.ClipNorm != 1 || f512.Depth != 1 {
		t.Fatalf("512-unit cells: float %+v retrain %+v", f512, r512)
	}
	if !strings.HasPrefix(cells[0].Label(), "lstm h=32 l=1") {
		t.Errorf("label %q", cells[0].Label())
	}
	spec, err := f512.ModelSpec([]int{100}, 98)
	if err != nil || spec != "lstm:98-512x1-98,head=seq,tokens" {
		t.Errorf("model spec %q %v", spec, err)
	}
	k := CellConfig{Family: "gru", Width: 16, Depth: 2}
	if spec, err := k.ModelSpec([]int{28, 28}, 10); err != nil || spec != "gru:28-16x2-10" {
		t.Errorf("gru model spec %q %v", spec, err)
	}
	if f512.Float.TrainConfig(1).ClipNorm != 1 {
		t.Error("clip_norm lost in TrainConfig")
	}
}

func TestRecurrentSpecErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"dataset: seq-mnist\nfamily: lstm\n", "rnn.hidden"},
		{"dataset: seq-mnist\nfamily: gru\nrnn: {hidden: [0]}\n", "out of range"},
		{"dataset: seq-mnist\nfamily: lstm\nrnn: {hidden: [8], layers: [17]}\n", "layers 17"},
		{"dataset: seq-mnist\nfamily: lstm\nrnn: {hidden: [8], opts: \"head=all\"}\n", "head=last or head=seq"},
		{"dataset: seq-mnist\nfamily: lstm\nrnn: {hidden: [8, 16], float_epochs: [3]}\n", "one per hidden size"},
		{"dataset: seq-mnist\nfamily: lstm\nrnn: {hidden: [8], retrain_epochs: [0]}\n", ">= 1"},
		{"dataset: seq-mnist\nfamily: rnn\n", "want mlp, cnn, lstm or gru"},
	} {
		_, err := ParseSpec("spec.yaml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.src, err, tc.want)
		}
	}
}
