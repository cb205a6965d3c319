package cexport

// The C sources, as text/template templates over a view. model.c uses
// nothing from libc beyond stdint.h and string.h, no malloc and no
// floating point; every array it reads is const (flash), and its only
// writable memory is one static scratch buffer.

const headerTmpl = `/* {{.Name}}: integer-only inference of a resq packed model (generated).
{{.Provenance}} */
#ifndef {{.Guard}}
#define {{.Guard}}

#include <stdint.h>

/* Input: {{.InputSize}} codes per sample, 0..{{.InMax}} (larger codes read as {{.InMax}});
   x ~= (code - {{.InZero}}) * {{.InScale}} in the units of the training data. */
#define {{.Upper}}_INPUT_SIZE {{.InputSize}}
#define {{.Upper}}_CLASSES {{.Classes}}
/* One static buffer holds all working memory of {{.Name}}_predict. */
#define {{.Upper}}_SCRATCH_BYTES {{.Scratch}}
/* Bytes of const weight data (codes, int32 biases, multipliers, shifts). */
#define {{.Upper}}_WEIGHT_BYTES {{.WeightBytes}}

/* Runs the network on input[{{.Upper}}_INPUT_SIZE] and writes the int32
   logits[{{.Upper}}_CLASSES] (one unit = {{.LogitScale}}); returns the class:
   the first index of the largest logit (ties go to the lowest index).
   Not reentrant (one scratch buffer). */
int {{.Name}}_predict(const uint8_t *input, int32_t *logits);

#endif
`

const modelTmpl = `/* {{.Name}}: integer-only inference of a resq packed model (generated).
{{.Provenance}} */
#include <stdint.h>
#include <string.h>
#include "model.h"

enum { K_DENSE, K_CONV, K_POOL };

/* One stage. dense/conv: rows outputs of cols inputs, codes packed as in
   the packed format (bits per code, two's complement, little-endian bit
   stream; or base 3, five codes per byte), int32 bias, requantization
   multiplier and shift per output; out_max clamps hidden outputs (ReLU
   fused), 0 marks the last layer (int32 logits). Geometry: input
   [c, h, w], output [., oh, ow], kernel r x s (pool: r x r). */
typedef struct {
	uint8_t kind, bits, base3, pad_value;
	int32_t out_max;
	int32_t rows, cols, c, h, w, r, s, stride, pad, oh, ow;
	const uint8_t *codes;
	const int32_t *bias, *mult;
	const uint8_t *shift;
} layer_t;
{{range .Layers}}{{if .Weighted}}
static const uint8_t {{.Prefix}}_codes[{{len .Codes}}] = {
{{bytes .Codes}}};
static const int32_t {{.Prefix}}_bias[{{len .Bias}}] = {
{{ints .Bias}}};
static const int32_t {{.Prefix}}_mult[{{len .Mult}}] = {
{{ints .Mult}}};
static const uint8_t {{.Prefix}}_shift[{{len .Shift}}] = {
{{shifts .Shift}}};
{{end}}{{end}}
static const layer_t layers[{{len .Layers}}] = {
{{range .Layers}}	{ {{.KindC}}, {{.Bits}}, {{.Base3}}, {{.PadValue}}, {{.OutMax}}, {{.Rows}}, {{.Cols}}, {{.C}}, {{.H}}, {{.W}}, {{.R}}, {{.S}}, {{.Stride}}, {{.Pad}}, {{.OH}}, {{.OW}},
	  {{if .Weighted}}{{.Prefix}}_codes, {{.Prefix}}_bias, {{.Prefix}}_mult, {{.Prefix}}_shift{{else}}0, 0, 0, 0{{end}} },
{{end}}};

#ifdef RESQ_FAULT_SEED
#if !defined(RESQ_FAULT_BER_Q64) && !defined(RESQ_FAULT_ACT_BER_Q64)
#error "RESQ_FAULT_SEED needs RESQ_FAULT_BER_Q64 (weights), RESQ_FAULT_ACT_BER_Q64 (activations) or both, each floor(BER * 2^64)"
#endif
/* splitmix is SplitMix64: it advances the state *s and returns a draw. */
static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
#ifdef RESQ_FAULT_BER_Q64
#define RESQ_WEIGHT_FAULTS
#endif
#elif defined(RESQ_FAULT_ACT_BER_Q64)
#error "RESQ_FAULT_ACT_BER_Q64 needs RESQ_FAULT_SEED"
#endif

#ifdef RESQ_FAULT_ACT_BER_Q64
/* Activation faults: compiled with -DRESQ_FAULT_SEED=S
   -DRESQ_FAULT_ACT_BER_Q64=T, the n-th predict call (n = 0, 1, ...) is
   sample n: its stream starts at state SplitMix64(S ^ 0x6163747300000000
   + n * 0x9e3779b97f4a7c15) (faults.TrialSeed) and flips each bit of the
   output codes of every stage but the last whose draw is below T, stage
   by stage, byte by byte, bit 0 first; a code above the stage's largest
   (act_top) reads as it. The Go engine with faults' activation injection
   computes the same logits. */
static const int32_t act_size[{{len .Layers}}] = { {{range .Layers}}{{.OutSize}}, {{end}}};
static const uint8_t act_top[{{len .Layers}}] = { {{range .Layers}}{{.ActTop}}, {{end}}};
static uint64_t act_sample;

static void act_flip(uint8_t *b, int32_t n, uint8_t top, uint64_t *s)
{
	int32_t i;
	uint32_t k;
	for (i = 0; i < n; i++) {
		uint32_t v = b[i];
		for (k = 0; k < 8u; k++)
			if (splitmix(s) < (uint64_t)(RESQ_FAULT_ACT_BER_Q64))
				v ^= 1u << k;
		b[i] = (uint8_t)(v > top ? top : v);
	}
}
#endif

#ifdef RESQ_WEIGHT_FAULTS
/* Weight faults, for measuring soft errors (package faults): compiled
   with -DRESQ_FAULT_SEED=S -DRESQ_FAULT_BER_Q64=T, the first predict call
   copies the weights to RAM (const arrays in flash cannot flip) and flips
   each stored bit whose SplitMix64 draw, from state S, is below T =
   floor(BER * 2^64): the codes of every layer first (byte by byte, bit 0
   first), then per layer the biases and multipliers (32-bit words, bit 0
   first) and the shift bytes. Corrupted codes decode as faults and
   packed.Model.WithImage do: a pattern that is not a level reads as 0, so
   does every code of a base-3 byte above 242, and shifts are clamped to
   1..62. The Go engine computes the same logits. */
{{range .Layers}}{{if .Weighted}}static uint8_t {{.Prefix}}_codes_ram[{{len .Codes}}];
static int32_t {{.Prefix}}_bias_ram[{{len .Bias}}], {{.Prefix}}_mult_ram[{{len .Mult}}];
static uint8_t {{.Prefix}}_shift_ram[{{len .Shift}}];
{{end}}{{end}}static layer_t layers_ram[{{len .Layers}}];
static uint64_t fault_state = (uint64_t)(RESQ_FAULT_SEED);

static uint64_t fault_draw(void)
{
	return splitmix(&fault_state);
}

static void flip_bytes(uint8_t *b, uint32_t n)
{
	uint32_t i, k;
	for (i = 0; i < n; i++)
		for (k = 0; k < 8u; k++)
			if (fault_draw() < (uint64_t)(RESQ_FAULT_BER_Q64))
				b[i] = (uint8_t)(b[i] ^ (1u << k));
}

static void flip_words(int32_t *w, uint32_t n)
{
	uint32_t i, k;
	for (i = 0; i < n; i++) {
		uint32_t v = (uint32_t)w[i];
		for (k = 0; k < 32u; k++)
			if (fault_draw() < (uint64_t)(RESQ_FAULT_BER_Q64))
				v ^= 1ul << k;
		memcpy(&w[i], &v, sizeof v);
	}
}

static const layer_t *fault_layers(void)
{
	static int done;
	if (!done) {
		memcpy(layers_ram, layers, sizeof layers);
{{range $i, $l := .Layers}}{{if $l.Weighted}}		memcpy({{$l.Prefix}}_codes_ram, {{$l.Prefix}}_codes, sizeof {{$l.Prefix}}_codes);
		memcpy({{$l.Prefix}}_bias_ram, {{$l.Prefix}}_bias, sizeof {{$l.Prefix}}_bias);
		memcpy({{$l.Prefix}}_mult_ram, {{$l.Prefix}}_mult, sizeof {{$l.Prefix}}_mult);
		memcpy({{$l.Prefix}}_shift_ram, {{$l.Prefix}}_shift, sizeof {{$l.Prefix}}_shift);
		layers_ram[{{$i}}].codes = {{$l.Prefix}}_codes_ram;
		layers_ram[{{$i}}].bias = {{$l.Prefix}}_bias_ram;
		layers_ram[{{$i}}].mult = {{$l.Prefix}}_mult_ram;
		layers_ram[{{$i}}].shift = {{$l.Prefix}}_shift_ram;
{{end}}{{end}}{{range .Layers}}{{if .Weighted}}		flip_bytes({{.Prefix}}_codes_ram, sizeof {{.Prefix}}_codes_ram);
{{end}}{{end}}{{range .Layers}}{{if .Weighted}}		flip_words({{.Prefix}}_bias_ram, {{len .Bias}});
		flip_words({{.Prefix}}_mult_ram, {{len .Mult}});
		flip_bytes({{.Prefix}}_shift_ram, sizeof {{.Prefix}}_shift_ram);
{{end}}{{end}}		done = 1;
	}
	return layers_ram;
}
#define LAYERS fault_layers()
#else
#define LAYERS layers
#endif

/* Working memory: activation buffers of {{.BufA}} and {{.BufB}} codes (stage i
   reads one and writes the other) and one unpacked weight row of
   {{.MaxCols}} codes. */
static uint8_t scratch[{{.Upper}}_SCRATCH_BYTES];

/* unpack_row writes the n codes starting at code index first. */
static void unpack_row(int8_t *dst, const layer_t *L, uint32_t first, int32_t n)
{
	int32_t j;
#ifdef RESQ_WEIGHT_FAULTS
	if (L->base3) {
		for (j = 0; j < n; j++) {
			uint32_t c = first + (uint32_t)j, v = L->codes[c / 5u], d = c % 5u;
			for (; d > 0u; d--)
				v /= 3u;
			dst[j] = L->codes[c / 5u] > 242u ? 0 : (int8_t)((int32_t)(v % 3u) - 1);
		}
		return;
	}
	{
		uint32_t b = L->bits, t = first * b, mask = (1u << b) - 1u, sign = 1u << (b - 1u);
		for (j = 0; j < n; j++, t += b) {
			uint32_t i = t >> 3, sh = t & 7u, v = (uint32_t)L->codes[i] >> sh;
			if (sh + b > 8u)
				v |= (uint32_t)L->codes[i + 1] << (8u - sh);
			v &= mask;
			dst[j] = v == sign ? 0 : (int8_t)((int32_t)(v ^ sign) - (int32_t)sign);
		}
		return;
	}
#endif
	if (L->base3) {
		/* byte i holds codes 5i..5i+4, least significant base-3 digit first */
		uint32_t i = first / 5u, d = first - 5u * i, v = L->codes[i], k;
		for (k = 0; k < d; k++)
			v = (v * 171u) >> 9; /* v / 3, exact for v < 256 */
		for (j = 0; j < n; j++) {
			uint32_t q = (v * 171u) >> 9;
			dst[j] = (int8_t)((int32_t)(v - 3u * q) - 1);
			v = q;
			if (++d == 5u) {
				d = 0;
				v = L->codes[++i];
			}
		}
		return;
	}
	if (L->bits == 8) {
		memcpy(dst, L->codes + first, (size_t)n);
		return;
	}
	if (L->bits == 2 && (first & 3u) == 0) {
		/* ternary rows starting on a byte: four codes per byte */
		static const int8_t tern[4] = {0, 1, -2, -1};
		const uint8_t *p = L->codes + (first >> 2);
		for (j = 0; j + 4 <= n; j += 4) {
			uint32_t v = *p++;
			dst[j] = tern[v & 3u];
			dst[j + 1] = tern[(v >> 2) & 3u];
			dst[j + 2] = tern[(v >> 4) & 3u];
			dst[j + 3] = tern[v >> 6];
		}
		if (j < n) {
			uint32_t v = *p;
			for (; j < n; j++, v >>= 2)
				dst[j] = tern[v & 3u];
		}
		return;
	}
	if (L->bits == 3 && (first & 7u) == 0) {
		/* 3-bit rows starting on a byte: eight codes per three bytes */
		static const int8_t c3[8] = {0, 1, 2, 3, -4, -3, -2, -1};
		const uint8_t *p = L->codes + 3u * (first >> 3);
		for (j = 0; j + 8 <= n; j += 8, p += 3) {
			uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16, k;
			for (k = 0; k < 8u; k++, v >>= 3)
				dst[j + (int32_t)k] = c3[v & 7u];
		}
		if (j < n) {
			uint32_t t = (uint32_t)(n - j) * 3u, v = 0, k;
			for (k = 0; k < (t + 7u) / 8u; k++)
				v |= (uint32_t)p[k] << (8u * k);
			for (; j < n; j++, v >>= 3)
				dst[j] = c3[v & 7u];
		}
		return;
	}
	if (L->bits == 2 || L->bits == 4) {
		/* codes never straddle a byte: one load per byte */
		uint32_t b = L->bits, t = first * b, i = t >> 3, sh = t & 7u;
		uint32_t mask = (1u << b) - 1u, sign = 1u << (b - 1u), v = (uint32_t)L->codes[i] >> sh;
		for (j = 0; j < n; j++) {
			dst[j] = (int8_t)((int32_t)((v & mask) ^ sign) - (int32_t)sign);
			v >>= b;
			sh += b;
			if (sh == 8u && j + 1 < n) {
				sh = 0;
				v = L->codes[++i];
			}
		}
		return;
	}
	{
		uint32_t b = L->bits, t = first * b, mask = (1u << b) - 1u, sign = 1u << (b - 1u);
		for (j = 0; j < n; j++, t += b) {
			uint32_t i = t >> 3, sh = t & 7u, v = (uint32_t)L->codes[i] >> sh;
			if (sh + b > 8u)
				v |= (uint32_t)L->codes[i + 1] << (8u - sh);
			v &= mask;
			dst[j] = (int8_t)((int32_t)(v ^ sign) - (int32_t)sign);
		}
	}
}

/* requant returns floor((v*m + 2^(sh-1)) / 2^sh) for v = acc + bias,
   clamped to 0..out_max (or the int32 range when out_max is 0). The floor
   of a negative value is computed explicitly: >> of a negative integer is
   implementation-defined in C99. */
static int32_t requant(const layer_t *L, int32_t acc, int32_t o)
{
	int64_t v = (int64_t)acc + L->bias[o];
	uint32_t sh = L->shift[o];
#ifdef RESQ_WEIGHT_FAULTS
	sh = sh < 1u ? 1u : sh > 62u ? 62u : sh;
#endif
	int64_t p = v * L->mult[o] + ((int64_t)1 << (sh - 1u));
	int64_t q = p >= 0 ? (p >> sh) : -((-p - 1) >> sh) - 1;
	if (L->out_max == 0) {
		if (q > INT32_MAX)
			q = INT32_MAX;
		if (q < INT32_MIN)
			q = INT32_MIN;
	} else {
		if (q < 0)
			q = 0;
		if (q > L->out_max)
			q = L->out_max;
	}
	return (int32_t)q;
}

static void dense(const layer_t *L, const uint8_t *x, uint8_t *y, int32_t *logits, int8_t *row)
{
	int32_t o, j;
	for (o = 0; o < L->rows; o++) {
		int32_t acc = 0;
		unpack_row(row, L, (uint32_t)o * (uint32_t)L->cols, L->cols);
		for (j = 0; j < L->cols; j++)
			acc += (int32_t)row[j] * (int32_t)x[j];
		if (L->out_max == 0)
			logits[o] = requant(L, acc, o);
		else
			y[o] = (uint8_t)requant(L, acc, o);
	}
}

static void conv(const layer_t *L, const uint8_t *x, uint8_t *y, int32_t *logits, int8_t *row)
{
	int32_t k, oy, ox, c, r, t;
	for (k = 0; k < L->rows; k++) {
		unpack_row(row, L, (uint32_t)k * (uint32_t)L->cols, L->cols);
		for (oy = 0; oy < L->oh; oy++)
			for (ox = 0; ox < L->ow; ox++) {
				int32_t acc = 0, q;
				/* taps t0..t1-1 of a kernel row fall inside the image */
				int32_t ix0 = ox * L->stride - L->pad, t0 = ix0 < 0 ? -ix0 : 0, t1 = L->w - ix0;
				if (t0 > L->s)
					t0 = L->s;
				if (t1 > L->s)
					t1 = L->s;
				if (t1 < t0)
					t1 = t0;
				for (c = 0; c < L->c; c++)
					for (r = 0; r < L->r; r++) {
						int32_t iy = oy * L->stride - L->pad + r;
						const int8_t *wr = row + (c * L->r + r) * L->s;
						if (iy < 0 || iy >= L->h) {
							for (t = 0; t < L->s; t++)
								acc += (int32_t)wr[t] * L->pad_value;
							continue;
						}
						{
							const uint8_t *xr = x + (c * L->h + iy) * L->w + ix0;
							for (t = t0; t < t1; t++)
								acc += (int32_t)wr[t] * (int32_t)xr[t];
						}
						if (L->pad_value != 0) {
							for (t = 0; t < t0; t++)
								acc += (int32_t)wr[t] * L->pad_value;
							for (t = t1; t < L->s; t++)
								acc += (int32_t)wr[t] * L->pad_value;
						}
					}
				q = requant(L, acc, k);
				if (L->out_max == 0)
					logits[(k * L->oh + oy) * L->ow + ox] = q;
				else
					y[(k * L->oh + oy) * L->ow + ox] = (uint8_t)q;
			}
	}
}

static void maxpool(const layer_t *L, const uint8_t *x, uint8_t *y)
{
	int32_t c, oy, ox, r, t;
	for (c = 0; c < L->c; c++)
		for (oy = 0; oy < L->oh; oy++)
			for (ox = 0; ox < L->ow; ox++) {
				uint8_t best = 0;
				for (r = 0; r < L->r; r++)
					for (t = 0; t < L->r; t++) {
						uint8_t v = x[(c * L->h + oy * L->stride + r) * L->w + ox * L->stride + t];
						if (v > best)
							best = v;
					}
				y[(c * L->oh + oy) * L->ow + ox] = best;
			}
}

int {{.Name}}_predict(const uint8_t *input, int32_t *logits)
{
	uint8_t *a = scratch, *b = scratch + {{.BufA}};
	int8_t *row = (int8_t *)(scratch + {{.BufA}} + {{.BufB}});
	int32_t i, best = 0;
#ifdef RESQ_FAULT_ACT_BER_Q64
	uint64_t as = ((uint64_t)(RESQ_FAULT_SEED) ^ 0x6163747300000000ull) + act_sample++ * 0x9e3779b97f4a7c15ull;
	as = splitmix(&as);
#endif
{{if lt .InMax 255}}	for (i = 0; i < {{.Upper}}_INPUT_SIZE; i++)
		a[i] = input[i] > {{.InMax}} ? {{.InMax}} : input[i];
{{else}}	memcpy(a, input, {{.Upper}}_INPUT_SIZE);
{{end}}	for (i = 0; i < {{len .Layers}}; i++) {
		const layer_t *L = &LAYERS[i];
		uint8_t *t;
		if (L->kind == K_DENSE)
			dense(L, a, b, logits, row);
		else if (L->kind == K_CONV)
			conv(L, a, b, logits, row);
		else
			maxpool(L, a, b);
#ifdef RESQ_FAULT_ACT_BER_Q64
		if (i < {{len .Layers}} - 1)
			act_flip(b, act_size[i], act_top[i], &as);
#endif
		t = a;
		a = b;
		b = t;
	}
	for (i = 1; i < {{.Upper}}_CLASSES; i++)
		if (logits[i] > logits[best])
			best = i;
	return (int)best;
}
`

const mainTmpl = `/* Test harness for {{.Name}} (generated): reads samples of
   {{.Upper}}_INPUT_SIZE raw input codes (bytes) from the file named by the
   first argument, or from standard input, and prints one line per sample:
   the predicted class, then the logits, space separated. */
#include <stdint.h>
#include <stdio.h>
#include "model.h"

int main(int argc, char **argv)
{
	static uint8_t in[{{.Upper}}_INPUT_SIZE];
	int32_t logits[{{.Upper}}_CLASSES];
	FILE *f = stdin;
	int k;
	if (argc > 1 && argv[1][0] != 0) {
		f = fopen(argv[1], "rb");
		if (f == NULL) {
			fprintf(stderr, "{{.Name}}: cannot open %s\n", argv[1]);
			return 2;
		}
	}
	while (fread(in, 1, sizeof in, f) == sizeof in) {
		int c = {{.Name}}_predict(in, logits);
		printf("%d", c);
		for (k = 0; k < {{.Upper}}_CLASSES; k++)
			printf(" %ld", (long)logits[k]);
		printf("\n");
	}
	if (f != stdin)
		fclose(f);
	return 0;
}
`
