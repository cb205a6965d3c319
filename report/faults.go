package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot/plotter"

	"github.com/resq-dev/resq/results"
)

// faultTolerance is the mean-error increase (percentage points) a
// tolerated bit error rate may cost (faults.Tolerance).
const faultTolerance = 0.5

// faultRow is one network (model, precision) under one protection: its
// seeds' fault curves averaged per rate.
type faultRow struct {
	model, protection string
	family            string
	size              float64
	prec              Precision
	faultFree         Spread    // over seeds
	bers              []float64 // rates, as recorded
	mean              []Spread  // per rate: the seeds' mean errors over their trials
	broken            []float64 // per rate: mean broken fraction
	extraBits         int64
	storedBits        int64
	tolerated         float64
}

// faultRows collects the fault curves of the ok records, one row per
// model, precision and protection, in record order of first appearance.
func faultRows(recs []results.Record) []*faultRow {
	type key struct {
		model, prot string
		prec        Precision
	}
	idx := map[key]*faultRow{}
	var rows []*faultRow
	vals := map[*faultRow][][]float64{}
	ff := map[*faultRow][]float64{}
	for i := range recs {
		r := &recs[i]
		if r.Status != results.StatusOK || r.Faults == nil {
			continue
		}
		for _, c := range r.Faults.Curves {
			k := key{r.Model, c.Protection, precOf(r)}
			row := idx[k]
			if row == nil {
				row = &faultRow{model: r.Model, protection: c.Protection, family: r.Family, size: sizeOf(r), prec: k.prec,
					extraBits: c.ExtraBits, storedBits: r.Faults.StoredBits}
				for _, p := range c.Points {
					row.bers = append(row.bers, p.BER)
				}
				vals[row] = make([][]float64, len(row.bers))
				row.broken = make([]float64, len(row.bers))
				idx[k] = row
				rows = append(rows, row)
			}
			if len(c.Points) != len(row.bers) {
				continue // another rate list (an edited spec): not averaged together
			}
			ff[row] = append(ff[row], r.Faults.FaultFreeErrPct)
			for j, p := range c.Points {
				vals[row][j] = append(vals[row][j], p.MeanErrPct)
				row.broken[j] += p.BrokenFrac
			}
		}
	}
	for _, row := range rows {
		row.faultFree = NewSpread(ff[row])
		for j, v := range vals[row] {
			row.mean = append(row.mean, NewSpread(v))
			row.broken[j] /= float64(max(1, len(v)))
		}
		row.tolerated = toleratedBER(row.bers, row.mean, row.faultFree.Mean)
	}
	return rows
}

// toleratedBER is the largest rate such that it and every smaller rate
// have a mean error within faultTolerance of the fault-free error.
func toleratedBER(bers []float64, mean []Spread, faultFree float64) float64 {
	bad := math.Inf(1)
	for j, m := range mean {
		if !(m.Mean <= faultFree+faultTolerance) { // NaN (no seeds) is not tolerated
			bad = math.Min(bad, bers[j])
		}
	}
	best := 0.0
	for _, b := range bers {
		if b < bad && b > best {
			best = b
		}
	}
	return best
}

func berLabel(b float64) string {
	if b == 0 {
		return "none"
	}
	return strconv.FormatFloat(b, 'g', 3, 64)
}

// faultsSection is the report's bit-error section: per network and
// protection the mean test error at each rate and the tolerated rate,
// and a plot of error against rate (protection none).
func faultsSection(rows []*faultRow, figs []renderedFigure) section {
	sec := section{Heading: "Bit errors in weight memory", Figures: figs, Paras: []string{
		"Each stored bit of a cell's weights (the packed model's codes, steps and biases; float cells: the float32 parameters) flips independently at the bit error rate (BER); the test set is run once per trial. " +
			"An error is the mean over the trials, then over seeds (± the seeds' standard deviation). " +
			fmt.Sprintf("The tolerated BER is the largest rate at which, and at every smaller rate, the mean error stays within %.1f percentage points of the fault-free error: the rate a supply voltage or an ECC decision can be set by. ", faultTolerance) +
			"Broken: the fraction of trials at chance level or with non-finite logits. Protections and their stored-bit costs are described in package faults."}}
	byBER := map[string]bool{}
	for _, r := range rows {
		byBER[fmt.Sprint(r.bers)] = true
	}
	var bers []float64
	if len(rows) > 0 {
		bers = rows[0].bers
	}
	head := []string{"model", "precision", "protection", "extra bits", "fault-free"}
	for _, b := range bers {
		head = append(head, "BER "+berLabel(b))
	}
	head = append(head, "tolerated BER", "broken at the largest BER")
	t := table{Caption: "Test error (%) against the bit error rate", Head: head}
	tol := table{Caption: "Tolerated bit error rate per network and precision (protection none)", Head: []string{"model", "precision", "fault-free", "tolerated BER"}}
	for _, r := range rows {
		if len(r.bers) != len(bers) {
			continue
		}
		line := []string{r.model, r.prec.String(), r.protection, fmt.Sprintf("%d (%.2f%%)", r.extraBits, 100*float64(r.extraBits)/float64(max(1, r.storedBits))), r.faultFree.String()}
		for _, m := range r.mean {
			line = append(line, fmtF(m.Mean, 2))
		}
		line = append(line, berLabel(r.tolerated), fmtF(100*r.broken[len(r.broken)-1], 0)+"%")
		t.Rows = append(t.Rows, line)
		if r.protection == "none" {
			tol.Rows = append(tol.Rows, []string{r.model, r.prec.String(), r.faultFree.String(), berLabel(r.tolerated)})
		}
	}
	if len(byBER) > 1 {
		t.Note = "Cells with another list of rates (an edited spec) are left out of this table."
	}
	sec.Tables = []table{tol, t}
	return sec
}

// faultsFigure plots the mean error against the rate (log-log), one line
// per network and precision, protection none.
func faultsFigure(rows []*faultRow) (*figure, error) {
	p, leg := newPlot("Test error against bit error rate (no protection)", "bit error rate", "test error (%)")
	xlo, xhi, ylo, yhi := math.Inf(1), 0.0, math.Inf(1), 0.0
	n := 0
	for _, r := range rows {
		if r.protection != "none" {
			continue
		}
		var xy plotter.XYs
		for j, b := range r.bers {
			if b > 0 && r.mean[j].Mean > 0 {
				xy = append(xy, plotter.XY{X: b, Y: r.mean[j].Mean})
				xlo, xhi = math.Min(xlo, b), math.Max(xhi, b)
				ylo, yhi = math.Min(ylo, r.mean[j].Mean), math.Max(yhi, r.mean[j].Mean)
			}
		}
		if len(xy) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("report: faults figure: %v", err)
		}
		styleLine(l, s, r.prec)
		p.Add(l, s)
		leg.Add(sizeLabel(r.family, r.size)+" "+shortPrec(r.prec), l, s)
		n++
	}
	if n == 0 {
		return nil, nil
	}
	setLog(&p.X, xlo, xhi)
	setLog(&p.Y, ylo, yhi)
	return &figure{name: "faults_error-vs-ber", title: "Test error against the bit error rate of the weight memory (mean over trials and seeds, no protection)", plot: p, legend: leg}, nil
}

// faultsCSV is faults.csv: one line per network, protection and rate.
func faultsCSV(rows []*faultRow) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"model", "mode", "bits", "protection", "extra_bits", "seeds", "fault_free_error_pct", "ber", "mean_error_pct", "std_error_pct", "broken_frac", "tolerated_ber"})
	for _, r := range rows {
		for j, ber := range r.bers {
			_ = w.Write([]string{r.model, r.prec.Mode, strconv.Itoa(r.prec.Bits), r.protection, strconv.FormatInt(r.extraBits, 10),
				strconv.Itoa(r.faultFree.N), fmtF(r.faultFree.Mean, 4), strconv.FormatFloat(ber, 'g', -1, 64),
				fmtF(r.mean[j].Mean, 4), fmtF(r.mean[j].Std, 4), fmtF(r.broken[j], 4), strconv.FormatFloat(r.tolerated, 'g', -1, 64)})
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// addFaults adds the bit-error section, its figure and faults.csv when
// records carry fault experiments; it does nothing otherwise.
func addFaults(d *doc, dir string, recs []results.Record, s *Summary) error {
	rows := faultRows(recs)
	if len(rows) == 0 {
		return nil
	}
	f, err := faultsFigure(rows)
	if err != nil {
		return err
	}
	var rendered []renderedFigure
	if f != nil {
		for _, ext := range []string{"svg", "png"} {
			b, err := f.render(ext)
			if err != nil {
				return err
			}
			path := filepath.Join(dir, f.name+"."+ext)
			if err := writeFile(path, b); err != nil {
				return err
			}
			s.Plots = append(s.Plots, path)
			if ext == "svg" {
				rendered = append(rendered, renderedFigure{Title: f.title, SVGFile: f.name + ".svg", PNGFile: f.name + ".png", SVG: b})
			}
		}
	}
	c, err := faultsCSV(rows)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "faults.csv"), c); err != nil {
		return err
	}
	d.insertBeforeFailed(faultsSection(rows, rendered))
	return nil
}
