package prune

import (
	"math"
	"strings"
	"testing"

	"github.com/resq-dev/resq/nn"
)

func zeros(w []float32) int {
	n := 0
	for _, v := range w {
		if v == 0 {
			n++
		}
	}
	return n
}

func TestTargetCubic(t *testing.T) {
	c := Config{Sparsity: 0.9, Begin: 0.1, End: 0.5}
	for _, tt := range []struct {
		t    int
		want float64
	}{{0, 0.2}, {10, 0.2}, {30, 0.9 - 0.7*0.125}, {50, 0.9}, {100, 0.9}} {
		if got := c.Target(tt.t, 100, 0.2); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Target(%d) = %g, want %g", tt.t, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		c    Config
		want string
	}{
		{Config{Sparsity: 1}, "sparsity 1 out of range"},
		{Config{Sparsity: -0.1}, "sparsity -0.1 out of range"},
		{Config{Sparsity: math.NaN()}, "sparsity NaN"},
		{Config{Sparsity: 0.5, Scope: "row"}, "scope"},
		{Config{Sparsity: 0.5, Begin: 0.8, End: 0.5}, "ramp"},
		{Config{Sparsity: 0.5, Every: -1}, "every"},
	} {
		if err := tt.c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err %v, want %q", tt.c, err, tt.want)
		}
	}
}

// TestSchedule runs the pruner over a fake run: sparsity never decreases,
// pruned weights stay zero although the "optimizer" changes them, biases
// are untouched and the final sparsity is reached per layer.
func TestSchedule(t *testing.T) {
	for _, scope := range []string{ScopeLayer, ScopeGlobal} {
		m, err := nn.Build("mlp:37-17x2-5", nil, 3)
		if err != nil {
			t.Fatal(err)
		}
		p, err := New(m, Config{Sparsity: 0.8, Scope: scope, Every: 3}, 100)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		prev := 0.0
		for step := 1; step <= 100; step++ {
			for _, q := range m.Params() { // an update that would revive every weight
				for i := range q.W.Data {
					q.W.Data[i] += 0.001
				}
			}
			if err := p.Step(); err != nil {
				t.Fatal(err)
			}
			sp := p.Sparsity()
			total, pruned := 0, 0
			for i, q := range quantizable(m) {
				total += len(q.W.Data)
				pruned += zeros(q.W.Data)
				if z := float64(zeros(q.W.Data)) / float64(len(q.W.Data)); math.Abs(z-sp[i]) > 1e-12 {
					t.Fatalf("%s step %d: %s has %.3f zeros, mask says %.3f", scope, step, q.Name, z, sp[i])
				}
			}
			s := float64(pruned) / float64(total)
			if s < prev-1e-12 {
				t.Fatalf("%s step %d: sparsity fell from %g to %g", scope, step, prev, s)
			}
			prev = s
		}
		if math.Abs(prev-0.8) > 0.01 {
			t.Errorf("%s: final sparsity %g, want 0.8", scope, prev)
		}
		for _, q := range m.Params() {
			if !q.Quantizable && zeros(q.W.Data) != 0 {
				t.Errorf("%s: bias %s was pruned", scope, q.Name)
			}
		}
		if scope == ScopeLayer {
			for i, s := range p.Sparsity() {
				if math.Abs(s-0.8) > 0.02 {
					t.Errorf("layer %d sparsity %g, want 0.8", i, s)
				}
			}
		}
	}
}

// TestKeepsPrunedMask checks that a model with zeros starts from them: a
// pruner with sparsity 0 keeps exactly those weights at zero.
func TestKeepsPrunedMask(t *testing.T) {
	m, err := nn.Build("mlp:10-8-3", nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	w2 := m.Params()[2].W.Data // the second layer has no zeros and must keep them all
	w := m.Params()[0].W.Data
	for i := 0; i < len(w); i += 2 {
		w[i] = 0
	}
	p, err := New(m, Config{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var changes int
	p.OnChange = func([][]bool) error { changes++; return nil }
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		for i := range w {
			w[i] += 1
		}
		if err := p.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if got := zeros(w); got != len(w)/2 {
		t.Errorf("%d zeros, want %d", got, len(w)/2)
	}
	if got := zeros(w2); got != 0 {
		t.Errorf("second layer: %d zeros, want none", got)
	}
	if changes != 1 {
		t.Errorf("%d mask changes, want 1 (the start)", changes)
	}
}

func quantizable(m *nn.Model) []*nn.Param {
	var ps []*nn.Param
	for _, q := range m.Params() {
		if q.Quantizable {
			ps = append(ps, q)
		}
	}
	return ps
}
