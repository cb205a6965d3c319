package sweep

import (
	"strings"
	"testing"
)

func TestSpecValidatesBudgetWithTrain(t *testing.T) {
	_, err := ParseSpec("spec.yaml", []byte("dataset: mnist\nmlp: {widths: [4]}\nfloat:\n  optimizer: adagrad\n"))
	if err == nil || !strings.Contains(err.Error(), "spec.yaml:3: float: train: unknown optimizer") {
		t.Fatalf("err %v", err)
	}
}
