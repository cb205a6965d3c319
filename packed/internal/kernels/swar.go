package kernels

import (
	"encoding/binary"
	"runtime"
	"sync"
	"unsafe"
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
	workers := threads
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if work := len(live) * np * 16 * kp; work < 1<<20 || workers < 2 {
		workers = 1
	}
	workers = min(workers, np)
	if len(live) <= 2 {
		// One or two rows (batch 1 and its padding): columns in lanes.
		parallel(workers, np, func(p0, p1 int) {
			xq := make([]uint8, kp)
			for _, i := range live {
				swarRow(c[i*ldc:], x[i*ldx:], xq, k, kp, p0, p1, wp)
			}
		})
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
	parallel(workers, np, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			panel := wp[p*kp*16 : (p+1)*kp*16]
			for w0 := 0; w0 < nw; w0 += swarWords {
				words := xw[w0*kp : (w0+swarWords)*kp]
				rows := live[w0*lanes : min((w0+swarWords)*lanes, len(live))]
				swarPanel(c, ldc, p, rows, lanes, bits, span, panel, words, kp)
			}
		}
	})
	swarPool.Put(bufp)
}

// parallel runs job over [0, n) split into workers contiguous ranges, on
// the caller's goroutine when workers is 1.
func parallel(workers, n int, job func(i0, i1 int)) {
	if workers <= 1 {
		job(0, n)
		return
	}
	var wg sync.WaitGroup
	for t := 0; t < workers; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job(n*t/workers, n*(t+1)/workers)
		}()
	}
	wg.Wait()
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

// swarPanel computes the 16 columns of panel p (the PackW panel of kp/4
// steps) against up to swarWords activation words (rows in lanes) and
// stores the int32 dot products into c. It walks k in blocks of span
// values, the 16 columns inside, so that a block of activation words (at
// most 4*span*8 bytes) and of the panel stay in the L1 cache.
func swarPanel(c []int32, ldc, p int, rows []int, lanes int, bits uint, span int, panel []int8, words []int64, kp int) {
	var total [16][swarWords * 4]int32
	_ = panel[kp*16-1]
	_ = words[kp*swarWords-1]
	wb, xb := unsafe.Pointer(&panel[0]), unsafe.Pointer(&words[0])
	for q0 := 0; q0 < kp; q0 += span {
		s0, s1 := q0/4, min(q0+span, kp)/4
		for jj := range total {
			wj := unsafe.Add(wb, jj*4)
			if len(rows) <= lanes {
				decode(total[jj][0:4], swarDot1(wj, xb, s0, s1), lanes, bits)
				continue
			}
			a0, a1, a2, a3 := swarDot4(wj, xb, s0, s1)
			decode(total[jj][0:4], a0, lanes, bits)
			decode(total[jj][4:8], a1, lanes, bits)
			decode(total[jj][8:12], a2, lanes, bits)
			decode(total[jj][12:16], a3, lanes, bits)
		}
	}
	for li, i := range rows {
		row := c[i*ldc+p*16 : i*ldc+p*16+16]
		for jj := range row {
			row[jj] = total[jj][(li/lanes)*4+li%lanes]
		}
	}
}

// swarDot1 returns sum over steps s0 <= s < s1 of the 4 codes at w +
// 64s times word 0 of the activation words at x + 128s (bytes).
func swarDot1(w, x unsafe.Pointer, s0, s1 int) int64 {
	var a0, a1 int64
	for s := s0; s < s1; s++ {
		b := (*[4]int8)(unsafe.Add(w, s*64))
		xs := (*[13]int64)(unsafe.Add(x, s*16*8))
		a0 += int64(b[0])*xs[0] + int64(b[1])*xs[4]
		a1 += int64(b[2])*xs[8] + int64(b[3])*xs[12]
	}
	return a0 + a1
}

// swarDot4 is swarDot1 for all four activation words.
func swarDot4(w, x unsafe.Pointer, s0, s1 int) (a0, a1, a2, a3 int64) {
	for s := s0; s < s1; s++ {
		b := (*[4]int8)(unsafe.Add(w, s*64))
		xs := (*[16]int64)(unsafe.Add(x, s*16*8))
		w0, w1, w2, w3 := int64(b[0]), int64(b[1]), int64(b[2]), int64(b[3])
		a0 += w0*xs[0] + w1*xs[4] + w2*xs[8] + w3*xs[12]
		a1 += w0*xs[1] + w1*xs[5] + w2*xs[9] + w3*xs[13]
		a2 += w0*xs[2] + w1*xs[6] + w2*xs[10] + w3*xs[14]
		a3 += w0*xs[3] + w1*xs[7] + w2*xs[11] + w3*xs[15]
	}
	return
}

// swarRow computes row i of c alone, the columns in lanes: byte t of the
// 8 bytes at column pair jj, jj+1 of a step, offset to u = code+128 in
// 0..255, is one 32-bit lane of (v >> 8t) & 0x000000ff000000ff, and one
// multiply by x[4s+t] adds u*x to both columns. Lanes are unsigned (at
// most 255*255 per product, 65536 products per lane); the offset comes
// off as 128*sum x. xq is scratch of kp bytes.
func swarRow(c []int32, x, xq []uint8, k, kp, p0, p1 int, wp []int8) {
	copy(xq, x[:k])
	clear(xq[k:kp])
	var sum int32
	for _, v := range xq[:kp] {
		sum += int32(v)
	}
	const m = 0x000000ff000000ff
	for p := p0; p < p1; p++ {
		panel := unsafe.Slice((*uint8)(unsafe.Pointer(&wp[p*kp*16])), kp*16)
		for jj := 0; jj < 16; jj += 4 {
			var t0, t1, t2, t3 uint32
			for q0 := 0; q0 < kp; q0 += 1 << 16 {
				var a0, a1 uint64
				for s := q0 / 4; s < min(q0+1<<16, kp)/4; s++ {
					b := panel[s*64+jj*4 : s*64+jj*4+16]
					v0 := binary.LittleEndian.Uint64(b) ^ 0x8080808080808080
					v1 := binary.LittleEndian.Uint64(b[8:]) ^ 0x8080808080808080
					xs := xq[4*s : 4*s+4]
					x0, x1, x2, x3 := uint64(xs[0]), uint64(xs[1]), uint64(xs[2]), uint64(xs[3])
					a0 += (v0&m)*x0 + (v0>>8&m)*x1 + (v0>>16&m)*x2 + (v0>>24&m)*x3
					a1 += (v1&m)*x0 + (v1>>8&m)*x1 + (v1>>16&m)*x2 + (v1>>24&m)*x3
				}
				t0, t1 = t0+uint32(a0), t1+uint32(a0>>32)
				t2, t3 = t2+uint32(a1), t3+uint32(a1>>32)
			}
			row := c[p*16+jj : p*16+jj+4]
			row[0], row[1], row[2], row[3] = int32(t0)-128*sum, int32(t1)-128*sum, int32(t2)-128*sum, int32(t3)-128*sum
		}
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
