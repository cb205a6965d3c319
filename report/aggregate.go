package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/resq-dev/resq/results"
)

// Precision is one weight precision of a sweep: float, or a mode (direct,
// retrain) at a bit width.
type Precision struct {
	Mode string // "float", "direct", "retrain"
	Bits int    // 32 for float; the widest layer of a per-layer allocation
	// Alloc is a per-layer bit allocation ("8,2,2,8"; "" for uniform
	// bits) and Sparsity the fraction of pruned weights (0: unpruned).
	Alloc    string
	Sparsity float64
}

// String returns "float", "direct 2b", "retrain 3b", "retrain 8,2,2,8b",
// "retrain 2b s=0.9".
func (p Precision) String() string {
	if p.Mode == results.ModeFloat {
		return results.ModeFloat
	}
	s := fmt.Sprintf("%s %db", p.Mode, p.Bits)
	if p.Alloc != "" {
		s = fmt.Sprintf("%s %sb", p.Mode, p.Alloc)
	}
	if p.Sparsity > 0 {
		s += " s=" + strconv.FormatFloat(p.Sparsity, 'g', -1, 64)
	}
	return s
}

// IsFloat reports whether p is the unquantized baseline.
func (p Precision) IsFloat() bool { return p.Mode == results.ModeFloat }

// less orders float first, then by bits, then direct before retrain.
func (p Precision) less(q Precision) bool {
	if p.IsFloat() != q.IsFloat() {
		return p.IsFloat()
	}
	if p.Bits != q.Bits {
		return p.Bits < q.Bits
	}
	if p.Alloc != q.Alloc {
		return p.Alloc < q.Alloc
	}
	if p.Sparsity != q.Sparsity {
		return p.Sparsity < q.Sparsity
	}
	return modeRank(p.Mode) < modeRank(q.Mode) || (modeRank(p.Mode) == modeRank(q.Mode) && p.Mode < q.Mode)
}

func modeRank(m string) int {
	switch m {
	case results.ModeFloat:
		return 0
	case results.ModeDirect:
		return 1
	case results.ModeRetrain:
		return 2
	}
	return 3
}

// Cell is one (size, precision) entry of a group, aggregated over seeds.
type Cell struct {
	Size        Size
	Prec        Precision
	Seeds       []uint64 // seeds of the ok records, ascending
	OK, Failed  int
	Reasons     []string // distinct failure reasons, sorted
	MeanErr     float64  // mean test error (%) over ok seeds; NaN if none
	StdErr      float64  // sample standard deviation (n-1); 0 for one seed, NaN if none
	GapPct      float64  // MeanErr minus the float cell's MeanErr at this size (percentage points); NaN if either is missing
	GapNoise    Noise    // CompareNoise of this cell against the float cell at this size; meaningful only when GapPct is not NaN
	StoredBytes int64    // stored bytes (mean over ok seeds, rounded; they are equal for one cell)
	Eff         Effective
}

// Size is one network size of a group: the MLP width or the CNN
// feature-map multiplier, with its quantizable weight count.
type Size struct {
	Value   float64 // width (mlp) or scale (cnn)
	Label   string  // "w=256" or "x0.5"
	Weights int64   // quantizable weights; 0 if no record of this size succeeded
}

// Group is the set of networks sharing one float curve: one dataset, family
// and MLP depth, or one dataset and CNN base network. Records of such a set
// computed differently (another cell ID format or initialisation, see
// variantOf) form separate groups, named with the difference:
// "mnist mlp depth 3 (id format 1)".
type Group struct {
	Name    string // "mnist mlp depth 2"
	Slug    string // file-name safe: "mnist-mlp-d2"
	Dataset string
	Family  string
	Depth   int    // mlp
	Base    string // cnn base spec from Config["base"], when present
	Float   *FloatCurve
	Sizes   []Size      // ascending
	Precs   []Precision // float first
	Cells   []*Cell     // by size, then precision
	Records []results.Record
}

// Cell returns the cell of (size, precision) or nil.
func (g *Group) Cell(size float64, p Precision) *Cell {
	for _, c := range g.Cells {
		if c.Size.Value == size && c.Prec == p {
			return c
		}
	}
	return nil
}

type groupKey struct {
	dataset, family string
	depth           int
	base            string
	variant         string // set only when records of one group were computed differently (variantOf)
}

// variantOf names what a record's computation depends on beyond its group,
// size, precision and seed: the cell ID format (bumped when a default
// changes) and the initialisation. Records of one group that differ in it
// are never averaged together: they become groups of their own.
func variantOf(r *results.Record) string {
	var parts []string
	if f, ok := r.Config["id_format"]; ok {
		parts = append(parts, fmt.Sprintf("id format %v", f))
	}
	if v, ok := r.Config["init"].(string); ok && v != "" {
		parts = append(parts, "init "+v)
	}
	return strings.Join(parts, ", ")
}

func keyOf(r *results.Record) groupKey {
	k := groupKey{dataset: r.Dataset, family: r.Family}
	if r.Family == "cnn" {
		if b, ok := r.Config["base"].(string); ok {
			k.base = b
		}
	} else {
		k.depth = r.Depth
	}
	return k
}

func sizeOf(r *results.Record) float64 {
	if r.Family == "cnn" {
		return r.Scale
	}
	return float64(r.Width)
}

func precOf(r *results.Record) Precision {
	if r.Mode == results.ModeFloat {
		return Precision{Mode: results.ModeFloat, Bits: 32}
	}
	p := Precision{Mode: r.Mode, Bits: r.Bits, Sparsity: r.Sparsity}
	if len(r.BitsPerLayer) > 0 {
		b := make([]string, len(r.BitsPerLayer))
		for i, v := range r.BitsPerLayer {
			b[i] = strconv.Itoa(v)
		}
		p.Alloc = strings.Join(b, ",")
	}
	return p
}

// BuildGroups merges recs by ID (see Merge), splits them into groups, fits
// each group's float curve and aggregates its cells. The output order is
// deterministic: groups by dataset, family, depth, base, variant.
func BuildGroups(recs []results.Record) []*Group {
	recs = Merge(recs)
	byKey := map[groupKey]*Group{}
	var keys []groupKey
	variants := map[groupKey]map[string]bool{}
	for i := range recs {
		k := keyOf(&recs[i])
		if variants[k] == nil {
			variants[k] = map[string]bool{}
		}
		variants[k][variantOf(&recs[i])] = true
	}
	// Records of one dataset name computed on different data (the files
	// changed between runs) are never merged: the checksum joins the
	// variant, so they form groups of their own, named by it.
	sums := map[string]map[string]bool{}
	for _, r := range recs {
		if r.DatasetChecksum != "" {
			if sums[r.Dataset] == nil {
				sums[r.Dataset] = map[string]bool{}
			}
			sums[r.Dataset][r.DatasetChecksum] = true
		}
	}
	for _, r := range recs {
		k := keyOf(&r)
		if len(variants[k]) > 1 {
			k.variant = variantOf(&r)
		}
		if len(sums[r.Dataset]) > 1 && r.DatasetChecksum != "" {
			k.variant = strings.TrimPrefix(k.variant+", data "+shortChecksum(r.DatasetChecksum), ", ")
		}
		g, ok := byKey[k]
		if !ok {
			g = &Group{Dataset: k.dataset, Family: k.family, Depth: k.depth, Base: k.base}
			g.Name, g.Slug = groupName(k)
			byKey[k] = g
			keys = append(keys, k)
		}
		g.Records = append(g.Records, r)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.dataset != b.dataset {
			return a.dataset < b.dataset
		}
		if a.family != b.family {
			return a.family < b.family
		}
		if a.depth != b.depth {
			return a.depth < b.depth
		}
		if a.base != b.base {
			return a.base < b.base
		}
		return a.variant < b.variant
	})
	groups := make([]*Group, len(keys))
	for i, k := range keys {
		g := byKey[k]
		sortRecords(g.Records)
		g.aggregate()
		groups[i] = g
	}
	dedupeSlugs(groups)
	return groups
}

func groupName(k groupKey) (name, slug string) {
	ds := k.dataset
	if ds == "" {
		ds = "data"
	}
	// Slugs name files: an npy: dataset's paths stay out of them.
	dslug := ds
	if strings.HasPrefix(ds, "npy:") {
		dslug = "npy-" + hashHex(ds, 4)
	}
	if k.family == "cnn" {
		name = ds + " cnn"
		slug = dslug + "-cnn"
		if k.base != "" {
			name += " base " + k.base
			slug += "-" + k.base
		}
	} else {
		name = fmt.Sprintf("%s %s depth %d", ds, k.family, k.depth)
		slug = fmt.Sprintf("%s-%s-d%d", dslug, k.family, k.depth)
	}
	if k.variant != "" {
		name += " (" + k.variant + ")"
		slug += "-" + k.variant
	}
	return name, shortSlug(sanitize(slug))
}

// maxSlug bounds a group's slug, which prefixes its figure file names
// (the longest suffix is "_error-vs-weights.svg"): well under the 255
// bytes a file name may have.
const maxSlug = 64

// shortSlug cuts a slug longer than maxSlug, ending it with a hash of the
// whole so that different slugs stay different.
func shortSlug(s string) string {
	if len(s) <= maxSlug {
		return s
	}
	return s[:maxSlug-9] + "-" + hashHex(s, 4)
}

// hashHex returns the first n bytes of the SHA-256 of s, in hex.
func hashHex(s string, n int) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:n])
}

// shortChecksum is a dataset checksum ("sha256:HEX") cut to 12 hex digits.
func shortChecksum(c string) string {
	_, h, ok := strings.Cut(c, ":")
	if !ok {
		h = c
	}
	return h[:min(12, len(h))]
}

func sanitize(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func dedupeSlugs(groups []*Group) {
	seen := map[string]int{}
	for _, g := range groups {
		seen[g.Slug]++
		if n := seen[g.Slug]; n > 1 {
			g.Slug += "-" + strconv.Itoa(n)
		}
	}
}

// sortRecords orders records by family, depth, size, precision, seed, ID.
func sortRecords(rs []results.Record) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := &rs[i], &rs[j]
		if a.Dataset != b.Dataset {
			return a.Dataset < b.Dataset
		}
		if a.Family != b.Family {
			return a.Family < b.Family
		}
		if a.Depth != b.Depth {
			return a.Depth < b.Depth
		}
		if sa, sb := sizeOf(a), sizeOf(b); sa != sb {
			return sa < sb
		}
		if pa, pb := precOf(a), precOf(b); pa != pb {
			return pa.less(pb)
		}
		if a.Seed != b.Seed {
			return a.Seed < b.Seed
		}
		return a.ID < b.ID
	})
}

func (g *Group) aggregate() {
	type ck struct {
		size float64
		prec Precision
	}
	sizes := map[float64]*Size{}
	cells := map[ck]*Cell{}
	var fw []int64
	var fe []float64
	errs := map[ck][]float64{}
	bytes := map[ck]int64{}
	for _, r := range g.Records {
		sv := sizeOf(&r)
		s, ok := sizes[sv]
		if !ok {
			s = &Size{Value: sv, Label: sizeLabel(r.Family, sv)}
			sizes[sv] = s
		}
		p := precOf(&r)
		k := ck{sv, p}
		c, ok := cells[k]
		if !ok {
			c = &Cell{Prec: p}
			cells[k] = c
		}
		if r.Status != "ok" {
			c.Failed++
			reason := r.Reason
			if reason == "" {
				reason = "(no reason recorded)"
			}
			if !slices.Contains(c.Reasons, reason) {
				c.Reasons = append(c.Reasons, reason)
			}
			continue
		}
		if s.Weights == 0 {
			s.Weights = r.Weights
		}
		c.OK++
		c.Seeds = append(c.Seeds, r.Seed)
		errs[k] = append(errs[k], r.TestErrPct)
		bytes[k] += r.StoredBytes
		if p.IsFloat() && r.Weights > 0 {
			fw = append(fw, r.Weights)
			fe = append(fe, r.TestErrPct)
		}
	}
	if len(fw) > 0 {
		// NewFloatCurve fails only on non-positive weights (filtered above)
		// or non-finite errors; a group whose float errors are not finite
		// has no usable curve.
		if fc, err := NewFloatCurve(fw, fe); err == nil {
			g.Float = fc
		}
	}
	for _, s := range sizes {
		g.Sizes = append(g.Sizes, *s)
	}
	sort.Slice(g.Sizes, func(i, j int) bool { return g.Sizes[i].Value < g.Sizes[j].Value })
	precSet := map[Precision]bool{}
	for k, c := range cells {
		c.Size = *sizes[k.size]
		sort.Slice(c.Seeds, func(i, j int) bool { return c.Seeds[i] < c.Seeds[j] })
		sort.Strings(c.Reasons)
		c.MeanErr, c.StdErr = meanStd(errs[k])
		if c.OK > 0 {
			c.StoredBytes = int64(math.Round(float64(bytes[k]) / float64(c.OK)))
		}
		precSet[k.prec] = true
		g.Cells = append(g.Cells, c)
	}
	for p := range precSet {
		g.Precs = append(g.Precs, p)
	}
	sort.Slice(g.Precs, func(i, j int) bool { return g.Precs[i].less(g.Precs[j]) })
	sort.Slice(g.Cells, func(i, j int) bool {
		a, b := g.Cells[i], g.Cells[j]
		if a.Size.Value != b.Size.Value {
			return a.Size.Value < b.Size.Value
		}
		return a.Prec.less(b.Prec)
	})
	for _, c := range g.Cells {
		c.GapPct = math.NaN()
		c.Eff = Effective{NEff: math.NaN(), Range: RangeNone, ECR: math.NaN()}
		if c.Prec.IsFloat() {
			continue
		}
		if f := g.Cell(c.Size.Value, Precision{Mode: results.ModeFloat, Bits: 32}); f != nil && f.OK > 0 && c.OK > 0 {
			c.GapPct = c.MeanErr - f.MeanErr
			c.GapNoise = CompareNoise(c.Spread(), f.Spread())
		}
		if c.OK > 0 {
			c.Eff = Effect(g.Float, c.MeanErr, c.StoredBytes)
		}
	}
}

func sizeLabel(family string, v float64) string {
	if family == "cnn" {
		return "x" + strconv.FormatFloat(v, 'g', -1, 64)
	}
	return "w=" + strconv.FormatFloat(v, 'f', 0, 64)
}

// meanStd returns the mean and the sample standard deviation (n-1) of v;
// (NaN, NaN) for no values and (v[0], 0) for one.
func meanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) == 1 {
		return mean, 0
	}
	var ss float64
	for _, x := range v {
		d := x - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(len(v)-1))
}
