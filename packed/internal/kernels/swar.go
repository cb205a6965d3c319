package kernels

import (
	"runtime"
	"sync"
)

// The pure-Go GEMM on PackW's layout multiplies one weight code by a
// 64-bit word that holds several activation rows at once (SWAR: SIMD
// within a register). With lanes of b bits,
//
//	X[q] = x[r0, q] + x[r1, q]<<b + x[r2, q]<<2b (+ x[r3, q]<<3b)
//	w * X[q] = w*x[r0, q] + (w*x[r1, q])<<b + ...   (exact as int64, mod 2^64)
//
// so a sum over q of w[j, q]*X[q] is sum_l S_l<<(b*l) with S_l the dot
// product of row r_l and column j. Signed lanes may borrow from each
// other; the decomposition stays exact as long as every |S_l| < 2^(b-1)
// when the word is decoded (intermediate overflow of a lane is harmless:
// the arithmetic is modulo 2^64). The word is therefore decoded into the
// int32 outputs after a block of at most swarSpan(b, pairMax) values of q.
// Four 16-bit lanes serve low-bit weights (pairMax small enough for a
// block of at least one step); three 21-bit lanes serve any uint8 x int8
// product. All-zero activation rows (the engine's row padding) are skipped
// and their outputs cleared.

// swarWords is the number of activation words the inner loop carries at
// once (4 words: 16 rows of 16-bit lanes, 12 of 21-bit lanes).
const swarWords = 4

// swarLanes returns the lane count and width for pairMax and the number of
// values of q a word may sum before it is decoded (a multiple of 4).
func swarLanes(pairMax int) (lanes int, bits uint, span int) {
	if pairMax > 0 && 32767/pairMax >= 2 {
		// pairs of products: |S| <= (span/2)*pairMax <= 32767
		return 4, 16, min(2*(32767/pairMax), 1<<20) &^ 3
	}
	p := 2 * 255 * 128 // the largest |x0*w0 + x1*w1| of uint8 x int8
	if pairMax > 0 && pairMax < p {
		p = pairMax
	}
	return 3, 21, 2 * ((1<<20 - 1) / p) &^ 3
}

var swarPool sync.Pool // *[]int64 activation words

// gemmSWAR is Gemm for the pure-Go kernel (arguments checked by Gemm,
// m > 0, n > 0, Pad4(k) > 0).
func gemmSWAR(threads, pairMax, m, n, k int, x []uint8, ldx int, wp []int8, c []int32, ldc int) {
	kp, np := Pad4(k), Pad16(n)/16
	lanes, bits, span := swarLanes(pairMax)
	// Live rows (any nonzero activation below k) go into lanes; the
	// others' outputs are zero.
	live := make([]int, 0, m)
	for i := 0; i < m; i++ {
		if nonzero(x[i*ldx : i*ldx+k]) {
			live = append(live, i)
		} else {
			clear(c[i*ldc : i*ldc+np*16])
		}
	}
	if len(live) == 0 {
		return
	}
	nw := (len(live) + lanes - 1) / lanes
	bufp, _ := swarPool.Get().(*[]int64)
	if bufp == nil {
		bufp = new([]int64)
	}
	need := (nw + swarWords - 1) / swarWords * swarWords * kp
	if cap(*bufp) < need {
		*bufp = make([]int64, need)
	}
	xw := (*bufp)[:need]
	packRows(xw, x, ldx, k, kp, live, lanes, bits)
	workers := threads
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if work := len(live) * np * 16 * kp; work < 1<<20 || workers < 2 {
		workers = 1
	}
	workers = min(workers, np)
	job := func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			panel := wp[p*kp*16 : (p+1)*kp*16]
			for w0 := 0; w0 < nw; w0 += swarWords {
				words := xw[w0*kp : (w0+swarWords)*kp]
				rows := live[w0*lanes : min((w0+swarWords)*lanes, len(live))]
				for jj := 0; jj < 16; jj++ {
					swarColumn(c, ldc, p*16+jj, rows, lanes, bits, span, panel, jj, words, kp)
				}
			}
		}
	}
	if workers == 1 {
		job(0, np)
	} else {
		var wg sync.WaitGroup
		for t := 0; t < workers; t++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				job(np*t/workers, np*(t+1)/workers)
			}()
		}
		wg.Wait()
	}
	swarPool.Put(bufp)
}

func nonzero(b []uint8) bool {
	for _, v := range b {
		if v != 0 {
			return true
		}
	}
	return false
}

// packRows writes the activation words of the live rows: chunk c of
// swarWords words holds, for each q < kp, xw[c*swarWords*kp +
// q*swarWords + w] = word w of the chunk (lanes rows lanes*(c*swarWords +
// w) + l). Values at q >= k are zero.
func packRows(xw []int64, x []uint8, ldx, k, kp int, live []int, lanes int, bits uint) {
	clear(xw)
	for li, i := range live {
		wi, l := li/lanes, uint(li%lanes)
		chunk := xw[wi/swarWords*swarWords*kp:]
		w := wi % swarWords
		sh := bits * l
		for q, v := range x[i*ldx : i*ldx+k] {
			chunk[q*swarWords+w] |= int64(v) << sh
		}
	}
}

// swarColumn adds column col (position jj of panel, the PackW panel of
// kp/4 steps) against up to swarWords activation words (rows in lanes)
// and stores the int32 dot products into c.
func swarColumn(c []int32, ldc, col int, rows []int, lanes int, bits uint, span int, panel []int8, jj int, words []int64, kp int) {
	var total [swarWords * 4]int32
	if len(rows) <= lanes {
		swarColumn1(&total, lanes, bits, span, panel, jj, words, kp)
		for li, i := range rows {
			c[i*ldc+col] = total[li]
		}
		return
	}
	for q0 := 0; q0 < kp; q0 += span {
		q1 := min(q0+span, kp)
		var a0, a1, a2, a3 int64
		for s := q0 / 4; s < q1/4; s++ {
			b := panel[s*64+jj*4 : s*64+jj*4+4]
			xs := words[s*16 : s*16+16]
			w0, w1, w2, w3 := int64(b[0]), int64(b[1]), int64(b[2]), int64(b[3])
			a0 += w0*xs[0] + w1*xs[4] + w2*xs[8] + w3*xs[12]
			a1 += w0*xs[1] + w1*xs[5] + w2*xs[9] + w3*xs[13]
			a2 += w0*xs[2] + w1*xs[6] + w2*xs[10] + w3*xs[14]
			a3 += w0*xs[3] + w1*xs[7] + w2*xs[11] + w3*xs[15]
		}
		decode(total[0:4], a0, lanes, bits)
		decode(total[4:8], a1, lanes, bits)
		decode(total[8:12], a2, lanes, bits)
		decode(total[12:16], a3, lanes, bits)
	}
	for li, i := range rows {
		c[i*ldc+col] = total[(li/lanes)*4+li%lanes]
	}
}

// swarColumn1 is swarColumn's loop for a single activation word.
func swarColumn1(total *[swarWords * 4]int32, lanes int, bits uint, span int, panel []int8, jj int, words []int64, kp int) {
	for q0 := 0; q0 < kp; q0 += span {
		q1 := min(q0+span, kp)
		var a0, a1 int64
		for s := q0 / 4; s < q1/4; s++ {
			b := panel[s*64+jj*4 : s*64+jj*4+4]
			xs := words[s*16 : s*16+13]
			a0 += int64(b[0])*xs[0] + int64(b[1])*xs[4]
			a1 += int64(b[2])*xs[8] + int64(b[3])*xs[12]
		}
		decode(total[0:4], a0+a1, lanes, bits)
	}
}

// decode adds the lanes of a (lanes signed fields of bits bits, the last
// one taking the remaining high bits) to dst[:lanes].
func decode(dst []int32, a int64, lanes int, bits uint) {
	for l := 0; l < lanes-1; l++ {
		v := a << (64 - bits) >> (64 - bits)
		dst[l] += int32(v)
		a = (a - v) >> bits
	}
	dst[lanes-1] += int32(a)
}
