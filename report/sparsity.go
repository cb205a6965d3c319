package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/units"
)

// compressionPoint is one quantized (size, precision) cell with its mean
// stored bytes, entropy bound and reached sparsity.
type compressionPoint struct {
	group   *Group
	cell    *Cell
	bytes   float64   // stored bytes, indices included
	entropy float64   // entropy bound: codes at their entropy + steps + biases; NaN without cost figures
	layers  []float64 // mean reached sparsity per quantized layer
}

func (p *compressionPoint) label() string {
	return p.group.Name + " " + p.cell.Size.Label + " " + p.cell.Prec.String()
}

// compressionPoints returns the quantized cells of the groups with their
// byte figures, in group and cell order.
func compressionPoints(groups []*Group) []*compressionPoint {
	var pts []*compressionPoint
	for _, g := range groups {
		type acc struct {
			n, ne   int
			ent     float64
			layers  []float64
			nlayers int
		}
		sums := map[*Cell]*acc{}
		for i := range g.Records {
			r := &g.Records[i]
			if r.Status != results.StatusOK || r.Mode == results.ModeFloat {
				continue
			}
			c := g.Cell(sizeOf(r), precOf(r))
			a := sums[c]
			if a == nil {
				a = &acc{}
				sums[c] = a
			}
			a.n++
			if r.Cost != nil && r.Cost.EntropyBytes > 0 {
				a.ne++
				a.ent += float64(r.Cost.EntropyBytes)
			}
			if len(r.LayerSparsity) > 0 {
				if a.layers == nil {
					a.layers = make([]float64, len(r.LayerSparsity))
				}
				if len(a.layers) == len(r.LayerSparsity) {
					for j, v := range r.LayerSparsity {
						a.layers[j] += v
					}
					a.nlayers++
				}
			}
		}
		for _, c := range g.Cells {
			a := sums[c]
			if a == nil || c.OK == 0 {
				continue
			}
			p := &compressionPoint{group: g, cell: c, bytes: float64(c.StoredBytes), entropy: math.NaN()}
			if a.ne > 0 {
				p.entropy = a.ent / float64(a.ne)
			}
			for _, v := range a.layers {
				p.layers = append(p.layers, v/float64(a.nlayers))
			}
			pts = append(pts, p)
		}
	}
	return pts
}

// hasCompressionAxes reports whether any record is pruned or has a
// per-layer allocation.
func hasCompressionAxes(groups []*Group) bool {
	for _, g := range groups {
		for _, p := range g.Precs {
			if p.Sparsity > 0 || p.Alloc != "" {
				return true
			}
		}
	}
	return false
}

// compressionSection lists every quantized (size, bits, sparsity) point
// with its stored bytes beside the entropy bound, marks the Pareto front
// of error against stored bytes, names the best point per weight budget,
// and compares each per-layer allocation with the uniform bit widths at
// equal or smaller bytes. Nil when no record is pruned or allocated.
func compressionSection(groups []*Group, budgets []float64) *section {
	if !hasCompressionAxes(groups) {
		return nil
	}
	pts := compressionPoints(groups)
	s := &section{Heading: "Pruning and per-layer bit widths", Paras: []string{compressionText}}
	front := map[*compressionPoint]bool{}
	byBytes := append([]*compressionPoint(nil), pts...)
	sort.SliceStable(byBytes, func(i, j int) bool { return byBytes[i].bytes < byBytes[j].bytes })
	best := math.Inf(1)
	for _, p := range byBytes {
		if p.cell.MeanErr < best {
			best = p.cell.MeanErr
			front[p] = true
		}
	}
	t := table{Caption: "Every quantized point: test error against stored bytes (indices included) and the entropy bound",
		Head: []string{"configuration", "test error", "stored bytes", "entropy bound", "bits/weight", "sparsity reached per layer", "Pareto"}}
	for _, p := range byBytes {
		ent := "n/a"
		if !math.IsNaN(p.entropy) {
			ent = units.FormatBytes(p.entropy)
		}
		var sp []string
		for _, v := range p.layers {
			sp = append(sp, fmt.Sprintf("%.1f%%", 100*v))
		}
		mark := ""
		if front[p] {
			mark = "front"
		}
		bpw := fmtF(8*p.bytes/float64(max(p.cell.Size.Weights, 1)), 3)
		t.Rows = append(t.Rows, []string{p.label(), p.cell.Spread().String(), units.FormatBytes(p.bytes), ent, bpw, strings.Join(sp, " "), mark})
	}
	s.Tables = append(s.Tables, t)
	if len(budgets) == 0 {
		budgets = DefaultWeightBudgets
	}
	bt := table{Caption: "Best (size, bits, sparsity) per weight-memory budget", Head: []string{"budget", "best configuration", "test error", "stored bytes"}}
	for _, b := range budgets {
		row := []string{units.FormatBytes(b), "nothing fits", "", ""}
		var win *compressionPoint
		for _, p := range pts {
			if p.bytes <= b && (win == nil || p.cell.MeanErr < win.cell.MeanErr) {
				win = p
			}
		}
		if win != nil {
			row[1], row[2], row[3] = win.label(), win.cell.Spread().String(), units.FormatBytes(win.bytes)
		}
		bt.Rows = append(bt.Rows, row)
	}
	s.Tables = append(s.Tables, bt)
	if at := allocationTable(pts); len(at.Rows) > 0 {
		s.Tables = append(s.Tables, at)
	}
	return s
}

// allocationTable compares each per-layer allocation with the most
// accurate uniform bit width of the same group, size, mode and sparsity
// stored in equal or fewer bytes.
func allocationTable(pts []*compressionPoint) table {
	t := table{Caption: "Per-layer allocations against uniform bits at equal or smaller bytes",
		Head: []string{"allocation", "test error", "stored bytes", "best uniform at <= bytes", "its error", "its bytes", "difference", "noise"}}
	for _, a := range pts {
		if a.cell.Prec.Alloc == "" {
			continue
		}
		var u *compressionPoint
		for _, p := range pts {
			q := p.cell.Prec
			if p.group != a.group || p.cell.Size.Value != a.cell.Size.Value || q.Alloc != "" || q.Mode != a.cell.Prec.Mode ||
				q.Sparsity != a.cell.Prec.Sparsity || p.bytes > a.bytes {
				continue
			}
			if u == nil || p.cell.MeanErr < u.cell.MeanErr {
				u = p
			}
		}
		row := []string{a.label(), a.cell.Spread().String(), units.FormatBytes(a.bytes), "none fits", "", "", "", ""}
		if u != nil {
			n := CompareNoise(a.cell.Spread(), u.cell.Spread())
			row[3], row[4], row[5] = u.cell.Prec.String(), u.cell.Spread().String(), units.FormatBytes(u.bytes)
			row[6], row[7] = fmt.Sprintf("%+.2f pp", a.cell.MeanErr-u.cell.MeanErr), n.String()
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

const compressionText = `Pruned points ("s=0.9": 90% of the weights removed by magnitude, gradually while retraining, or at once before direct quantization) store each layer either densely or as relative indices (a gap field per nonzero code, with filler entries for long runs of zeros), whichever takes fewer bytes; stored bytes count every index byte, the steps and the float biases. The entropy bound is the codes at their Shannon entropy (zeros included) plus the steps and biases: what an ideal entropy coder would reach. Per-layer allocations ("8,2,2,8b") give each quantized layer its own bit width. The Pareto front holds the points more accurate than every point stored in fewer bytes.`

// addCompression inserts the pruning and allocation section before the
// failed cells, when the records have those axes.
func addCompression(d *doc, groups []*Group, budgets []float64) {
	sec := compressionSection(groups, budgets)
	if sec == nil {
		return
	}
	d.insertBeforeFailed(*sec)
}

// joinFloats writes values as "0.9,0.8" (empty for none).
func joinFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', 6, 64)
	}
	return strings.Join(s, ",")
}

// joinInts writes values as "8,2,2,8" (empty for none).
func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
