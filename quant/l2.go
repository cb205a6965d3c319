package quant

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
)

// exactLimit bounds the breakpoints inside the bracket (see bracket) for
// which the L2 step is found by the exact sweep; above it the grid +
// fixed-point search is used. Both are
// tested against brute force. A variable so tests can force either path.
var exactLimit = 1 << 21

// windowLimit bounds the breakpoints of the exact sweep that refines the
// grid search around its best point.
var windowLimit = 1 << 20

// solver holds scratch buffers for step estimation so a State can
// re-estimate steps without allocating. The zero value is ready to use.
// Not safe for concurrent use.
type solver struct {
	keys, tmp []uint32
	a         []float32 // sorted finite non-zero magnitudes, ascending
	p1        []float64 // p1[i] = sum a[:i]
	saa       float64   // sum a^2
	heap      []event
	lows      []int32   // per code k, the lowest index of the sweep window
	inv       []float64 // per code k, 1/(k-0.5)
	ev, evTmp []uint64  // sweepRadix events and scratch
}

// step returns D for w under q (see Quantizer.Step).
func (s *solver) step(q Quantizer, w []float32) float32 {
	if err := q.Validate(); err != nil {
		panic(err.Error())
	}
	k := q.QMax()
	switch q.Rule {
	case MaxAbs:
		var amax float32
		for _, v := range w {
			if v < 0 {
				v = -v
			}
			if v > amax && isFinite(v) {
				amax = v
			}
		}
		return amax / float32(k)
	case TWN:
		return twnStep(w)
	}
	s.prepare(w)
	if len(s.a) == 0 {
		return 0
	}
	if q.Rule == Pow2 {
		return float32(s.pow2(k))
	}
	return float32(s.l2(k))
}

// l2 returns the L2-optimal step for the prepared magnitudes (at least
// one): the exact sweep of the bracket when it holds at most exactLimit
// breakpoints, else the search.
func (s *solver) l2(qmax int) float64 {
	lo, hi, u, eu := s.bracket(qmax)
	var d, e float64
	if s.sweepEvents(qmax, lo, hi) <= exactLimit {
		d, e = s.sweep(qmax, lo, hi)
	} else {
		d, e = s.searchIn(qmax, lo, hi, u, eu)
	}
	if eu < e {
		d = u
	}
	return d
}

// twnThreshold is TWN's zero threshold 0.7*mean|w| over the finite
// weights (0 when there are none).
func twnThreshold(w []float32) float64 {
	var sum float64
	n := 0
	for _, v := range w {
		if isFinite(v) {
			sum += math.Abs(float64(v))
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return 0.7 * sum / float64(n)
}

// twnStep is the TWN scale: mean |w| over |w| > 0.7*mean|w|, the
// threshold compared in float32 exactly as TernaryCodes does.
func twnStep(w []float32) float32 {
	thr := float32(twnThreshold(w))
	if thr == 0 {
		return 0
	}
	var s2 float64
	c := 0
	for _, v := range w {
		if ternaryCode(v, thr) == 1 && isFinite(v) {
			s2 += math.Abs(float64(v))
			c++
		}
	}
	if c == 0 {
		return 0
	}
	return float32(s2 / float64(c))
}

// prepare fills s.a with the sorted finite non-zero |w|, s.p1 and s.saa.
func (s *solver) prepare(w []float32) {
	s.keys = s.keys[:0]
	for _, v := range w {
		b := math.Float32bits(v) &^ (1 << 31)
		if b != 0 && b < 0x7f800000 { // non-zero and finite
			s.keys = append(s.keys, b)
		}
	}
	n := len(s.keys)
	if n < 512 {
		slices.Sort(s.keys)
	} else {
		if cap(s.tmp) < n {
			s.tmp = make([]uint32, n)
		}
		radixSort(s.keys, s.tmp[:n])
	}
	// Positive float32 bit patterns sort like the values.
	if cap(s.a) < n || cap(s.p1) < n+1 {
		s.a = make([]float32, n)
		s.p1 = make([]float64, n+1)
	}
	s.a, s.p1 = s.a[:n], s.p1[:n+1]
	var c1, c2 float64
	s.p1[0] = 0
	for i, b := range s.keys {
		v := math.Float32frombits(b)
		s.a[i] = v
		c1 += float64(v)
		c2 += float64(v) * float64(v)
		s.p1[i+1] = c1
	}
	s.saa = c2
}

// radixSort sorts keys ascending with an LSD radix sort (11-bit digits),
// using tmp (same length) as scratch. Passes whose digit is constant are
// skipped.
func radixSort(keys, tmp []uint32) {
	const bits, buckets = 11, 1 << 11
	var count [buckets]int
	src, dst := keys, tmp
	for shift := uint(0); shift < 32; shift += bits {
		clear(count[:])
		for _, k := range src {
			count[(k>>shift)&(buckets-1)]++
		}
		if count[(src[0]>>shift)&(buckets-1)] == len(src) {
			continue
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range src {
			d := (k >> shift) & (buckets - 1)
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}

// event is a breakpoint of the exact sweep: at D <= v, element a[j] has
// code >= k.
type event struct {
	v float64
	k int32
	j int32
}

// bracket returns an interval [lo, hi] that holds every global minimiser
// of the L2 error, and the best step u found on the way (the fixed point
// reached from max|w|/qmax) with its error eu. With U = eu:
//
//   - lower: at the optimum D*, each of the j largest magnitudes that
//     exceeds qmax*D* adds at least (a_(j) - qmax*D*)^2, so
//     j*(a_(j) - qmax*D*)^2 <= U and D* >= (a_(j) - sqrt(U/j))/qmax;
//   - upper: every magnitude below D/2 has code 0 and adds a^2, so if the
//     smallest i+1 magnitudes have sum of squares > U then D* <= 2*a_i
//     (and D* <= 2*max|w|, above which every code is 0).
//
// The bounds are widened by 1e-9 relative against rounding.
func (s *solver) bracket(qmax int) (lo, hi, u, eu float64) {
	a := s.a
	n := len(a)
	amax := float64(a[n-1])
	k := float64(qmax)
	u = amax / k
	eu, _, _ = s.errAt(u, qmax)
	if d, e := s.fixedPoint(u, qmax); e < eu {
		u, eu = d, e
	}
	lo = amax * 0x1p-24 / k
	for j := 1; j <= n; j++ {
		if b := (float64(a[n-j]) - math.Sqrt(eu/float64(j))) / k; b > lo {
			lo = b
		}
	}
	hi = 2 * amax
	var sq float64
	for _, v := range a {
		sq += float64(v) * float64(v)
		if sq > eu {
			hi = min(hi, 2*float64(v))
			break
		}
	}
	lo, hi = lo*(1-1e-9), hi*(1+1e-9)
	if !(lo < hi) { // u itself is within rounding of both bounds
		lo, hi = u*(1-1e-9), u*(1+1e-9)
	}
	return lo, hi, u, eu
}

// exact returns the global L2-optimal step by sweeping every breakpoint
// D = a_i/(k-0.5), k = 1..qmax, in decreasing order. Between breakpoints
// the assignment of codes is fixed and the error
//
//	E(D) = saa - 2*D*saz + D^2*szz
//
// is a parabola minimised at saz/szz, clamped to the interval. E is
// continuous and has concave kinks at breakpoints, so the minimum over all
// pieces is the global minimum. Only the bracket (see bracket) is swept.
// Cost O(n*qmax*log qmax) after the sort in the worst case, usually a
// small fraction of that.
func (s *solver) exact(qmax int) (d, e float64) {
	lo, hi, u, eu := s.bracket(qmax)
	d, e = s.sweep(qmax, lo, hi)
	if eu < e {
		d, e = u, eu
	}
	return d, e
}

// sweepEvents returns the number of breakpoints inside [lo, hi].
func (s *solver) sweepEvents(qmax int, lo, hi float64) int {
	c := 0
	for k := 1; k <= qmax; k++ {
		ih := s.firstAtLeast((float64(k) - 0.5) * hi)
		il := s.firstAtLeast((float64(k) - 0.5) * lo)
		c += ih - il
		if il == len(s.a) {
			break
		}
	}
	return c
}

// firstAtLeast returns the first index i with a[i] >= t (len(a) if none).
func (s *solver) firstAtLeast(t float64) int {
	a := s.a
	return sort.Search(len(a), func(i int) bool { return float64(a[i]) >= t })
}

// sweep is the exact sweep restricted to steps in [lo, hi]: it starts from
// the code assignment at hi and applies the breakpoints inside the window
// in decreasing order (a max-heap merges the qmax lists; list k holds
// a_j/(k-0.5) for descending j). It returns the best step in the window.
func (s *solver) sweep(qmax int, lo, hi float64) (d, e float64) {
	if radixSweep && len(s.a) < 1<<24 && !math.IsInf(hi, 1) {
		return s.sweepRadix(qmax, lo, hi)
	}
	a := s.a
	h := s.heap[:0]
	if cap(s.lows) < qmax+1 {
		s.lows = make([]int32, qmax+1)
		s.inv = make([]float64, qmax+1)
	}
	lows, inv := s.lows[:qmax+1], s.inv[:qmax+1]
	var saz, szz float64
	best, bestD := s.saa, 0.0
	if !math.IsInf(hi, 1) {
		best, saz, szz = s.errAt(hi, qmax)
		bestD = hi
	}
	for k := 1; k <= qmax; k++ {
		inv[k] = 1 / (float64(k) - 0.5)
		ih := s.firstAtLeast((float64(k) - 0.5) * hi)
		il := s.firstAtLeast((float64(k) - 0.5) * lo)
		if ih > il {
			lows[k] = int32(il)
			h = append(h, event{v: float64(a[ih-1]) * inv[k], k: int32(k), j: int32(ih - 1)})
		}
	}
	heapify(h)
	saa := s.saa
	cur := hi
	for len(h) > 0 {
		top := h[0]
		if v := min(max(top.v, lo), cur); v < cur {
			// The piece (v, cur] has a fixed assignment: its error is the
			// parabola saa - 2*D*saz + D^2*szz, least at saz/szz.
			if szz > 0 {
				dd := min(max(saz/szz, v), cur)
				if ee := saa - 2*dd*saz + dd*dd*szz; ee < best {
					best, bestD = ee, dd
				}
			}
			cur = v
		}
		saz += float64(a[top.j])
		szz += float64(2*top.k - 1)
		if top.j > lows[top.k] {
			h[0].v = float64(a[top.j-1]) * inv[top.k]
			h[0].j = top.j - 1
		} else {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		if len(h) > 1 {
			siftDown(h, 0)
		}
	}
	if szz > 0 {
		dd := min(max(saz/szz, lo), cur)
		if ee := saa - 2*dd*saz + dd*dd*szz; ee < best {
			best, bestD = ee, dd
		}
	}
	s.heap = h
	return bestD, max(best, 0)
}

// radixSweep selects sweepRadix over the heap merge (tests turn it off to
// check one against the other).
var radixSweep = true

// sweepRadix is sweep with the breakpoints ordered by a radix sort
// instead of a heap: each event is one uint64, the breakpoint rounded to
// float32 in the high half (the step returned is a float32, so float32
// order is all the sweep needs; near-ties broken either way change the
// error by far less than float32 rounding of the step does) and j<<8|k in
// the low half. Needs n < 2^24 and qmax < 256. About 3x faster than the
// heap for qmax = 127.
func (s *solver) sweepRadix(qmax int, lo, hi float64) (d, e float64) {
	a := s.a
	ev := s.ev[:0]
	for k := 1; k <= qmax; k++ {
		f := float64(k) - 0.5
		ih := s.firstAtLeast(f * hi)
		il := s.firstAtLeast(f * lo)
		inv := 1 / f
		for j := il; j < ih; j++ {
			v := float32(float64(a[j]) * inv)
			ev = append(ev, uint64(math.Float32bits(v))<<32|uint64(j)<<8|uint64(k))
		}
	}
	if cap(s.evTmp) < len(ev) {
		s.evTmp = make([]uint64, len(ev))
	}
	radixSortHigh(ev, s.evTmp[:len(ev)])
	s.ev = ev

	best, saz, szz := s.errAt(hi, qmax)
	bestD := hi
	saa := s.saa
	cur := hi
	for i := len(ev) - 1; i >= 0; i-- {
		x := ev[i]
		if v := min(max(float64(math.Float32frombits(uint32(x>>32))), lo), cur); v < cur {
			if szz > 0 {
				dd := min(max(saz/szz, v), cur)
				if ee := saa - 2*dd*saz + dd*dd*szz; ee < best {
					best, bestD = ee, dd
				}
			}
			cur = v
		}
		k := int(x & 0xff)
		saz += float64(a[uint32(x)>>8])
		szz += float64(2*k - 1)
	}
	if szz > 0 {
		dd := min(max(saz/szz, lo), cur)
		if ee := saa - 2*dd*saz + dd*dd*szz; ee < best {
			best, bestD = ee, dd
		}
	}
	return bestD, max(best, 0)
}

// radixSortHigh sorts keys ascending by their high 32 bits (stable, LSD,
// 11-bit digits, constant digits skipped), using tmp as scratch.
func radixSortHigh(keys, tmp []uint64) {
	if len(keys) == 0 {
		return
	}
	const bits, buckets = 11, 1 << 11
	var count [buckets]int
	src, dst := keys, tmp
	for shift := uint(32); shift < 64; shift += bits {
		clear(count[:])
		for _, k := range src {
			count[(k>>shift)&(buckets-1)]++
		}
		if count[(src[0]>>shift)&(buckets-1)] == len(src) {
			continue
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range src {
			d := (k >> shift) & (buckets - 1)
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}

// heapify arranges h as a max-heap on v.
func heapify(h []event) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
}

// siftDown restores the max-heap property of h after h[i] decreased.
func siftDown(h []event, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r].v > h[l].v {
			m = r
		}
		if h[m].v <= h[i].v {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// errAt returns the L2 error at step d together with saz = sum |w|*z and
// szz = sum z^2 of the codes z assigned at d, in O(qmax*log n) using the
// sorted magnitudes and their prefix sums. Element a has code >= k iff
// a >= (k-0.5)*d.
func (s *solver) errAt(d float64, qmax int) (e, saz, szz float64) {
	a, p1 := s.a, s.p1
	n := len(a)
	total := p1[n]
	lo := 0
	for k := 1; k <= qmax; k++ {
		t := (float64(k) - 0.5) * d
		i := lo + sort.Search(n-lo, func(i int) bool { return float64(a[lo+i]) >= t })
		if i == n {
			break
		}
		saz += total - p1[i]
		szz += float64(2*k-1) * float64(n-i)
		lo = i
	}
	return s.saa - 2*d*saz + d*d*szz, saz, szz
}

// fixedPoint runs the Lloyd iteration D <- saz/szz from d until the
// assignment stops changing; the error never increases. It returns the
// final step and error.
func (s *solver) fixedPoint(d float64, qmax int) (float64, float64) {
	e, saz, szz := s.errAt(d, qmax)
	for it := 0; it < 200 && szz > 0; it++ {
		nd := saz / szz
		if nd == d {
			break
		}
		ne, nsaz, nszz := s.errAt(nd, qmax)
		if ne > e {
			break
		}
		same := nsaz == saz && nszz == szz
		d, e, saz, szz = nd, ne, nsaz, nszz
		if same { // assignment unchanged: d is its own optimum
			break
		}
	}
	return d, e
}

// search finds the L2-optimal step for large n*qmax: bracket the optimum,
// evaluate E on a log-spaced grid over the bracket, run the fixed-point
// iteration from the best grid-local minima, then sweep windows around the
// three best candidates exactly.
func (s *solver) search(qmax int) (float64, float64) {
	lo, hi, u, eu := s.bracket(qmax)
	return s.searchIn(qmax, lo, hi, u, eu)
}

// searchIn is search over the bracket [lo, hi] with the known step u of
// error eu.
func (s *solver) searchIn(qmax int, lo, hi, bestD, best float64) (float64, float64) {
	const perOctave = 24
	g := int(math.Ceil(math.Log2(hi/lo)*perOctave)) + 1
	g = max(g, 32)
	ratio := math.Pow(hi/lo, 1/float64(g-1))
	es := make([]float64, g)
	ds := make([]float64, g)
	d := lo
	for i := range g {
		ds[i] = d
		es[i], _, _ = s.errAt(d, qmax)
		d *= ratio
	}
	var mins []int
	for i := range g {
		if (i == 0 || es[i] <= es[i-1]) && (i == g-1 || es[i] <= es[i+1]) {
			mins = append(mins, i)
		}
	}
	slices.SortFunc(mins, func(x, y int) int {
		switch {
		case es[x] < es[y]:
			return -1
		case es[x] > es[y]:
			return 1
		}
		return x - y
	})
	if len(mins) > 12 {
		mins = mins[:12]
	}
	type cand struct{ d, e float64 }
	cands := []cand{{bestD, best}}
	for _, i := range mins {
		d, e := s.fixedPoint(ds[i], qmax)
		cands = append(cands, cand{ds[i], es[i]}, cand{d, e})
	}
	slices.SortFunc(cands, func(x, y cand) int { return cmp.Compare(x.e, y.e) })
	// Exact sweeps of windows around the three best distinct candidates,
	// each the widest that holds windowLimit/3 breakpoints: the whole
	// bracket for small tensors (then the result is exact), a few percent
	// either side for large ones.
	var centres []float64
	for _, c := range cands {
		if len(centres) == 3 {
			break
		}
		if !slices.ContainsFunc(centres, func(x float64) bool { return math.Abs(x/c.d-1) < 0.02 }) {
			centres = append(centres, c.d)
		}
	}
	best, bestD = cands[0].e, cands[0].d
	for _, c := range centres {
		w := max(hi/c, c/lo)
		for w > 1+1e-9 && s.sweepEvents(qmax, max(lo, c/w), min(hi, c*w)) > windowLimit/len(centres) {
			w = math.Sqrt(w)
		}
		if d, e := s.sweep(qmax, max(lo, c/w), min(hi, c*w)); e < best {
			best, bestD = e, d
		}
	}
	return bestD, best
}

// pow2 returns the power of two with the least L2 error, searched from
// 2*max|w| (everything 0 above) down 40 octaves.
func (s *solver) pow2(qmax int) float64 {
	amax := float64(s.a[len(s.a)-1])
	e0 := math.Ceil(math.Log2(2 * amax))
	best, bestD := math.Inf(1), 0.0
	for e := e0; e >= e0-40; e-- {
		d := math.Ldexp(1, int(e))
		if ee, _, _ := s.errAt(d, qmax); ee < best {
			best, bestD = ee, d
		}
	}
	return bestD
}

// L2Error returns sum (Q(w)-w)^2 in float64 for step and qmax, computed
// from the actual quantized values (Apply's float32 rounding).
func L2Error(w []float32, step float32, qmax int) float64 {
	if qmax < 1 || qmax > 127 {
		panic(fmt.Sprintf("quant: L2Error: qmax %d out of range 1..127", qmax))
	}
	var e float64
	buf := make([]float32, min(len(w), 4096))
	for i := 0; i < len(w); i += len(buf) {
		c := w[i:min(i+len(buf), len(w))]
		apply(buf, c, step, float32(qmax))
		for j, v := range c {
			d := float64(buf[j]) - float64(v)
			e += d * d
		}
	}
	return e
}
