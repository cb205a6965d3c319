package report

import "testing"

func TestUnitLabel(t *testing.T) {
	lm := &Group{Dataset: "fortunes"}
	img := &Group{Dataset: "seq-mnist"}
	if got := unitLabel(lm, "test error (%)"); got != "test bits per character" {
		t.Errorf("bpc group: %q", got)
	}
	if got := unitLabel(lm, "test error (%, log scale)"); got != "test bits per character (log scale)" {
		t.Errorf("bpc group, log: %q", got)
	}
	if got := unitLabel(img, "test error (%)"); got != "test error (%)" {
		t.Errorf("classification group: %q", got)
	}
}
