// Package job composes the other packages into the units of work a user
// asks for: train a float model, quantize it directly, retrain it with
// quantized weights, evaluate a checkpoint. The command line (cmd/resq) and
// the sweep runner (package sweep) both call these functions, so a sweep
// cell and the equivalent single command compute exactly the same thing.
//
// Every function takes its dataset already loaded (loading is the caller's
// choice of cache and split), writes checkpoints atomically, and returns an
// Outcome that carries the figures and provenance that records and --json
// output print. Errors are one line, prefixed with the package that found
// the problem, and leave existing output files untouched.
package job
