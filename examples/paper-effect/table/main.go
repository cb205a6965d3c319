// Command table prints the paper-effect summary of a resq sweep folder: one
// row per MLP size (width x depth) with the float test error and, for each
// bit width, the direct-quantized and retrained errors (mean over seeds), then
// checks the three claims of Sung, Shin and Hwang (2016) on these numbers:
//
//  1. retrained ternary is within -gap points of float at widths >= -wide;
//  2. the float-vs-retrained-ternary gap at the smallest width is clearly
//     larger (by -margin points) than at the widest width >= -wide;
//  3. direct ternary is worse than retrained ternary at every width, by at
//     least -margin points.
//
// Usage:
//
//	go run ./examples/paper-effect/table [-gap 0.4] [-wide 512] [-margin 0.3] DIR
//
// It exits with status 1 when a claim fails and 2 on a usage or read error.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/resq-dev/resq/results"
)

// key identifies one network size.
type key struct{ width, depth int }

// cell accumulates the test errors of one (size, mode, bits) over seeds.
type cell struct {
	sum float64
	n   int
}

func (c cell) mean() float64 {
	if c.n == 0 {
		return math.NaN()
	}
	return c.sum / float64(c.n)
}

// table holds the mean errors per size and "mode/bits" column.
type table struct {
	sizes []key
	bits  []int
	err   map[key]map[string]*cell
}

func col(mode string, bits int) string {
	if mode == "float" {
		return "float"
	}
	return fmt.Sprintf("%s/%d", mode, bits)
}

// build groups the ok MLP records of recs.
func build(recs []results.Record) *table {
	t := &table{err: map[key]map[string]*cell{}}
	bitSet := map[int]bool{}
	for _, r := range recs {
		if r.Status != results.StatusOK || r.Family != "mlp" {
			continue
		}
		k := key{r.Width, r.Depth}
		if t.err[k] == nil {
			t.err[k] = map[string]*cell{}
			t.sizes = append(t.sizes, k)
		}
		c := col(r.Mode, r.Bits)
		if t.err[k][c] == nil {
			t.err[k][c] = &cell{}
		}
		t.err[k][c].sum += r.TestErrPct
		t.err[k][c].n++
		if r.Mode != "float" && !bitSet[r.Bits] {
			bitSet[r.Bits] = true
			t.bits = append(t.bits, r.Bits)
		}
	}
	sort.Slice(t.sizes, func(i, j int) bool {
		if t.sizes[i].depth != t.sizes[j].depth {
			return t.sizes[i].depth < t.sizes[j].depth
		}
		return t.sizes[i].width < t.sizes[j].width
	})
	sort.Ints(t.bits)
	return t
}

func (t *table) get(k key, c string) float64 {
	if e := t.err[k][c]; e != nil {
		return e.mean()
	}
	return math.NaN()
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

// print writes the table as aligned text.
func (t *table) print(w io.Writer) {
	head := []string{"width", "depth", "float"}
	for _, b := range t.bits {
		head = append(head, fmt.Sprintf("direct %db", b), fmt.Sprintf("retrain %db", b))
	}
	fmt.Fprintln(w, "test error, % (mean over seeds)")
	fmt.Fprintln(w, fmtRow(head))
	for _, k := range t.sizes {
		row := []string{fmt.Sprint(k.width), fmt.Sprint(k.depth), pct(t.get(k, "float"))}
		for _, b := range t.bits {
			row = append(row, pct(t.get(k, col("direct", b))), pct(t.get(k, col("retrain", b))))
		}
		fmt.Fprintln(w, fmtRow(row))
	}
}

func fmtRow(cells []string) string {
	var sb strings.Builder
	for i, c := range cells {
		if i < 2 {
			fmt.Fprintf(&sb, "%6s", c)
		} else {
			fmt.Fprintf(&sb, " %11s", c)
		}
	}
	return sb.String()
}

// check evaluates the three claims for every depth and writes one line per
// claim; it reports whether all held. A claim without the cells it needs
// fails.
func (t *table) check(w io.Writer, gap float64, wide int, margin float64) bool {
	ok := true
	say := func(pass bool, format string, a ...any) {
		verdict := "PASS"
		if !pass {
			verdict, ok = "FAIL", false
		}
		fmt.Fprintf(w, "%s  %s\n", verdict, fmt.Sprintf(format, a...))
	}
	depths := map[int][]int{}
	var ds []int
	for _, k := range t.sizes {
		if depths[k.depth] == nil {
			ds = append(ds, k.depth)
		}
		depths[k.depth] = append(depths[k.depth], k.width)
	}
	if len(ds) == 0 {
		say(false, "no ok mlp records")
		return false
	}
	t2 := col("retrain", 2)
	d2 := col("direct", 2)
	for _, d := range ds {
		ws := depths[d]
		// 1. wide networks absorb ternary weights.
		widest := -1
		for _, wd := range ws {
			if wd < wide {
				continue
			}
			widest = wd
			k := key{wd, d}
			g := t.get(k, t2) - t.get(k, "float")
			say(g <= gap, "depth %d width %d: retrained ternary - float = %s points (want <= %.2f)", d, wd, pct(g), gap)
		}
		if widest < 0 {
			say(false, "depth %d: no width >= %d", d, wide)
			continue
		}
		// 2. the smallest network keeps a larger gap.
		small := ws[0]
		gs := t.get(key{small, d}, t2) - t.get(key{small, d}, "float")
		gw := t.get(key{widest, d}, t2) - t.get(key{widest, d}, "float")
		say(gs >= gw+margin, "depth %d: gap at width %d = %s points vs %s at width %d (want larger by >= %.2f)",
			d, small, pct(gs), pct(gw), widest, margin)
		// 3. retraining beats direct quantization everywhere.
		for _, wd := range ws {
			k := key{wd, d}
			diff := t.get(k, d2) - t.get(k, t2)
			say(diff >= margin, "depth %d width %d: direct ternary - retrained ternary = %s points (want >= %.2f)", d, wd, pct(diff), margin)
		}
	}
	return ok
}

func main() {
	gap := flag.Float64("gap", 0.4, "claim 1: largest retrained-ternary minus float gap, points, at wide widths")
	wide := flag.Int("wide", 512, "claim 1: smallest width counted as wide")
	margin := flag.Float64("margin", 0.3, "claims 2 and 3: smallest difference, points, that counts as clearly larger")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: table [-gap 0.4] [-wide 512] [-margin 0.3] SWEEPDIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	recs, err := results.ReadDir(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "table:", err)
		os.Exit(2)
	}
	t := build(recs)
	t.print(os.Stdout)
	fmt.Println()
	if !t.check(os.Stdout, *gap, *wide, *margin) {
		os.Exit(1)
	}
}
