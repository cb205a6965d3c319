package report

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"image/color"

	"github.com/resq-dev/resq/results"
	"github.com/resq-dev/resq/units"
)

// DefaultWeightBudgets are the weight-memory budgets of the designer's
// view (bytes): 8, 32, 128, 512 KiB and 2 MiB.
var DefaultWeightBudgets = []float64{8 << 10, 32 << 10, 128 << 10, 512 << 10, 2 << 20}

// designPoint is one configuration of the designer's view: a cell (size
// and precision, over seeds) of a group with the seed means of its cost
// figures.
type designPoint struct {
	group  *Group
	cell   *Cell
	bytes  float64 // weight bytes
	ram    float64 // activation RAM, batch 1
	energy float64 // nJ per inference, batch 1
	mults  float64 // multiplications per inference
	free   float64 // multiplier-free additions per inference
	lat    float64 // batch-1 latency, us; NaN when not measured
	onChip bool
	table  string
}

func (p *designPoint) label() string {
	return p.group.Name + " " + p.cell.Size.Label + " " + p.cell.Prec.String()
}

// designCost is one axis of the designer's view.
type designCost struct {
	name, unit, slug string
	value            func(p *designPoint) float64
	format           func(v float64) string
}

var designCosts = []designCost{
	{"weight bytes", "bytes (log scale)", "weight-bytes", func(p *designPoint) float64 { return p.bytes }, units.FormatBytes},
	{"activation RAM", "peak live activation bytes, batch 1 (log scale)", "act-ram", func(p *designPoint) float64 { return p.ram }, units.FormatBytes},
	{"energy", "nJ per inference, batch 1 (log scale)", "energy", func(p *designPoint) float64 { return p.energy }, units.FormatEnergy},
	{"multiplications", "multiplications per inference (ternary layers: additions only; log scale)", "mults", func(p *designPoint) float64 { return p.mults }, func(v float64) string { return siLabel(v) }},
	{"latency", "us per inference on this machine, batch 1 (log scale)", "latency", func(p *designPoint) float64 { return p.lat }, func(v float64) string { return fmtF(v, 1) + " us" }},
}

// designPoints returns the configurations of the groups of one dataset
// whose records carry cost figures, and how many ok records lack them.
func designPoints(groups []*Group) (pts []*designPoint, missing int) {
	for _, g := range groups {
		type acc struct {
			n, timed                            int
			bytes, ram, energy, mults, free, lt float64
			onChip                              bool
			table                               string
		}
		sums := map[*Cell]*acc{}
		for i := range g.Records {
			r := &g.Records[i]
			if r.Status != results.StatusOK {
				continue
			}
			if r.Cost == nil {
				missing++
				continue
			}
			c := g.Cell(sizeOf(r), precOf(r))
			a := sums[c]
			if a == nil {
				a = &acc{}
				sums[c] = a
			}
			f := r.Cost
			a.n++
			a.bytes += float64(f.WeightBytes)
			a.ram += float64(f.ActRAMBytes)
			a.energy += f.EnergyNJ()
			a.mults += float64(f.Mults())
			a.free += float64(f.MultFreeOps())
			a.onChip, a.table = f.OnChip, f.Table
			if f.Latency != nil {
				a.timed++
				a.lt += f.Latency.Batch1US
			}
		}
		for _, c := range g.Cells {
			a := sums[c]
			if a == nil || c.OK == 0 {
				continue
			}
			n := float64(a.n)
			p := &designPoint{group: g, cell: c, bytes: a.bytes / n, ram: a.ram / n, energy: a.energy / n, mults: a.mults / n,
				free: a.free / n, lat: math.NaN(), onChip: a.onChip, table: a.table}
			if a.timed > 0 {
				p.lat = a.lt / float64(a.timed)
			}
			pts = append(pts, p)
		}
	}
	return pts, missing
}

// designFront returns the Pareto front of pts for cost k: ascending in the
// cost, each point more accurate than every cheaper one.
func designFront(pts []*designPoint, k designCost) []*designPoint {
	var cs []*designPoint
	for _, p := range pts {
		if v := k.value(p); v > 0 && !math.IsNaN(v) {
			cs = append(cs, p)
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if a, b := k.value(cs[i]), k.value(cs[j]); a != b {
			return a < b
		}
		return cs[i].cell.MeanErr < cs[j].cell.MeanErr
	})
	var front []*designPoint
	best := math.Inf(1)
	for _, p := range cs {
		if p.cell.MeanErr < best {
			front = append(front, p)
			best = p.cell.MeanErr
		}
	}
	return front
}

// bestUnder returns the two most accurate points whose cost k is at most
// budget.
func bestUnder(pts []*designPoint, k designCost, budget float64) (best, second *designPoint) {
	for _, p := range pts {
		v := k.value(p)
		if math.IsNaN(v) || v > budget {
			continue
		}
		switch {
		case best == nil || p.cell.MeanErr < best.cell.MeanErr:
			best, second = p, best
		case second == nil || p.cell.MeanErr < second.cell.MeanErr:
			second = p
		}
	}
	return best, second
}

// energyBudgets returns decades of nanojoules spanning the measured
// energies.
func energyBudgets(pts []*designPoint) []float64 {
	lo, hi := math.Inf(1), 0.0
	for _, p := range pts {
		if p.energy > 0 {
			lo, hi = math.Min(lo, p.energy), math.Max(hi, p.energy)
		}
	}
	if hi == 0 {
		return nil
	}
	var out []float64
	for e := math.Pow(10, math.Ceil(math.Log10(lo))); e <= 10*hi && len(out) < 8; e *= 10 {
		out = append(out, e)
	}
	return out
}

const designerText = `The designer's view. A network is paid for in weight memory, in activation RAM, in energy per inference and in latency, and ternary weights need no multiplier (a zero weight costs nothing at all). Each table below is the Pareto front of test error against one cost over every configuration of the sweep (all groups): a configuration is on it when every cheaper one has a higher error. The budget tables give, for each budget, the most accurate measured configuration within it and the runner-up. Errors are seed means ± std with their seed counts. Weight bytes are the exact packed bytes; activation RAM is the peak of live activations at the packed engine's 8-bit activation codes (float32 for float models); multiplications count every multiply-add of float, 8-bit and 3..7-bit layers and one rescale per output of a quantized layer; latency is measured on this machine by the packed engine (float models: the float32 forward pass) when the sweep ran with --measure-latency.`

// designerSection renders the designer's view of the groups, with the
// figures already rendered; nil when no record has cost figures.
func designerSection(groups []*Group, figs []renderedFigure, opt Options) *section {
	pts, missing := designPoints(groups)
	if len(pts) == 0 && missing == 0 {
		return nil
	}
	s := &section{Heading: "Designer's view: error against hardware cost", Paras: []string{designerText}}
	if missing > 0 {
		s.Paras = append(s.Paras, fmt.Sprintf("%d ok records have no cost figures (written by an older resq): run 'resq cost DIR' to compute them from the stored models, then 'resq report DIR'.", missing))
	}
	if len(pts) == 0 {
		return s
	}
	s.Paras = append(s.Paras, energyNote(pts))
	for _, k := range designCosts {
		front := designFront(pts, k)
		if len(front) == 0 {
			continue
		}
		t := table{Caption: "Pareto front: test error against " + k.name, Head: []string{k.name, "configuration", "test error"}}
		for _, x := range designCosts[:3] {
			if x.name != k.name {
				t.Head = append(t.Head, x.name)
			}
		}
		t.Head = append(t.Head, "multiplier-free adds")
		for _, p := range front {
			row := []string{k.format(k.value(p)), p.label(), p.cell.Spread().String()}
			for _, x := range designCosts[:3] {
				if x.name != k.name {
					row = append(row, x.format(x.value(p)))
				}
			}
			t.Rows = append(t.Rows, append(row, siLabel(p.free)))
		}
		s.Tables = append(s.Tables, t)
	}
	wb := opt.WeightBudgets
	if len(wb) == 0 {
		wb = DefaultWeightBudgets
	}
	s.Tables = append(s.Tables, budgetTable("Best configuration per weight-memory budget", designCosts[0], pts, wb))
	if eb := opt.EnergyBudgets; len(eb) > 0 {
		s.Tables = append(s.Tables, budgetTable("Best configuration per energy budget (per inference, batch 1)", designCosts[2], pts, eb))
	} else if eb := energyBudgets(pts); len(eb) > 0 {
		s.Tables = append(s.Tables, budgetTable("Best configuration per energy budget (per inference, batch 1)", designCosts[2], pts, eb))
	}
	s.Figures = figs
	return s
}

// energyNote names the energy table(s) and the SRAM caveat.
func energyNote(pts []*designPoint) string {
	set := map[string]bool{}
	for _, p := range pts {
		set[p.table] = true
	}
	var names []string
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return "Energy: operations and weight reads priced with the table " + strings.Join(names, ", ") +
		" (the default is M. Horowitz, \"Computing's energy problem\", ISSCC 2014, 45 nm); weights are read from SRAM when they fit the table's on-chip size, else from DRAM. The SRAM figure is a 32-bit read from an 8 KB SRAM: larger memories cost more per access, so energies of on-chip models well above 8 KB are optimistic. Supply your own table with --cost-table FILE."
}

func budgetTable(caption string, k designCost, pts []*designPoint, budgets []float64) table {
	t := table{Caption: caption, Head: []string{"budget", "best configuration", "test error", k.name, "runner-up", "runner-up error"}}
	for _, b := range budgets {
		best, second := bestUnder(pts, k, b)
		row := []string{k.format(b), "nothing fits", "", "", "", ""}
		if best != nil {
			row[1], row[2], row[3] = best.label(), best.cell.Spread().String(), k.format(k.value(best))
		}
		if second != nil {
			row[4], row[5] = second.label(), second.cell.Spread().String()
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// designerFigures returns one figure per cost: every configuration by
// precision, and the Pareto front ringed.
func designerFigures(groups []*Group) ([]*figure, error) {
	pts, _ := designPoints(groups)
	if len(pts) == 0 {
		return nil, nil
	}
	var out []*figure
	for _, k := range designCosts {
		f, err := designFigure(pts, k)
		if err != nil {
			return nil, err
		}
		if f != nil {
			out = append(out, f)
		}
	}
	return out, nil
}

func designFigure(pts []*designPoint, k designCost) (*figure, error) {
	p, leg := newPlot("test error vs "+k.name+" (designer's view)", k.unit, "test error (%)")
	byPrec := map[Precision]plotter.XYs{}
	var precs []Precision
	xlo, xhi, ylo, yhi := math.Inf(1), 0.0, math.Inf(1), 0.0
	for _, d := range pts {
		x := k.value(d)
		if !(x > 0) || math.IsNaN(d.cell.MeanErr) {
			continue
		}
		if _, ok := byPrec[d.cell.Prec]; !ok {
			precs = append(precs, d.cell.Prec)
		}
		byPrec[d.cell.Prec] = append(byPrec[d.cell.Prec], plotter.XY{X: x, Y: d.cell.MeanErr})
		xlo, xhi, ylo, yhi = math.Min(xlo, x), math.Max(xhi, x), math.Min(ylo, d.cell.MeanErr), math.Max(yhi, d.cell.MeanErr)
	}
	if len(precs) == 0 {
		return nil, nil
	}
	sort.Slice(precs, func(i, j int) bool { return precs[i].less(precs[j]) })
	for _, pr := range precs {
		sc, err := plotter.NewScatter(byPrec[pr])
		if err != nil {
			return nil, fmt.Errorf("report: designer plot %s: %v", k.name, err)
		}
		l := &plotter.Line{}
		styleLine(l, sc, pr)
		p.Add(sc)
		leg.Add(pr.String(), sc)
	}
	front := designFront(pts, k)
	var fx, ring plotter.XYs
	for i, d := range front {
		if i > 0 {
			fx = append(fx, plotter.XY{X: k.value(d), Y: front[i-1].cell.MeanErr})
		}
		fx = append(fx, plotter.XY{X: k.value(d), Y: d.cell.MeanErr})
		ring = append(ring, plotter.XY{X: k.value(d), Y: d.cell.MeanErr})
	}
	fl, err := plotter.NewLine(fx)
	if err != nil {
		return nil, fmt.Errorf("report: designer front %s: %v", k.name, err)
	}
	fl.Color = color.RGBA{A: 255}
	fl.Width = vg.Points(1)
	fl.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
	rs, err := plotter.NewScatter(ring)
	if err != nil {
		return nil, fmt.Errorf("report: designer front %s: %v", k.name, err)
	}
	rs.Shape, rs.Radius, rs.Color = draw.RingGlyph{}, vg.Points(6.5), color.RGBA{A: 255}
	p.Add(fl, rs)
	leg.Add("Pareto front", fl, rs)
	setLog(&p.X, xlo, xhi)
	if useLogY(ylo, yhi) {
		setLog(&p.Y, ylo, yhi)
		p.Y.Label.Text = "test error (%, log scale)"
	}
	return &figure{name: "designer_error-vs-" + k.slug, title: "Test error vs " + k.name + ", Pareto front ringed (all groups)", plot: p, legend: leg}, nil
}

// addDesigner renders the designer's view (figures into dir, listed in
// s.Plots) and inserts its section into d before the failed cells.
func addDesigner(d *doc, dir string, groups []*Group, opt Options, s *Summary) error {
	fs, err := designerFigures(groups)
	if err != nil {
		return err
	}
	var rendered []renderedFigure
	for _, f := range fs {
		svg, err := f.render("svg")
		if err != nil {
			return err
		}
		png, err := f.render("png")
		if err != nil {
			return err
		}
		for _, out := range []struct {
			ext string
			b   []byte
		}{{"svg", svg}, {"png", png}} {
			path := filepath.Join(dir, f.name+"."+out.ext)
			if err := writeFile(path, out.b); err != nil {
				return err
			}
			s.Plots = append(s.Plots, path)
		}
		rendered = append(rendered, renderedFigure{Title: f.title, SVGFile: f.name + ".svg", PNGFile: f.name + ".png", SVG: svg})
	}
	sec := designerSection(groups, rendered, opt)
	if sec == nil {
		return nil
	}
	d.insertBeforeFailed(*sec)
	return nil
}
