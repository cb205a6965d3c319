package report

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/resq-dev/resq/data"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/resq-dev/resq/internal/atomicfile"
	"github.com/resq-dev/resq/results"
)

// Options tunes Write.
type Options struct {
	Title  string // report heading; "resq sweep report" when empty
	Source string // where the records came from (e.g. the sweep folder), shown in the provenance
	// Budgets of the designer's view: weight memory in bytes (nil:
	// DefaultWeightBudgets) and energy per inference in nJ (nil: decades
	// spanning the measured energies).
	WeightBudgets, EnergyBudgets []float64
}

// Summary is what Write produced: the files and the key numbers a command
// line prints.
type Summary struct {
	Dir        string
	Markdown   string   // report.md
	HTML       string   // report.html
	ResultsCSV string   // results.csv: one row per record
	SummaryCSV string   // summary.csv: one row per (group, size, precision)
	Plots      []string // SVG and PNG files, in figure order
	Records    int      // after merging by ID
	OK, Failed int
	Groups     []GroupSummary
}

// GroupSummary holds the headline numbers of one group.
type GroupSummary struct {
	Name         string
	BestFloatErr float64 // lowest mean float test error over sizes (%, or bits per character when Metric says so); NaN if none
	Metric       string  // the error measure: data.MetricErrorPct or data.MetricBPC
	Gaps         []GapSummary
}

// GapSummary is, for one quantized precision, the gap to float and the ECR
// at the smallest and the largest size where both were measured.
type GapSummary struct {
	Prec              Precision
	Smallest, Largest SizeGap
}

// SizeGap is one size's gap to float and ECR.
type SizeGap struct {
	Size    string  // "w=64"
	Weights int64   // quantizable weights
	GapPct  float64 // quantized minus float mean test error, percentage points
	Noise   Noise   // the gap against seed noise (CompareNoise)
	ECR     string  // Effective.ECRText: "5.12", ">= 9.80", "n/a"
}

// WriteText prints the summary as a few plain lines.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "report: %d records (%d ok, %d failed) -> %s\n", s.Records, s.OK, s.Failed, s.Markdown)
	fmt.Fprintf(&b, "report: html %s, %d plot files, %s, %s\n", s.HTML, len(s.Plots), s.ResultsCSV, s.SummaryCSV)
	for _, g := range s.Groups {
		unit, gapUnit := "%", "pp"
		if g.Metric == data.MetricBPC {
			unit, gapUnit = " bits per character", "bits"
		}
		fmt.Fprintf(&b, "%s: best float error %s%s\n", g.Name, fmtF(g.BestFloatErr, 2), unit)
		for _, q := range g.Gaps {
			fmt.Fprintf(&b, "  %-11s gap %s %s at %s (%s), %s %s at %s (%s); ECR %s at %s, %s at %s\n", q.Prec,
				fmtSigned(q.Smallest.GapPct), gapUnit, q.Smallest.Size, q.Smallest.Noise, fmtSigned(q.Largest.GapPct), gapUnit, q.Largest.Size, q.Largest.Noise,
				q.Smallest.ECR, q.Smallest.Size, q.Largest.ECR, q.Largest.Size)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Write renders the report of recs into dir (created if missing):
// report.md, report.html, results.csv, summary.csv and four figures per
// group as SVG and PNG. recs are merged by ID first (see Merge). The same
// records give byte-identical files.
func Write(dir string, recs []results.Record, opt Options) (*Summary, error) {
	recs = Merge(recs)
	if len(recs) == 0 {
		return nil, fmt.Errorf("report: no records to report")
	}
	if opt.Title == "" {
		opt.Title = "resq sweep report"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %v", err)
	}
	groups := BuildGroups(recs)
	s := &Summary{Dir: dir, Records: len(recs)}
	for _, r := range recs {
		if r.Status == "ok" {
			s.OK++
		} else {
			s.Failed++
		}
	}
	for _, g := range groups {
		s.Groups = append(s.Groups, summarize(g))
	}

	// Figures, as files and as inline SVG for the HTML.
	figs := map[*Group][]renderedFigure{}
	for _, g := range groups {
		fs, err := figures(g)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			svg, err := f.render("svg")
			if err != nil {
				return nil, err
			}
			png, err := f.render("png")
			if err != nil {
				return nil, err
			}
			for _, out := range []struct {
				ext string
				b   []byte
			}{{"svg", svg}, {"png", png}} {
				path := filepath.Join(dir, f.name+"."+out.ext)
				if err := writeFile(path, out.b); err != nil {
					return nil, err
				}
				s.Plots = append(s.Plots, path)
			}
			figs[g] = append(figs[g], renderedFigure{Title: f.title, SVGFile: f.name + ".svg", PNGFile: f.name + ".png", SVG: svg})
		}
	}

	d := buildDoc(opt, groups, recs, figs)
	if err := addDesigner(d, dir, groups, opt, s); err != nil {
		return nil, err
	}
	addCompression(d, groups, opt.WeightBudgets)
	if err := addFaults(d, dir, recs, s); err != nil {
		return nil, err
	}
	s.ResultsCSV = filepath.Join(dir, "results.csv")
	s.SummaryCSV = filepath.Join(dir, "summary.csv")
	s.Markdown = filepath.Join(dir, "report.md")
	s.HTML = filepath.Join(dir, "report.html")
	rc, err := resultsCSV(groups)
	if err != nil {
		return nil, err
	}
	sc, err := summaryCSV(groups)
	if err != nil {
		return nil, err
	}
	html, err := d.html()
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		path string
		b    []byte
	}{{s.ResultsCSV, rc}, {s.SummaryCSV, sc}, {s.Markdown, d.markdown()}, {s.HTML, html}} {
		if err := writeFile(f.path, f.b); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func writeFile(path string, b []byte) error {
	err := atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("report: %v", err)
	}
	return nil
}

func summarize(g *Group) GroupSummary {
	gs := GroupSummary{Name: g.Name, BestFloatErr: math.NaN(), Metric: data.MetricFor(g.Dataset)}
	for _, c := range g.Cells {
		if c.Prec.IsFloat() && c.OK > 0 && !(c.MeanErr >= gs.BestFloatErr) {
			gs.BestFloatErr = c.MeanErr
		}
	}
	for _, p := range g.Precs {
		if p.IsFloat() {
			continue
		}
		var have []*Cell
		for _, c := range g.Cells {
			if c.Prec == p && !math.IsNaN(c.GapPct) {
				have = append(have, c)
			}
		}
		if len(have) == 0 {
			continue
		}
		sg := func(c *Cell) SizeGap {
			return SizeGap{Size: c.Size.Label, Weights: c.Size.Weights, GapPct: c.GapPct, Noise: c.GapNoise, ECR: c.Eff.ECRText()}
		}
		gs.Gaps = append(gs.Gaps, GapSummary{Prec: p, Smallest: sg(have[0]), Largest: sg(have[len(have)-1])})
	}
	return gs
}

// fmtF formats v with prec decimals; "" for NaN.
func fmtF(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func fmtSigned(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	if v >= 0 {
		return "+" + strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func canonicalJSON(v any) string {
	b, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	return string(b)
}

func resultsCSV(groups []*Group) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"group", "id", "status", "reason", "resq_version", "dataset", "dataset_checksum", "model", "family",
		"width", "depth", "scale", "mode", "bits", "seed", "weights", "params", "stored_bytes", "test_error_pct",
		"val_error_pct", "train_seconds", "eval_seconds", "n_eff", "n_eff_range", "ecr", "nominal_ratio", "config",
		"sparsity", "layer_sparsity", "bits_per_layer"})
	for _, g := range groups {
		for _, r := range g.Records {
			eff := Effective{NEff: math.NaN(), Range: RangeNone, ECR: math.NaN()}
			nom := ""
			if r.Mode != results.ModeFloat && r.Bits > 0 {
				nom = fmtF(Nominal(r.Bits), 4)
				if r.Status == "ok" {
					eff = Effect(g.Float, r.TestErrPct, r.StoredBytes)
				}
			}
			w.Write([]string{g.Name, r.ID, r.Status, oneLine(r.Reason), r.Version, r.Dataset, r.DatasetChecksum, r.Model, r.Family,
				strconv.Itoa(r.Width), strconv.Itoa(r.Depth), strconv.FormatFloat(r.Scale, 'g', -1, 64), r.Mode,
				strconv.Itoa(r.Bits), strconv.FormatUint(r.Seed, 10), strconv.FormatInt(r.Weights, 10),
				strconv.FormatInt(r.Params, 10), strconv.FormatInt(r.StoredBytes, 10),
				strconv.FormatFloat(r.TestErrPct, 'g', -1, 64), strconv.FormatFloat(r.ValErrPct, 'g', -1, 64),
				strconv.FormatFloat(r.TrainSeconds, 'f', 3, 64), strconv.FormatFloat(r.EvalSeconds, 'f', 3, 64),
				fmtF(eff.NEff, 0), rangeText(eff.Range, r.Mode), fmtF(eff.ECR, 4), nom, canonicalJSON(r.Config),
				strconv.FormatFloat(r.Sparsity, 'g', -1, 64), joinFloats(r.LayerSparsity), joinInts(r.BitsPerLayer)})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("report: results.csv: %v", err)
	}
	return buf.Bytes(), nil
}

// rangeText leaves the range empty for float rows (no ECR is computed for
// them).
func rangeText(r Range, mode string) string {
	if mode == results.ModeFloat {
		return ""
	}
	return string(r)
}

func summaryCSV(groups []*Group) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"group", "size", "size_value", "weights", "mode", "bits", "seeds_ok", "seeds_failed",
		"test_error_mean_pct", "test_error_std_pct", "gap_to_float_pp", "stored_bytes", "n_eff", "n_eff_range",
		"ecr", "ecr_text", "nominal_ratio", "failure_reasons", "gap_noise_bound_pp", "gap_within_noise", "gap_noise_thin",
		"sparsity", "bits_per_layer"})
	for _, g := range groups {
		for _, c := range g.Cells {
			nom := ""
			rng := ""
			bound, within, thin := "", "", ""
			if !math.IsNaN(c.GapPct) {
				bound = fmtF(c.GapNoise.Bound, 4)
				within = strconv.FormatBool(c.GapNoise.Within)
				thin = strconv.FormatBool(c.GapNoise.Thin)
			}
			if !c.Prec.IsFloat() {
				nom = fmtF(Nominal(c.Prec.Bits), 4)
				rng = string(c.Eff.Range)
			}
			w.Write([]string{g.Name, c.Size.Label, strconv.FormatFloat(c.Size.Value, 'g', -1, 64),
				strconv.FormatInt(c.Size.Weights, 10), c.Prec.Mode, strconv.Itoa(c.Prec.Bits),
				strconv.Itoa(c.OK), strconv.Itoa(c.Failed), fmtF(c.MeanErr, 4), fmtF(c.StdErr, 4),
				fmtF(c.GapPct, 4), strconv.FormatInt(c.StoredBytes, 10), fmtF(c.Eff.NEff, 0), rng,
				fmtF(c.Eff.ECR, 4), ecrText(c), nom, oneLine(strings.Join(c.Reasons, "; ")), bound, within, thin,
				strconv.FormatFloat(c.Prec.Sparsity, 'g', -1, 64), c.Prec.Alloc})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("report: summary.csv: %v", err)
	}
	return buf.Bytes(), nil
}

func ecrText(c *Cell) string {
	if c.Prec.IsFloat() {
		return ""
	}
	return c.Eff.ECRText()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

type renderedFigure struct {
	Title   string
	SVGFile string
	PNGFile string
	SVG     []byte
}

func (f renderedFigure) dataURI() string {
	return "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(f.SVG)
}

// provenance lists the distinct values of a record field, sorted.
func distinct(recs []results.Record, f func(r *results.Record) string) []string {
	set := map[string]bool{}
	for i := range recs {
		if v := f(&recs[i]); v != "" {
			set[v] = true
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// configSummary returns, per mode, the config keys whose value is the same
// in every record of that mode (as canonical JSON) and the keys that vary.
func configSummary(recs []results.Record) (modes []string, constant map[string]string, varying map[string][]string) {
	constant, varying = map[string]string{}, map[string][]string{}
	byMode := map[string][]map[string]any{}
	for _, r := range recs {
		byMode[r.Mode] = append(byMode[r.Mode], r.Config)
	}
	for m := range byMode {
		modes = append(modes, m)
	}
	sort.Slice(modes, func(i, j int) bool {
		if modeRank(modes[i]) != modeRank(modes[j]) {
			return modeRank(modes[i]) < modeRank(modes[j])
		}
		return modes[i] < modes[j]
	})
	for _, m := range modes {
		cfgs := byMode[m]
		keys := map[string]bool{}
		for _, c := range cfgs {
			for k := range c {
				keys[k] = true
			}
		}
		same := map[string]any{}
		var vary []string
		for k := range keys {
			first, ok := cfgs[0][k]
			v0 := canonicalJSON(first)
			eq := ok
			for _, c := range cfgs[1:] {
				v, ok := c[k]
				if !ok || canonicalJSON(v) != v0 {
					eq = false
					break
				}
			}
			if eq {
				same[k] = first
			} else {
				vary = append(vary, k)
			}
		}
		sort.Strings(vary)
		constant[m] = canonicalJSON(same)
		varying[m] = vary
	}
	return modes, constant, varying
}
