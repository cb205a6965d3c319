package main

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/resq-dev/resq/sweep"
)

// TestPrintSpecIsWhatRuns: reproduce --print-spec prints a spec that parses
// to the one reproduce runs with the same flags.
func TestPrintSpecIsWhatRuns(t *testing.T) {
	for _, tc := range []struct {
		preset string
		seeds  int
	}{{"quick", 0}, {"paper-ffdnn", 0}, {"paper-ffdnn", 3}, {"paper-cnn", 0}, {"paper-cnn", 2}} {
		var stdout, stderr bytes.Buffer
		args := []string{"reproduce", "--preset", tc.preset, "--print-spec"}
		if tc.seeds > 0 {
			args = append(args, "--seeds", itoa(tc.seeds))
		}
		if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		printed, err := sweep.ParseSpec("preset "+tc.preset, stdout.Bytes())
		if err != nil {
			t.Fatalf("%v: the printed spec does not parse: %v", args, err)
		}
		runs, err := sweep.PresetWithSeeds(tc.preset, tc.seeds)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(printed, runs) {
			t.Errorf("%v: printed\n%+v\nruns\n%+v", args, printed, runs)
		}
	}
}
