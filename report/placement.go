package report

import (
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Legends sit inside the axes, in the corner of the data area with the
// least ink under them; labels of the Pareto front are placed where they
// collide with nothing.

// corner is a corner of the data area.
type corner int

const (
	topRight corner = iota
	topLeft
	bottomLeft
	bottomRight
)

const (
	legendMargin  = 5 // points between the legend box and the axes
	legendPadding = 4 // points between the box and its entries
	inkDPI        = 72
)

// plotArea is the part of a figure's canvas the plot takes: all of it but
// a small margin.
func plotArea(dc draw.Canvas) draw.Canvas { return draw.Crop(dc, 4, -8, 2, -8) }

// legendBox is the legend's box, padding included, in corner k of the
// data area da.
func legendBox(leg *plot.Legend, da draw.Canvas, k corner) vg.Rectangle {
	size := leg.Rectangle(da).Size()
	w := size.X + 2*vg.Points(legendPadding)
	h := size.Y + 2*vg.Points(legendPadding)
	m := vg.Points(legendMargin)
	var r vg.Rectangle
	switch k {
	case topRight, bottomRight:
		r.Max.X = da.Max.X - m
		r.Min.X = r.Max.X - w
	default:
		r.Min.X = da.Min.X + m
		r.Max.X = r.Min.X + w
	}
	switch k {
	case topRight, topLeft:
		r.Max.Y = da.Max.Y - m
		r.Min.Y = r.Max.Y - h
	default:
		r.Min.Y = da.Min.Y + m
		r.Max.Y = r.Min.Y + h
	}
	return r
}

// legendCorner draws f's plot, without its legend, on a coarse raster and
// returns the corner whose legend box covers the fewest inked pixels
// (lines, glyphs, labels; not the light grid). Ties go to the first of
// top-right, top-left, bottom-left, bottom-right.
func (f *figure) legendCorner() corner {
	c := vgimg.NewWith(vgimg.UseWH(figW, figH), vgimg.UseDPI(inkDPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(c)
	area := plotArea(dc)
	f.plot.Draw(area)
	da := f.plot.DataCanvas(area)
	img := c.Image()
	best, bestInk := topRight, -1
	for _, k := range []corner{topRight, topLeft, bottomLeft, bottomRight} {
		n := inkIn(img, legendBox(&f.legend, da, k))
		if bestInk < 0 || n < bestInk {
			best, bestInk = k, n
		}
	}
	return best
}

// inkIn counts the pixels of img inside r (figure coordinates, origin at
// the bottom left) that are neither white nor a light grey.
func inkIn(img image.Image, r vg.Rectangle) int {
	b := img.Bounds()
	sx := float64(b.Dx()) / float64(figW)
	sy := float64(b.Dy()) / float64(figH)
	x0, x1 := int(float64(r.Min.X)*sx), int(float64(r.Max.X)*sx)
	y0, y1 := int(float64(figH-r.Max.Y)*sy), int(float64(figH-r.Min.Y)*sy)
	n := 0
	for y := max(y0, b.Min.Y); y < min(y1, b.Max.Y); y++ {
		for x := max(x0, b.Min.X); x < min(x1, b.Max.X); x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			lo, hi := min(cr, cg, cb), max(cr, cg, cb)
			if lo < 200*0x101 || hi-lo > 30*0x101 {
				n++
			}
		}
	}
	return n
}

// drawLegend draws f's legend in corner k of the data area da, on a
// nearly opaque white box so that the data under it does not hide it.
func (f *figure) drawLegend(da draw.Canvas, k corner) {
	leg := f.legend
	leg.Top, leg.Left = true, true
	box := legendBox(&leg, da, k)
	da.SetColor(color.NRGBA{R: 255, G: 255, B: 255, A: 235})
	da.Fill(box.Path())
	da.SetLineStyle(draw.LineStyle{Color: color.Gray{Y: 190}, Width: vg.Points(0.6)})
	da.Stroke(box.Path())
	p := vg.Points(legendPadding)
	leg.Draw(draw.Canvas{Canvas: da.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: box.Min.X + p, Y: box.Min.Y + p},
		Max: vg.Point{X: box.Max.X - p, Y: box.Max.Y - p},
	}})
}

// frontLabels labels the points of a Pareto front. Each label goes to the
// first of a list of positions around its point (right, left, above,
// below, the diagonals, then the same farther out) that overlaps no label
// placed before it, no ringed front point and stays inside the data area,
// preferring positions that also keep off the other series' points. A
// label with no free position is left out (the report's Pareto table
// lists every front point).
type frontLabels struct {
	pts       plotter.XYs // the front, ascending in bytes
	labels    []string
	obstacles plotter.XYs   // every other plotted point
	lines     []plotter.XYs // the plotted lines (the series and the front's steps)
	ring      vg.Length     // radius of the front's rings
	style     text.Style
}

// Plot implements plot.Plotter.
func (fl *frontLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, l := range fl.place(func(xy plotter.XY) vg.Point { return vg.Point{X: trX(xy.X), Y: trY(xy.Y)} }, c.Rectangle) {
		c.FillText(fl.style, l.anchor, l.text)
	}
}

// placedLabel is a label at its place: its box and the point FillText
// draws it from.
type placedLabel struct {
	box    vg.Rectangle
	anchor vg.Point
	text   string
}

// place returns the labels that have a free position, toC mapping data to
// canvas coordinates and area being the data area.
func (fl *frontLabels) place(toC func(plotter.XY) vg.Point, area vg.Rectangle) []placedLabel {
	square := func(pt vg.Point, r vg.Length) vg.Rectangle {
		return vg.Rectangle{Min: vg.Point{X: pt.X - r, Y: pt.Y - r}, Max: vg.Point{X: pt.X + r, Y: pt.Y + r}}
	}
	var rings, others []vg.Rectangle
	for _, xy := range fl.pts {
		rings = append(rings, square(toC(xy), fl.ring))
	}
	for _, xy := range fl.obstacles {
		others = append(others, square(toC(xy), vg.Points(3.5)))
	}
	// Lines count like points, sampled every few points along them.
	step := vg.Points(3)
	for _, l := range fl.lines {
		for i := 1; i < len(l); i++ {
			a, b := toC(l[i-1]), toC(l[i])
			d := b.Sub(a)
			n := int(math.Hypot(float64(d.X), float64(d.Y))/float64(step)) + 1
			for j := 0; j <= n; j++ {
				t := vg.Length(float64(j) / float64(n))
				others = append(others, square(vg.Point{X: a.X + t*d.X, Y: a.Y + t*d.Y}, vg.Points(1)))
			}
		}
	}
	var placed []placedLabel
	var boxes []vg.Rectangle
	for i, xy := range fl.pts {
		pt := toC(xy)
		txt := fl.labels[i]
		ext := fl.style.Rectangle(txt) // relative to the anchor
		w, h := ext.Size().X, ext.Size().Y
		best, bestScore := vg.Rectangle{}, -1
		for j, off := range labelOffsets(fl.ring+vg.Points(2), w, h) {
			r := vg.Rectangle{Min: vg.Point{X: pt.X + off.X, Y: pt.Y + off.Y}}
			r.Max = vg.Point{X: r.Min.X + w, Y: r.Min.Y + h}
			if !inside(r, area) || overlapsAny(r, boxes) || overlapsOther(r, rings, i) {
				continue
			}
			score := 3*countOverlaps(r, others) + j // position order breaks ties
			if bestScore < 0 || score < bestScore {
				best, bestScore = r, score
			}
		}
		if bestScore < 0 {
			continue // no free place: the report's Pareto table lists it
		}
		boxes = append(boxes, best)
		placed = append(placed, placedLabel{box: best, anchor: vg.Point{X: best.Min.X - ext.Min.X, Y: best.Min.Y - ext.Min.Y}, text: txt})
	}
	return placed
}

// labelOffsets are the candidate positions, as the offset of a w x h
// label's bottom-left corner from its point, nearest first; g is the gap
// between the point and the label.
func labelOffsets(g, w, h vg.Length) []vg.Point {
	var out []vg.Point
	for _, s := range []vg.Length{1, 2, 3.2} {
		d := g * s
		q := d * 0.75
		out = append(out,
			vg.Point{X: d, Y: -h / 2},      // right
			vg.Point{X: -d - w, Y: -h / 2}, // left
			vg.Point{X: -w / 2, Y: d},      // above
			vg.Point{X: -w / 2, Y: -d - h}, // below
			vg.Point{X: q, Y: q},           // above right
			vg.Point{X: -q - w, Y: q},      // above left
			vg.Point{X: q, Y: -q - h},      // below right
			vg.Point{X: -q - w, Y: -q - h}, // below left
		)
	}
	return out
}

func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}

func overlapsAny(r vg.Rectangle, rs []vg.Rectangle) bool { return countOverlaps(r, rs) > 0 }

// overlapsOther is overlapsAny leaving out rs[self].
func overlapsOther(r vg.Rectangle, rs []vg.Rectangle, self int) bool {
	for i, o := range rs {
		if i != self && overlaps(r, o) {
			return true
		}
	}
	return false
}

func countOverlaps(r vg.Rectangle, rs []vg.Rectangle) int {
	n := 0
	for _, o := range rs {
		if overlaps(r, o) {
			n++
		}
	}
	return n
}

func inside(r, area vg.Rectangle) bool {
	return r.Min.X >= area.Min.X && r.Max.X <= area.Max.X && r.Min.Y >= area.Min.Y && r.Max.Y <= area.Max.Y
}
