// Package pipeline is the pipeline of one unit of work: it composes the
// other packages into what a user asks for (train a float model, quantize
// it directly, retrain it with quantized weights, evaluate, export, infer)
// and into the run of one sweep cell (CellRunner, the sweep.Runner that
// really trains; Recost). The command line (cmd/resq) and sweeps both call
// these functions, so a sweep cell and the equivalent single command
// compute exactly the same thing.
//
// Retraining draws its batch order and dropout masks from RetrainSeed of
// the float model's seed, not from that seed itself: it would otherwise
// replay the batch order of the float training's first epochs, and every
// seed's retraining would share the masks of a checkpoint's model (built
// with seed 0). On the paper's 3-layer MLPs that gave retrained errors up
// to 0.46 points higher (examples/fidelity).
//
// Every function takes its dataset already loaded (loading is the caller's
// choice of cache and split), writes checkpoints atomically, and returns an
// Outcome that carries the figures and provenance that records and --json
// output print. Errors are one line, prefixed with the package that found
// the problem, and leave existing output files untouched.
package pipeline
