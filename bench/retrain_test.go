package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/resq-dev/resq/data"
)

// synthetic returns a small random classification set with d features.
func synthetic(seed uint64, n, d, classes int) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, seed))
	sp := data.Split{X: make([]float32, n*d), Y: make([]int32, n), N: n, D: d}
	for i := range sp.X {
		sp.X[i] = r.Float32()
	}
	for i := range sp.Y {
		sp.Y[i] = int32(r.IntN(classes))
	}
	return &data.Dataset{Name: "synthetic", Shape: []int{d}, Classes: classes, Train: sp, Test: sp}
}

func TestRunRetrain(t *testing.T) {
	ds := synthetic(1, 300, 20, 4)
	var out bytes.Buffer
	res, err := RunRetrain(context.Background(), &out, RetrainOptions{Model: "mlp:20-16x2-4", Data: ds, Rounds: 2, Batch: 50, JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.FloatSeconds) != 2 || len(res.RetrainSeconds) != 2 || res.Ratio <= 0 || res.Bits != 2 || res.Samples != 300 {
		t.Fatalf("result %+v", res)
	}
	var back RetrainResult
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back.Ratio != res.Ratio {
		t.Fatalf("JSON %q: %v", out.String(), err)
	}
	out.Reset()
	if _, err := RunRetrain(context.Background(), &out, RetrainOptions{Model: "mlp:20-8-4", Data: ds, Rounds: 1, Bits: 3}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "retrain / float") || !strings.Contains(out.String(), "retrain 3b epoch") {
		t.Errorf("table:\n%s", out.String())
	}
	for _, bad := range []RetrainOptions{
		{Data: ds, Bits: 9, Model: "mlp:20-8-4"},
		{Data: ds, Model: "mlp:21-8-4"},
		{Model: "mlp:20-8-4"},
	} {
		if _, err := RunRetrain(context.Background(), &out, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
