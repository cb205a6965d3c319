package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"github.com/resq-dev/resq/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure sizes. The legend sits inside the axes, in the emptiest corner
// (placement.go).
const (
	figW   = 8 * vg.Inch
	figH   = 4.5 * vg.Inch
	pngDPI = 120
)

// figure is one plot with its legend, drawn inside the data area where it
// covers the least.
type figure struct {
	name   string // file stem, e.g. "mnist-mlp-d2_error-vs-weights"
	title  string // caption in report.md / report.html
	plot   *plot.Plot
	legend plot.Legend
}

// render draws the figure as "svg" or "png". gonum/plot panics on data it
// cannot draw (e.g. a non-positive value on a log axis); that becomes an
// error naming the figure rather than a crash of the whole report.
func (f *figure) render(format string) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("report: %s.%s: cannot draw: %v", f.name, format, r)
		}
	}()
	var cw vg.CanvasWriterTo
	switch format {
	case "svg":
		cw = vgsvg.New(figW, figH)
	case "png":
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(figW, figH), vgimg.UseDPI(pngDPI),
			vgimg.UseBackgroundColor(color.White))}
	default:
		panic("report: render: unknown format " + format)
	}
	k := f.legendCorner()
	dc := draw.New(cw)
	area := plotArea(dc)
	f.plot.Draw(area)
	f.drawLegend(f.plot.DataCanvas(area), k)
	var buf bytes.Buffer
	if _, err := cw.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("report: %s.%s: %v", f.name, format, err)
	}
	return buf.Bytes(), nil
}

func newPlot(title, xlabel, ylabel string) (*plot.Plot, plot.Legend) {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 13
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = 11
	p.Y.Label.TextStyle.Font.Size = 11
	p.X.Tick.Label.Font.Size = 10
	p.Y.Tick.Label.Font.Size = 10
	p.Y.Tick.Marker = linTicks{}
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 225}
	g.Horizontal.Color = color.Gray{Y: 225}
	p.Add(g)
	leg := plot.NewLegend()
	leg.TextStyle.Font = font.From(plot.DefaultFont, 10)
	leg.ThumbnailWidth = 0.35 * vg.Inch
	return p, leg
}

// shortName keeps plot titles on one line: long CNN base specs are cut.
func shortName(s string) string {
	if r := []rune(s); len(r) > 48 {
		return string(r[:47]) + "…"
	}
	return s
}

// precColor: float black; each bit width its own hue (direct and retrain
// of the same width share it and differ by dash and glyph).
func precColor(p Precision) color.Color {
	if p.IsFloat() {
		return color.RGBA{A: 255}
	}
	pal := []color.RGBA{
		{R: 214, G: 39, B: 40, A: 255},   // 2b red
		{R: 31, G: 119, B: 180, A: 255},  // 3b blue
		{R: 44, G: 160, B: 44, A: 255},   // 4b green
		{R: 255, G: 127, B: 14, A: 255},  // 5b orange
		{R: 148, G: 103, B: 189, A: 255}, // 6b purple
		{R: 140, G: 86, B: 75, A: 255},   // 7b brown
		{R: 23, G: 190, B: 207, A: 255},  // 8b teal
	}
	i := p.Bits - 2
	if i < 0 || i >= len(pal) {
		i = ((p.Bits % len(pal)) + len(pal)) % len(pal)
	}
	return pal[i]
}

func styleLine(l *plotter.Line, s *plotter.Scatter, p Precision) {
	c := precColor(p)
	l.Color = c
	l.Width = vg.Points(1.6)
	s.Color = c
	s.Radius = vg.Points(3)
	switch p.Mode {
	case results.ModeFloat:
		l.Width = vg.Points(2.2)
		s.Shape = draw.CircleGlyph{}
	case results.ModeDirect:
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		s.Shape = draw.RingGlyph{}
	default:
		s.Shape = draw.SquareGlyph{}
	}
}

// logTicks labels 1-2-5 (or decades, over wide ranges) with compact SI
// numbers and puts unlabelled minor ticks at the other integers.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= 0 {
		panic(fmt.Sprintf("report: log axis range [%v, %v] is not positive", min, max))
	}
	dec := math.Log10(max / min)
	label := map[int]bool{1: true, 2: true, 5: true}
	switch {
	case dec > 2.5:
		label = map[int]bool{1: true}
	case dec < 0.8:
		label = map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 9: true}
	}
	var ticks []plot.Tick
	labelled := 0
	for e := math.Floor(math.Log10(min)); math.Pow(10, e) <= max; e++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow(10, e)
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if label[m] {
				t.Label = siLabel(v)
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	if labelled < 2 {
		// Too narrow for round labels: label the ends.
		ticks = append(ticks, plot.Tick{Value: min, Label: siLabel(min)}, plot.Tick{Value: max, Label: siLabel(max)})
	}
	return ticks
}

// linTicks puts 4-8 labelled ticks at steps of 1, 2, 2.5 or 5 times a
// power of ten.
type linTicks struct{}

func (linTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) {
		return []plot.Tick{{Value: min, Label: strconv.FormatFloat(min, 'g', 4, 64)}}
	}
	raw := (max - min) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	prec := 0
	if step < 1 {
		prec = int(math.Ceil(-math.Log10(step) - 1e-9))
		if math.Abs(step*math.Pow(10, float64(prec))-math.Round(step*math.Pow(10, float64(prec)))) > 1e-9 {
			prec++
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(min/step-1e-9) * step; v <= max+step*1e-9; v += step {
		x := math.Round(v/step) * step
		if x == 0 {
			x = 0 // no "-0"
		}
		ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'f', prec, 64)})
	}
	return ticks
}

// sizeTicks labels the x axis at the group's sizes ("26.4k" over "w=32"),
// with plain log minor ticks in between.
func sizeTicks(g *Group) plot.Ticker {
	var ts plot.ConstantTicks
	for _, s := range g.Sizes {
		if s.Weights > 0 {
			ts = append(ts, plot.Tick{Value: float64(s.Weights), Label: siLabel(float64(s.Weights)) + "\n" + s.Label})
		}
	}
	return ts
}

// siLabel formats 1500 as "1.5k", 2e6 as "2M", 0.5 as "0.5".
func siLabel(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return strconv.FormatFloat(roundSig(v/1e9), 'g', -1, 64) + "G"
	case a >= 1e6:
		return strconv.FormatFloat(roundSig(v/1e6), 'g', -1, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(roundSig(v/1e3), 'g', -1, 64) + "k"
	}
	return strconv.FormatFloat(roundSig(v), 'g', -1, 64)
}

func roundSig(v float64) float64 {
	s, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	return s
}

// setLog makes axis a a log axis over [lo, hi] padded by a fraction of
// a decade so edge glyphs stay inside.
func setLog(a *plot.Axis, lo, hi float64) {
	if !(lo > 0) || !(hi >= lo) {
		return
	}
	if hi/lo < 1.5 {
		m := math.Sqrt(lo * hi)
		lo, hi = m/1.5, m*1.5
	}
	pad := math.Pow(hi/lo, 0.06)
	a.Scale = plot.LogScale{}
	a.Tick.Marker = logTicks{}
	a.Min, a.Max = lo/pad, hi*pad
}

// useLogY reports whether errors spanning [lo, hi] read better on a log
// axis (direct 2-bit errors can be 30x the float errors).
func useLogY(lo, hi float64) bool { return lo > 0 && hi/lo > 8 }

type series struct {
	prec       Precision
	xys        plotter.XYs
	errs       plotter.YErrors
	nMin, nMax int // fewest and most ok seeds over the points
}

// label names the series in a legend with its seed count: "float (3
// seeds)", "retrain 2b (1-3 seeds)".
func (s series) label() string {
	switch {
	case s.nMax == 0:
		return s.prec.String()
	case s.nMin == s.nMax && s.nMin == 1:
		return s.prec.String() + " (1 seed)"
	case s.nMin == s.nMax:
		return fmt.Sprintf("%s (%d seeds)", s.prec, s.nMin)
	}
	return fmt.Sprintf("%s (%d-%d seeds)", s.prec, s.nMin, s.nMax)
}

// errorSeries returns, per precision, the (x, mean error) points of the
// group's cells with at least one ok seed, ascending in x.
func errorSeries(g *Group, x func(c *Cell) float64, val func(c *Cell) (float64, bool)) []series {
	var out []series
	for _, p := range g.Precs {
		var s series
		s.prec = p
		for _, c := range g.Cells {
			if c.Prec != p || c.OK == 0 {
				continue
			}
			xv := x(c)
			v, ok := val(c)
			if !ok || !(xv > 0) || math.IsNaN(v) {
				continue
			}
			s.xys = append(s.xys, plotter.XY{X: xv, Y: v})
			std := c.StdErr
			if math.IsNaN(std) {
				std = 0
			}
			s.errs = append(s.errs, struct{ Low, High float64 }{std, std})
			if s.nMax == 0 || c.OK < s.nMin {
				s.nMin = c.OK
			}
			s.nMax = max(s.nMax, c.OK)
		}
		if len(s.xys) > 0 {
			out = append(out, s)
		}
	}
	return out
}

func rangeOf(ss []series, includeErr bool) (xlo, xhi, ylo, yhi float64) {
	xlo, ylo = math.Inf(1), math.Inf(1)
	xhi, yhi = math.Inf(-1), math.Inf(-1)
	for _, s := range ss {
		for i, p := range s.xys {
			xlo, xhi = math.Min(xlo, p.X), math.Max(xhi, p.X)
			lo, hi := p.Y, p.Y
			if includeErr {
				lo, hi = p.Y-s.errs[i].Low, p.Y+s.errs[i].High
				if lo <= 0 {
					lo = p.Y
				}
			}
			ylo, yhi = math.Min(ylo, lo), math.Max(yhi, hi)
		}
	}
	return
}

func addSeries(p *plot.Plot, leg *plot.Legend, ss []series, withErr bool) error {
	for _, s := range ss {
		l, sc, err := plotter.NewLinePoints(s.xys)
		if err != nil {
			return fmt.Errorf("report: plot %s: %v", s.prec, err)
		}
		styleLine(l, sc, s.prec)
		p.Add(l, sc)
		if withErr && hasSpread(s.errs) {
			eb, err := plotter.NewYErrorBars(errXY{s.xys, s.errs})
			if err != nil {
				return fmt.Errorf("report: plot %s: %v", s.prec, err)
			}
			eb.Color = precColor(s.prec)
			eb.CapWidth = vg.Points(4)
			p.Add(eb)
		}
		leg.Add(s.label(), l, sc)
	}
	return nil
}

func hasSpread(e plotter.YErrors) bool {
	for _, v := range e {
		if v.Low > 0 || v.High > 0 {
			return true
		}
	}
	return false
}

type errXY struct {
	plotter.XYs
	plotter.YErrors
}

// figures builds the four figures of one group.
func figures(g *Group) ([]*figure, error) {
	var figs []*figure
	weights := func(c *Cell) float64 { return float64(c.Size.Weights) }
	meanErr := func(c *Cell) (float64, bool) { return c.MeanErr, true }

	// (a) test error vs weights.
	{
		ss := errorSeries(g, weights, meanErr)
		if len(ss) > 0 {
			p, leg := newPlot(shortName(g.Name)+": test error vs network size", "quantizable weights (log scale)", "test error (%), mean ± std")
			_, _, ylo, yhi := rangeOf(ss, true)
			logY := useLogY(ylo, yhi)
			if logY {
				// A log axis cannot show a bar reaching 0 or below: cut the
				// lower bar at a tenth of the mean.
				for _, s := range ss {
					for i := range s.errs {
						s.errs[i].Low = math.Min(s.errs[i].Low, 0.9*s.xys[i].Y)
					}
				}
			}
			if err := addSeries(p, &leg, ss, true); err != nil {
				return nil, err
			}
			xlo, xhi, ylo, yhi := rangeOf(ss, true)
			setLog(&p.X, xlo, xhi)
			p.X.Tick.Marker = sizeTicks(g)
			// A label longer than the axis would shrink the axis to fit it.
			spread := false
			for _, s := range ss {
				spread = spread || hasSpread(s.errs)
			}
			switch {
			case logY && spread:
				setLog(&p.Y, ylo, yhi)
				p.Y.Label.Text = "error (%, log), mean ± std"
			case logY:
				setLog(&p.Y, ylo, yhi)
				p.Y.Label.Text = "test error (%, log scale)"
			case !spread:
				p.Y.Label.Text = "test error (%)"
			}
			p.Y.Label.Text = unitLabel(g, p.Y.Label.Text)
			figs = append(figs, &figure{name: g.Slug + "_error-vs-weights", title: "Test error vs number of weights (" + g.Name + ")", plot: p, legend: leg})
		}
	}

	// (b) gap to float vs weights.
	{
		gap := func(c *Cell) (float64, bool) { return c.GapPct, !c.Prec.IsFloat() && !math.IsNaN(c.GapPct) }
		ss := errorSeries(g, weights, gap)
		if len(ss) > 0 {
			p, leg := newPlot(shortName(g.Name)+": accuracy lost to quantization", "quantizable weights (log scale)", "test error − float test error (pp)")
			zero := plotter.NewFunction(func(float64) float64 { return 0 })
			zero.Color = color.Gray{Y: 110}
			zero.Width = vg.Points(1)
			p.Add(zero)
			if err := addSeries(p, &leg, ss, false); err != nil {
				return nil, err
			}
			xlo, xhi, ylo, yhi := rangeOf(ss, false)
			setLog(&p.X, xlo, xhi)
			p.X.Tick.Marker = sizeTicks(g)
			ylo, yhi = math.Min(ylo, 0), math.Max(yhi, 0)
			pad := 0.06 * (yhi - ylo)
			if pad == 0 {
				pad = 0.5
			}
			p.Y.Min, p.Y.Max = ylo-pad, yhi+pad
			figs = append(figs, &figure{name: g.Slug + "_gap-vs-weights", title: "Gap to float vs number of weights (" + g.Name + ")", plot: p, legend: leg})
		}
	}

	// (c) ECR vs weights, with the nominal 32/b as dashed lines.
	if f, err := ecrFigure(g); err != nil {
		return nil, err
	} else if f != nil {
		figs = append(figs, f)
	}

	// (d) error vs stored bytes with the Pareto front.
	if f, err := bytesFigure(g); err != nil {
		return nil, err
	} else if f != nil {
		figs = append(figs, f)
	}
	return figs, nil
}

func ecrFigure(g *Group) (*figure, error) {
	p, leg := newPlot(shortName(g.Name)+": effective compression ratio, 32·N_eff / stored bits", "quantizable weights (log scale)", "ECR")
	var xlo, xhi, ylo, yhi = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	var bits []int
	seenBits := map[int]bool{}
	nAbove, nBelow := 0, 0
	for _, pr := range g.Precs {
		if pr.IsFloat() {
			continue
		}
		var in, above, below plotter.XYs
		for _, c := range g.Cells {
			if c.Prec != pr || c.Eff.Range == RangeNone || !(c.Eff.ECR > 0) || c.Size.Weights <= 0 {
				continue
			}
			pt := plotter.XY{X: float64(c.Size.Weights), Y: c.Eff.ECR}
			switch c.Eff.Range {
			case RangeIn:
				in = append(in, pt)
			case RangeAbove:
				above = append(above, pt)
			case RangeBelow:
				below = append(below, pt)
			}
			xlo, xhi = math.Min(xlo, pt.X), math.Max(xhi, pt.X)
			ylo, yhi = math.Min(ylo, pt.Y), math.Max(yhi, pt.Y)
		}
		if len(in)+len(above)+len(below) == 0 {
			continue
		}
		if !seenBits[pr.Bits] {
			seenBits[pr.Bits] = true
			bits = append(bits, pr.Bits)
		}
		// The legend thumbnail is the line and glyph even when the
		// precision has bounds only.
		l, sc, err := plotter.NewLinePoints(plotter.XYs{{X: 1, Y: 1}})
		if err != nil {
			return nil, fmt.Errorf("report: plot ECR %s: %v", pr, err)
		}
		styleLine(l, sc, pr)
		if len(in) > 0 {
			l, sc, err = plotter.NewLinePoints(in)
			if err != nil {
				return nil, fmt.Errorf("report: plot ECR %s: %v", pr, err)
			}
			styleLine(l, sc, pr)
			p.Add(l, sc)
		}
		leg.Add(pr.String(), l, sc)
		// Bounds: triangles in the precision's colour, pointing the way
		// the true value may lie.
		for _, bnd := range []struct {
			xys   plotter.XYs
			shape draw.GlyphDrawer
		}{{above, triangle{}}, {below, triangle{down: true}}} {
			if len(bnd.xys) == 0 {
				continue
			}
			t, err := plotter.NewScatter(bnd.xys)
			if err != nil {
				return nil, fmt.Errorf("report: plot ECR bounds: %v", err)
			}
			t.Shape = bnd.shape
			t.Color = precColor(pr)
			t.Radius = vg.Points(4)
			p.Add(t)
		}
		nAbove += len(above)
		nBelow += len(below)
	}
	if len(bits) == 0 {
		return nil, nil
	}
	for _, b := range []struct {
		n     int
		shape draw.GlyphDrawer
		name  string
	}{{nAbove, triangle{}, "lower bound (ECR >=)"}, {nBelow, triangle{down: true}, "upper bound (ECR <=)"}} {
		if b.n == 0 {
			continue
		}
		t, err := plotter.NewScatter(plotter.XYs{{X: 1, Y: 1}})
		if err != nil {
			return nil, fmt.Errorf("report: plot ECR legend: %v", err)
		}
		t.Shape = b.shape
		t.Color = color.Gray{Y: 80}
		t.Radius = vg.Points(4)
		leg.Add(b.name, t)
	}
	sort.Ints(bits)
	for _, b := range bits {
		nom := Nominal(b)
		ylo, yhi = math.Min(ylo, nom), math.Max(yhi, nom)
		l, err := plotter.NewLine(plotter.XYs{{X: xlo / 10, Y: nom}, {X: xhi * 10, Y: nom}})
		if err != nil {
			return nil, fmt.Errorf("report: plot ECR nominal: %v", err)
		}
		l.Color = precColor(Precision{Mode: "nominal", Bits: b})
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
		l.Width = vg.Points(1.2)
		p.Add(l)
		leg.Add(fmt.Sprintf("nominal 32/%d = %.3g", b, nom), l)
	}
	setLog(&p.X, xlo, xhi)
	p.X.Tick.Marker = sizeTicks(g)
	if ylo > 0 && yhi/ylo > 4 {
		setLog(&p.Y, ylo, yhi)
		p.Y.Label.Text = "ECR (log scale)"
	} else {
		p.Y.Min, p.Y.Max = 0, yhi*1.08
	}
	return &figure{name: g.Slug + "_ecr-vs-weights", title: "Effective compression ratio vs number of weights (" + g.Name + "); triangles are bounds where the error lies outside the float curve", plot: p, legend: leg}, nil
}

// triangle is a filled triangle glyph pointing up (a lower bound: the
// true value may be higher) or down (an upper bound).
type triangle struct{ down bool }

func (t triangle) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * 1.25
	dx := r * vg.Length(math.Cos(math.Pi/6))
	dy := r * vg.Length(math.Sin(math.Pi/6))
	tip, base := pt.Y+r, pt.Y-dy
	if t.down {
		tip, base = pt.Y-r, pt.Y+dy
	}
	c.FillPolygon(sty.Color, []vg.Point{{X: pt.X, Y: tip}, {X: pt.X - dx, Y: base}, {X: pt.X + dx, Y: base}})
}

// Pareto returns the group's cells with at least one ok seed that are on
// the Pareto front of (stored bytes, mean error), ascending in bytes. Ties
// in bytes keep the lower error; ties in both keep the first in cell order.
func Pareto(g *Group) []*Cell {
	var cs []*Cell
	for _, c := range g.Cells {
		if c.OK > 0 && c.StoredBytes > 0 && !math.IsNaN(c.MeanErr) {
			cs = append(cs, c)
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].StoredBytes != cs[j].StoredBytes {
			return cs[i].StoredBytes < cs[j].StoredBytes
		}
		return cs[i].MeanErr < cs[j].MeanErr
	})
	var front []*Cell
	best := math.Inf(1)
	for _, c := range cs {
		if c.MeanErr < best {
			front = append(front, c)
			best = c.MeanErr
		}
	}
	return front
}

func bytesFigure(g *Group) (*figure, error) {
	p, leg := newPlot(shortName(g.Name)+": error vs memory (designer's view)", "stored bytes: codes + steps + float biases (log scale)", "test error (%)")
	var xlo, xhi, ylo, yhi = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	any := false
	var lines []plotter.XYs
	for _, pr := range g.Precs {
		var xys plotter.XYs
		for _, c := range g.Cells {
			if c.Prec != pr || c.OK == 0 || c.StoredBytes <= 0 {
				continue
			}
			xys = append(xys, plotter.XY{X: float64(c.StoredBytes), Y: c.MeanErr})
			xlo, xhi = math.Min(xlo, float64(c.StoredBytes)), math.Max(xhi, float64(c.StoredBytes))
			ylo, yhi = math.Min(ylo, c.MeanErr), math.Max(yhi, c.MeanErr)
		}
		if len(xys) == 0 {
			continue
		}
		any = true
		lines = append(lines, xys)
		l, sc, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("report: plot bytes %s: %v", pr, err)
		}
		styleLine(l, sc, pr)
		l.Color = fade(precColor(pr))
		p.Add(l, sc)
		leg.Add(pr.String(), l, sc)
	}
	if !any {
		return nil, nil
	}
	front := Pareto(g)
	var fx plotter.XYs
	var labels []string
	for i, c := range front {
		if i > 0 { // step: the best error so far holds until the next front point
			fx = append(fx, plotter.XY{X: float64(c.StoredBytes), Y: front[i-1].MeanErr})
		}
		fx = append(fx, plotter.XY{X: float64(c.StoredBytes), Y: c.MeanErr})
		labels = append(labels, c.Size.Label+" "+shortPrec(c.Prec))
	}
	fl, err := plotter.NewLine(fx)
	if err != nil {
		return nil, fmt.Errorf("report: plot Pareto front: %v", err)
	}
	fl.Color = color.RGBA{A: 255}
	fl.Width = vg.Points(1)
	fl.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
	var pts plotter.XYs
	for _, c := range front {
		pts = append(pts, plotter.XY{X: float64(c.StoredBytes), Y: c.MeanErr})
	}
	ring, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, fmt.Errorf("report: plot Pareto front: %v", err)
	}
	ring.Shape = draw.RingGlyph{}
	ring.Radius = vg.Points(6.5)
	ring.Color = color.RGBA{A: 255}
	p.Add(fl, ring)
	// Labels go where they collide with nothing (placement.go).
	var others plotter.XYs
	for _, xys := range lines {
		others = append(others, xys...)
	}
	lbl := &frontLabels{pts: pts, labels: labels, obstacles: others, lines: append(lines, fx), ring: ring.Radius, style: labelStyle()}
	p.Add(lbl)
	leg.Add("Pareto front", fl, ring)
	setLog(&p.X, xlo/1.5, xhi*1.8) // room for the labels
	if useLogY(ylo, yhi) {
		setLog(&p.Y, ylo, yhi)
		p.Y.Label.Text = "test error (%, log scale)"
	}
	p.Y.Label.Text = unitLabel(g, p.Y.Label.Text)
	return &figure{name: g.Slug + "_error-vs-bytes", title: "Test error vs stored bytes, Pareto front ringed (" + g.Name + ")", plot: p, legend: leg}, nil
}

// labelStyle is the text of point labels.
func labelStyle() text.Style {
	sty := plot.NewLegend().TextStyle
	sty.Font = font.From(plot.DefaultFont, 8)
	sty.Color = color.Gray{Y: 40}
	return sty
}

func fade(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 110}
}

// shortPrec: "fp32", "d2", "r3", "r8,2,2,8", "r2s0.9".
func shortPrec(p Precision) string {
	if p.Mode == results.ModeFloat {
		return "fp32"
	}
	bits := strconv.Itoa(p.Bits)
	if p.Alloc != "" {
		bits = p.Alloc
	}
	if p.Sparsity > 0 {
		bits += "s" + strconv.FormatFloat(p.Sparsity, 'g', -1, 64)
	}
	switch p.Mode {
	case results.ModeDirect:
		return "d" + bits
	case results.ModeRetrain:
		return "r" + bits
	}
	return p.Mode + bits
}
