package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/resq-dev/resq/sweep"
	"github.com/resq-dev/resq/train"
)

// TestRetrainDefaultsAreASweeps: resq retrain's default epochs and learning
// rate are those of a sweep's retrain cells for the default float budget.
func TestRetrainDefaultsAreASweeps(t *testing.T) {
	spec, err := sweep.ParseSpec("t.yaml", []byte(fmt.Sprintf("dataset: mnist\nmlp: {widths: [8]}\nfloat: {lr: %g}\n", train.DefaultConfig().LR)))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"retrain", "-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	help := stdout.String()
	for flag, want := range map[string]string{"epochs": fmt.Sprint(spec.Retrain.Epochs), "lr": fmt.Sprint(spec.Retrain.LR)} {
		_, after, ok := strings.Cut(help, "  -"+flag+" ")
		line, _, _ := strings.Cut(strings.SplitN(after, "\n", 3)[1], "\n")
		if !ok || !strings.HasSuffix(line, "(default "+want+")") {
			t.Errorf("retrain -%s: help %q, want the sweep's default %s", flag, line, want)
		}
	}
}
