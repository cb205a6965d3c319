package report

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/resq-dev/resq/results"
)

// doc is the report's content, rendered both as Markdown and as HTML so the
// two never disagree.
type doc struct {
	Title    string
	Intro    []string
	Sections []section
}

type section struct {
	Heading string
	Paras   []string
	Tables  []table
	Figures []renderedFigure
	Bullets []string
}

type table struct {
	Caption string
	Head    []string
	Rows    [][]string
	Note    string
}

const readingText = `How to read this report. Each group is one family of networks sharing a float baseline: an MLP depth, or a CNN base network whose feature maps are scaled. Within a group the size grows with the number of quantizable weights. "float" is the network trained in 32-bit float; "direct Nb" quantizes those float weights to N bits with no further training; "retrain Nb" retrains with the weights quantized to N bits. Test errors are means over seeds ± the sample standard deviation, with the seed count. "gap" is the quantized error minus the float error of the same size, in percentage points; it is marked "within noise" when it is smaller than twice the larger of the two points' seed standard deviations, and "< 3 seeds" follows the verdict when either point has fewer than 3 seeds to judge by (with one seed the standard deviation is 0, so nothing is within noise). Stored bytes are the exact bytes of the packed model: weight codes at N bits, the step sizes, and the float biases (4 bytes per parameter for float).`

const ecrText1 = `Effective compression ratio (ECR). The float errors of a group are averaged over seeds per size, made monotone non-increasing in the number of weights by pool-adjacent-violators (isotonic regression, weighted by seed count), and interpolated piecewise-linearly in log(#weights). A quantized network with error e has N_eff, the smallest float weight count whose fitted error is at most e (on a flat stretch of the curve, its left end), and ECR = 32·N_eff / (8·stored bytes). The nominal ratio 32/b is what ECR would be if quantization cost nothing and stored nothing besides b-bit codes; an ECR near 32/b means the precision was free, an ECR well below it means a float network of fewer weights would have done as well in less memory.`

const ecrText2 = `Out of range. When e is lower than the best float error of the group, N_eff lies beyond the largest float network measured: the table shows "above" and ECR as a lower bound ">= x" computed with the largest float size. When e is higher than the worst float error, N_eff lies below the smallest float network: "below" and an upper bound "<= x". Nothing is extrapolated.`

func buildDoc(opt Options, groups []*Group, recs []results.Record, figs map[*Group][]renderedFigure) *doc {
	d := &doc{Title: opt.Title}
	ok, failed := 0, 0
	for _, r := range recs {
		if r.Status == "ok" {
			ok++
		} else {
			failed++
		}
	}
	intro := fmt.Sprintf("%d records (%d ok, %d failed) in %d group(s).", len(recs), ok, failed, len(groups))
	if opt.Source != "" {
		intro = "Source: " + opt.Source + ". " + intro
	}
	d.Intro = []string{intro}
	d.Sections = append(d.Sections, section{Heading: "Reading this report", Paras: []string{readingText, ecrText1, ecrText2}})

	// Key numbers.
	key := table{Caption: "Gap to float and ECR at the smallest and the largest size measured",
		Head: []string{"group", "precision", "nominal 32/b", "smallest size", "gap (pp)", "ECR", "largest size", "gap (pp)", "ECR"},
		Note: "Each gap is followed by its verdict against seed noise (see Reading this report)."}
	for _, g := range groups {
		gs := summarize(g)
		for _, q := range gs.Gaps {
			key.Rows = append(key.Rows, []string{g.Name, q.Prec.String(), fmtF(Nominal(q.Prec.Bits), 2),
				q.Smallest.Size, fmtSigned(q.Smallest.GapPct) + ", " + q.Smallest.Noise.String(), q.Smallest.ECR,
				q.Largest.Size, fmtSigned(q.Largest.GapPct) + ", " + q.Largest.Noise.String(), q.Largest.ECR})
		}
	}
	if len(key.Rows) > 0 {
		d.Sections = append(d.Sections, section{Heading: "Key numbers", Tables: []table{key}})
	}

	for _, g := range groups {
		d.Sections = append(d.Sections, groupSection(g, figs[g]))
	}

	// Failed cells.
	ft := table{Head: []string{"group", "size", "precision", "seed", "id", "reason"}}
	for _, g := range groups {
		for _, r := range g.Records {
			if r.Status == "ok" {
				continue
			}
			reason := oneLine(r.Reason)
			if reason == "" {
				reason = "(no reason recorded)"
			}
			ft.Rows = append(ft.Rows, []string{g.Name, sizeLabel(r.Family, sizeOf(&r)), precOf(&r).String(),
				strconv.FormatUint(r.Seed, 10), shortID(r.ID), reason})
		}
	}
	fs := section{Heading: "Failed cells"}
	if len(ft.Rows) == 0 {
		fs.Paras = []string{"None: every cell finished."}
	} else {
		fs.Paras = []string{"These runs ended without a result; they are left out of every mean, curve and ratio above."}
		fs.Tables = []table{ft}
	}
	d.Sections = append(d.Sections, fs)
	d.Sections = append(d.Sections, provenance(recs))
	return d
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func groupSection(g *Group, figs []renderedFigure) section {
	s := section{Heading: "Group: " + g.Name}
	if bpcGroup(g) {
		s.Paras = append(s.Paras, "Error measure of this group: bits per character (the mean cross-entropy of the next-character predictions on the test split, in bits), in place of the percent of wrong classes in every error column, gap (in bits per character instead of percentage points), N_eff and ECR.")
	}
	if g.Float == nil {
		s.Paras = append(s.Paras, "No float network of this group finished, so there is no float curve: gaps, N_eff and ECR are not available.")
	} else {
		fc := table{Caption: "Float curve (the reference for N_eff)", Head: []string{"weights", "seeds", "test error, mean ± std", "monotone fit (%)"}}
		pooled := false
		for _, p := range g.Float.Points {
			errText := fmtF(p.ErrPct, 2)
			for _, c := range g.Cells {
				if c.Prec.IsFloat() && c.Size.Weights == p.Weights && c.OK == p.Count {
					errText = c.Spread().String()
				}
			}
			fc.Rows = append(fc.Rows, []string{strconv.FormatInt(p.Weights, 10), strconv.Itoa(p.Count), errText, fmtF(p.FitPct, 2)})
			if p.FitPct != p.ErrPct {
				pooled = true
			}
		}
		if pooled {
			fc.Note = "Some float errors rose with size; pool-adjacent-violators averaged them into flat stretches."
		}
		s.Tables = append(s.Tables, fc)
	}
	mt := table{Caption: "Test error, memory and effective compression per size and precision",
		Head: []string{"size", "weights", "precision", "seeds ok/failed", "test error, mean ± std", "gap (pp)", "gap vs seed noise", "stored bytes", "ECR", "32/b", "N_eff", "N_eff range"}}
	for _, c := range g.Cells {
		errText := "failed"
		if c.OK > 0 {
			errText = c.Spread().String()
		}
		row := []string{c.Size.Label, strconv.FormatInt(c.Size.Weights, 10), c.Prec.String(),
			fmt.Sprintf("%d/%d", c.OK, c.Failed), errText, "", "", "", "", "", "", ""}
		if c.OK > 0 {
			row[7] = strconv.FormatInt(c.StoredBytes, 10)
		}
		if !c.Prec.IsFloat() {
			if !math.IsNaN(c.GapPct) {
				row[5] = fmtSigned(c.GapPct)
				row[6] = c.GapNoise.String()
			}
			row[9] = fmtF(Nominal(c.Prec.Bits), 2)
			if c.OK > 0 {
				row[8] = c.Eff.ECRText()
				row[10] = c.Eff.NEffText()
				row[11] = string(c.Eff.Range)
			}
		}
		mt.Rows = append(mt.Rows, row)
	}
	s.Tables = append(s.Tables, mt)
	if front := Pareto(g); len(front) > 0 {
		pt := table{Caption: "Pareto front: the least memory for each error level", Head: []string{"stored bytes", "size", "precision", "test error, mean ± std"}}
		for _, c := range front {
			pt.Rows = append(pt.Rows, []string{strconv.FormatInt(c.StoredBytes, 10), c.Size.Label, c.Prec.String(), c.Spread().String()})
		}
		s.Tables = append(s.Tables, pt)
	}
	s.Figures = figs
	return s
}

func provenance(recs []results.Record) section {
	s := section{Heading: "Provenance"}
	list := func(vs []string) string {
		if len(vs) == 0 {
			return "(not recorded)"
		}
		return strings.Join(vs, ", ")
	}
	s.Bullets = append(s.Bullets,
		"resq version(s): "+list(distinct(recs, func(r *results.Record) string { return r.Version })),
		"dataset(s) and checksum(s): "+list(distinct(recs, func(r *results.Record) string {
			if r.DatasetChecksum == "" {
				return r.Dataset
			}
			return r.Dataset + " " + r.DatasetChecksum
		})),
		"seeds: "+list(seedsOf(recs)),
		"models: "+list(naturalSorted(distinct(recs, func(r *results.Record) string { return r.Model }))),
	)
	modes, constant, varying := configSummary(recs)
	ct := table{Caption: "Configs: the settings shared by every record of a mode, and the ones that vary between its cells", Head: []string{"mode", "shared settings", "varies"}}
	for _, m := range modes {
		ct.Rows = append(ct.Rows, []string{m, constant[m], strings.Join(varying[m], ", ")})
	}
	s.Tables = []table{ct}
	s.Paras = []string{"Every record carries its full resolved config and content address in results.csv."}
	return s
}

// naturalSorted sorts strings with digit runs compared as numbers, so
// "mlp:784-32x2-10" comes before "mlp:784-128x2-10".
func naturalSorted(ss []string) []string {
	sort.SliceStable(ss, func(i, j int) bool { return naturalLess(ss[i], ss[j]) })
	return ss
}

func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// seedsOf returns the distinct seeds of recs in numeric order.
func seedsOf(recs []results.Record) []string {
	set := map[uint64]bool{}
	for _, r := range recs {
		set[r.Seed] = true
	}
	seeds := make([]uint64, 0, len(set))
	for v := range set {
		seeds = append(seeds, v)
	}
	sort.Slice(seeds, func(i, j int) bool { return seeds[i] < seeds[j] })
	out := make([]string, len(seeds))
	for i, v := range seeds {
		out[i] = strconv.FormatUint(v, 10)
	}
	return out
}

// markdown renders the document as GitHub-flavoured Markdown. Figures link
// the PNG files written beside report.md.
func (d *doc) markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", mdEscape(d.Title))
	for _, p := range d.Intro {
		fmt.Fprintf(&b, "%s\n\n", mdEscape(p))
	}
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "## %s\n\n", mdEscape(s.Heading))
		for _, p := range s.Paras {
			fmt.Fprintf(&b, "%s\n\n", mdEscape(p))
		}
		for _, l := range s.Bullets {
			fmt.Fprintf(&b, "- %s\n", mdEscape(l))
		}
		if len(s.Bullets) > 0 {
			b.WriteString("\n")
		}
		for _, t := range s.Tables {
			if t.Caption != "" {
				fmt.Fprintf(&b, "**%s**\n\n", mdEscape(t.Caption))
			}
			b.WriteString("|")
			for _, h := range t.Head {
				fmt.Fprintf(&b, " %s |", mdCell(h))
			}
			b.WriteString("\n|")
			for range t.Head {
				b.WriteString("---|")
			}
			b.WriteString("\n")
			for _, r := range t.Rows {
				b.WriteString("|")
				for _, c := range r {
					fmt.Fprintf(&b, " %s |", mdCell(c))
				}
				b.WriteString("\n")
			}
			b.WriteString("\n")
			if t.Note != "" {
				fmt.Fprintf(&b, "%s\n\n", mdEscape(t.Note))
			}
		}
		for _, f := range s.Figures {
			fmt.Fprintf(&b, "![%s](%s) ([SVG](%s))\n\n", mdEscape(f.Title), f.PNGFile, f.SVGFile)
		}
	}
	return b.Bytes()
}

// mdEscape escapes the characters that would start Markdown markup inside
// running text. Underscores inside words (N_eff) and "<" not followed by a
// tag-like character (<= 3.2) are left alone: they are not markup.
func mdEscape(s string) string {
	s = oneLine(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '*', '`', '[', ']':
			b.WriteByte('\\')
		case '_':
			if !(i > 0 && isWord(s[i-1]) && i+1 < len(s) && isWord(s[i+1])) {
				b.WriteByte('\\')
			}
		case '<':
			if i+1 < len(s) && (isWord(s[i+1]) || s[i+1] == '/' || s[i+1] == '!' || s[i+1] == '?') {
				b.WriteString("&lt;")
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func mdCell(s string) string {
	return strings.ReplaceAll(mdEscape(s), "|", `\|`)
}

const htmlTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", "Liberation Sans", Arial, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; border-bottom: 2px solid #ddd; padding-bottom: .3em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #eee; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .88em; }
caption { text-align: left; font-weight: 600; padding: .3em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.text { text-align: left; }
tbody tr:nth-child(even) { background: #fafafa; }
td.code { text-align: left; max-width: 40em; word-break: break-word; font-family: ui-monospace, "Liberation Mono", monospace; font-size: .92em; }
figure { margin: 1em 0 2em; }
figure img { width: 100%; max-width: 960px; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9em; color: #555; }
p.note { font-size: .9em; color: #555; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{range .Intro}}<p>{{.}}</p>
{{end}}{{range .Sections}}<section>
<h2>{{.Heading}}</h2>
{{range .Paras}}<p>{{.}}</p>
{{end}}{{if .Bullets}}<ul>
{{range .Bullets}}<li>{{.}}</li>
{{end}}</ul>
{{end}}{{range .Tables}}<table>
{{if .Caption}}<caption>{{.Caption}}</caption>
{{end}}<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td class="{{cellClass .}}">{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{if .Note}}<p class="note">{{.Note}}</p>
{{end}}{{end}}{{range .Figures}}<figure>
<img src="{{dataURI .}}" alt="{{.Title}}" width="768" height="432">
<figcaption>{{.Title}} (files: {{.SVGFile}}, {{.PNGFile}})</figcaption>
</figure>
{{end}}</section>
{{end}}</body>
</html>
`

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"dataURI":   func(f renderedFigure) template.URL { return template.URL(f.dataURI()) },
	"cellClass": cellClass,
}).Parse(htmlTemplate))

// cellClass picks a table cell's alignment: numbers (and bounds like
// "<= 3.2", gaps like "+0.42", "12.1 ± 0.3") right, configs as code, the
// rest left.
func cellClass(s string) string {
	if strings.HasPrefix(s, "{") {
		return "code"
	}
	t := strings.TrimLeft(s, "<>=+- ")
	if t != "" && t[0] >= '0' && t[0] <= '9' {
		return "num"
	}
	return "text"
}

// html renders the self-contained report: figures are inline data: URIs,
// styles are inline, and nothing is loaded from elsewhere.
func (d *doc) html() ([]byte, error) {
	var b bytes.Buffer
	if err := htmlTmpl.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("report: report.html: %v", err)
	}
	return b.Bytes(), nil
}

// insertBeforeFailed adds sec to the document just before its "Failed
// cells" section (at the end when there is none).
func (d *doc) insertBeforeFailed(sec section) {
	at := slices.IndexFunc(d.Sections, func(x section) bool { return x.Heading == "Failed cells" })
	if at < 0 {
		at = len(d.Sections)
	}
	d.Sections = slices.Insert(d.Sections, at, sec)
}
