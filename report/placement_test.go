package report

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// TestFrontLabelsDoNotCollide: on crowded fronts (points a few label
// heights apart, as on paper-ffdnn), every placed label lies inside the
// area, overlaps no other label and no other front point's ring, and most
// labels find a place.
func TestFrontLabelsDoNotCollide(t *testing.T) {
	area := vg.Rectangle{Max: vg.Point{X: 500, Y: 250}}
	rng := rand.New(rand.NewPCG(3, 3))
	for trial := range 20 {
		n := 6 + rng.IntN(10)
		var pts, others plotter.XYs
		var labels []string
		x, y := 30.0, 220.0
		for i := range n {
			pts = append(pts, plotter.XY{X: x, Y: y})
			labels = append(labels, fmt.Sprintf("w=%d r%d", 32<<(i/2), 2+i%2))
			x += 12 + rng.Float64()*40
			y -= 5 + rng.Float64()*25
			others = append(others, plotter.XY{X: x + rng.Float64()*20, Y: y + rng.Float64()*30})
		}
		fl := &frontLabels{pts: pts, labels: labels, obstacles: others, lines: []plotter.XYs{pts}, ring: vg.Points(6.5), style: labelStyle()}
		got := fl.place(func(xy plotter.XY) vg.Point { return vg.Point{X: vg.Length(xy.X), Y: vg.Length(xy.Y)} }, area)
		if len(got) < n*3/4 {
			t.Errorf("trial %d: %d of %d labels placed", trial, len(got), n)
		}
		for i, a := range got {
			if !inside(a.box, area) {
				t.Errorf("trial %d: label %q at %v leaves the area", trial, a.text, a.box)
			}
			for _, b := range got[i+1:] {
				if overlaps(a.box, b.box) {
					t.Errorf("trial %d: labels %q and %q overlap", trial, a.text, b.text)
				}
			}
			for j, p := range pts {
				r := fl.ring
				ring := vg.Rectangle{Min: vg.Point{X: vg.Length(p.X) - r, Y: vg.Length(p.Y) - r}, Max: vg.Point{X: vg.Length(p.X) + r, Y: vg.Length(p.Y) + r}}
				if labels[j] != a.text && overlaps(a.box, ring) {
					t.Errorf("trial %d: label %q covers the ring of %q", trial, a.text, labels[j])
				}
			}
		}
	}
}

// TestLegendCorner: the legend goes to the corner the data leave empty.
func TestLegendCorner(t *testing.T) {
	for _, tc := range []struct {
		name string
		xys  plotter.XYs
		want corner
	}{
		{"falling curve: top right is empty", plotter.XYs{{X: 0, Y: 10}, {X: 1, Y: 2}, {X: 2, Y: 1}, {X: 10, Y: 0.5}}, topRight},
		{"rising curve: top left is empty", plotter.XYs{{X: 0, Y: 0.5}, {X: 8, Y: 1}, {X: 9, Y: 2}, {X: 10, Y: 10}}, topLeft},
		{"data along the top", plotter.XYs{{X: 0, Y: 10}, {X: 5, Y: 9.5}, {X: 10, Y: 10}, {X: 10, Y: 0}}, bottomLeft},
	} {
		p, leg := newPlot("t", "x", "y")
		l, sc, err := plotter.NewLinePoints(tc.xys)
		if err != nil {
			t.Fatal(err)
		}
		p.Add(l, sc)
		leg.Add("series one", l, sc)
		leg.Add("series two", l, sc)
		f := &figure{name: "t", plot: p, legend: leg}
		if got := f.legendCorner(); got != tc.want {
			t.Errorf("%s: corner %d, want %d", tc.name, got, tc.want)
		}
		if _, err := f.render("png"); err != nil {
			t.Fatal(err)
		}
	}
}
