// Package cexport generates C99 sources that run an integer-only packed
// model (packed.ExportInteger) on a microcontroller, bit for bit as the Go
// engine (packed.Model.InferInt) does.
//
// Generate and Write produce three files from text/template templates:
//
//   - model.h: the API, NAME_predict(const uint8_t *input, int32_t
//     *logits) returning the class, and the sizes (NAME_INPUT_SIZE,
//     NAME_CLASSES, NAME_SCRATCH_BYTES, NAME_WEIGHT_BYTES);
//   - model.c: the packed codes (exactly as stored in the packed file, so
//     a ternary weight takes 2 bits or 1.6 in base 3), int32 biases,
//     multipliers and shifts as const arrays (flash), a table of layers and
//     one generic forward; its only writable memory is one static scratch
//     buffer (two activation buffers, one the size of the largest input or
//     odd stage's output, one of the largest even stage's output, and one
//     unpacked weight row). No malloc, no floating point, nothing from libc beyond
//     stdint.h and string.h;
//   - main.c: a harness that reads samples of NAME_INPUT_SIZE raw input
//     codes from the file named by its first argument, or from standard
//     input, and prints one line per sample: the class, then the logits.
//
// # Invariants
//
// The arithmetic is the packed integer mode's (packed/FORMAT.md): int32
// sums of codes times uint8 activations, v = sum + bias in int64,
// floor((v*m + 2^(sh-1)) / 2^sh) with the floor of negative values
// computed explicitly (C99 leaves >> of negative values to the
// implementation), the clamp to 0..omax, max pooling on codes, and the
// argmax that keeps the lowest index on ties. Tests compile the output with
// gcc -std=c99 -O2 -Wall -Wextra -Werror where gcc exists and compare its
// lines with the Go engine's; scripts/mcu-check.sh does the same on QEMU
// Cortex-M4 and Cortex-M0 boards.
//
// # Fault injection
//
// Compiled with -DRESQ_FAULT_SEED=S -DRESQ_FAULT_BER_Q64=T, model.c copies
// its weights to RAM at the first predict call (const arrays in flash
// cannot flip; the copy needs NAME_WEIGHT_BYTES of RAM) and flips each
// stored bit whose SplitMix64 draw from state S is below T = floor(BER *
// 2^64), in the stream order of package faults; corrupted codes then
// decode as faults.Corrupt's model does (a pattern that is not a level
// reads as 0), so the harness prints the Go engine's lines for the same
// S and T (faults' TestCFaultsMatchGo).
//
// Compiled with -DRESQ_FAULT_SEED=S -DRESQ_FAULT_ACT_BER_Q64=T (alone or
// with -DRESQ_FAULT_BER_Q64), model.c also flips the activation codes
// between layers: the n-th predict call is sample n, whose SplitMix64
// stream starts at faults.TrialSeed(S ^ 0x6163747300000000, n) and visits
// the output codes of every stage but the last, each byte from bit 0; a
// code above the stage's largest code reads as it. The harness then
// prints the lines of faults.InferActs with the same S and rate (on
// faults.Corrupt's model when the weights flip too). Without the macros
// nothing of it is compiled; the fault code is integer-only too.
//
// Bad input gives an error, never C that does not compile: a model name
// that is not a C identifier, a float-mode model, or, with a board, a
// model whose weights or scratch do not fit the board's flash or RAM
// (Fit names both numbers).
package cexport
