// Command deadunits counts the dead ReLU units of the float models of resq
// sweeps: hidden units whose activation is zero on every training sample,
// so that they pass no signal forward and receive no gradient.
//
//	go run ./examples/fidelity/deadunits DIR...
//
// For each float cell of each sweep folder DIR it prints the model, the
// seed, the test error and the dead units per hidden layer.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/resq-dev/resq/data"
	"github.com/resq-dev/resq/nn"
	"github.com/resq-dev/resq/pipeline"
	"github.com/resq-dev/resq/tensor"
)

type rec struct {
	ID      string  `json:"id"`
	Status  string  `json:"status"`
	Dataset string  `json:"dataset"`
	Model   string  `json:"model"`
	Mode    string  `json:"mode"`
	Seed    uint64  `json:"seed"`
	Err     float64 `json:"test_error_pct"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: deadunits SWEEP_DIR...")
		os.Exit(2)
	}
	sets := map[string]*data.Dataset{}
	for _, dir := range os.Args[1:] {
		recs, err := floatRecords(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "deadunits:", err)
			os.Exit(1)
		}
		for _, r := range recs {
			ds := sets[r.Dataset]
			if ds == nil {
				if ds, err = data.Load(r.Dataset, data.Options{}); err != nil {
					fmt.Fprintln(os.Stderr, "deadunits:", err)
					os.Exit(1)
				}
				sets[r.Dataset] = ds
			}
			c, err := pipeline.Load(filepath.Join(dir, "models", r.ID+".safetensors"))
			if err != nil {
				fmt.Fprintln(os.Stderr, "deadunits:", err)
				os.Exit(1)
			}
			dead, width := deadUnits(c.M, &ds.Train)
			parts := make([]string, len(dead))
			total := 0
			for i, d := range dead {
				parts[i] = fmt.Sprintf("%d/%d", d, width[i])
				total += d
			}
			fmt.Printf("%s %s seed %d: test %.2f%%, dead units per hidden layer %s (%d)\n",
				r.Dataset, r.Model, r.Seed, r.Err, strings.Join(parts, " "), total)
		}
	}
}

func floatRecords(dir string) ([]rec, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "results*.jsonl"))
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no results*.jsonl", dir)
	}
	var out []rec
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var r rec
			if json.Unmarshal(sc.Bytes(), &r) == nil && r.Status == "ok" && r.Mode == "float" {
				out = append(out, r)
			}
		}
		fh.Close()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Model != out[j].Model {
			return out[i].Model < out[j].Model
		}
		return out[i].Seed < out[j].Seed
	})
	return out, nil
}

// deadUnits runs s through m (evaluation mode) and counts, after every
// ReLU, the units that are zero on every sample.
func deadUnits(m *nn.Model, s *data.Split) (dead, width []int) {
	var alive [][]bool
	x := tensor.Tensor{Shape: make([]int, 2)}
	const batch = 500
	for i := 0; i < s.N; i += batch {
		n := min(batch, s.N-i)
		x.Data, x.Shape[0], x.Shape[1] = s.X[i*s.D:(i+n)*s.D], n, s.D
		h := &x
		k := 0
		for _, l := range m.Layers {
			h = l.Forward(h, false)
			if _, ok := l.(*nn.ReLU); !ok {
				continue
			}
			w := h.Shape[1]
			if k == len(alive) {
				alive = append(alive, make([]bool, w))
			}
			for r := range n {
				for j, v := range h.Data[r*w : (r+1)*w] {
					if v > 0 {
						alive[k][j] = true
					}
				}
			}
			k++
		}
	}
	for _, a := range alive {
		d := 0
		for _, ok := range a {
			if !ok {
				d++
			}
		}
		dead = append(dead, d)
		width = append(width, len(a))
	}
	return dead, width
}
