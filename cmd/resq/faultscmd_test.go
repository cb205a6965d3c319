package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestFaultsCommand runs resq faults on the fixture's float checkpoint
// and packed model, and checks its one-line errors for bad flags.
func TestFaultsCommand(t *testing.T) {
	f := newRelFixture(t)
	for _, model := range []string{f.ckpt, f.packed} {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"faults", model, "--data", f.dataA, "--ber", "0,0.01", "--trials", "2", "--protect", "all", "--json"}, &out, &errb)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", model, code, errb.String())
		}
		var r struct {
			FaultFree float64 `json:"fault_free_err_pct"`
			Curves    []struct {
				Part, Protection string
				Points           []struct {
					Mean float64 `json:"mean_err_pct"`
				}
			}
		}
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Curves) != 15 || r.Curves[0].Points[0].Mean != r.FaultFree {
			t.Errorf("%s: %d curves, first point %+v, fault-free %.2f", model, len(r.Curves), r.Curves[0].Points, r.FaultFree)
		}
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"faults", f.packed, "--data", f.dataA, "--ber", "0,0.05", "--trials", "2", "--target", "activations", "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("--target activations on a float-epilogue packed model: exit %d: %s", code, errb.String())
	}
	var r struct {
		Curves []struct {
			Part   string
			Points []struct {
				Flipped float64 `json:"flipped_bits"`
			}
		}
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Curves) != 1 || r.Curves[0].Part != "activations" || r.Curves[0].Points[0].Flipped != 0 || r.Curves[0].Points[1].Flipped == 0 {
		t.Errorf("--target activations: curves %+v, want one, without flips at 0 and with flips at 0.05", r.Curves)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ber", "2"}, "--ber 2"},
		{[]string{"--ber", "x"}, "--ber"},
		{[]string{"--trials", "0"}, "--trials 0"},
		{[]string{"--target", "activations"}, "--target"}, // run on the float32 checkpoint, which has no activation codes
		{[]string{"--target", "neurons"}, "--target"},
		{[]string{"--protect", "ecc"}, "--protect"},
	} {
		var out, errb bytes.Buffer
		model := f.packed
		if tc.args[0] == "--target" && tc.args[1] == "activations" {
			model = f.ckpt
		}
		args := append([]string{"faults", model, "--data", f.dataA}, tc.args...)
		if code := run(context.Background(), args, &out, &errb); code == 0 {
			t.Errorf("%v: exit 0, want an error", tc.args)
		}
		if s := errb.String(); strings.Count(s, "\n") != 1 || !strings.Contains(s, tc.want) {
			t.Errorf("%v: stderr %q, want one line naming %s", tc.args, s, tc.want)
		}
	}
}
