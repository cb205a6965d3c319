// Package sweep runs complexity sweeps: a grid of network sizes x bit
// widths x modes x seeds, each cell trained, quantized or retrained and
// recorded as one results.Record (the experiment of Sung, Shin and Hwang,
// "Resiliency of Deep Neural Networks under Quantization", 2016).
//
// # Spec
//
// A sweep is described in YAML (LoadSpec, ParseSpec) or picked by name
// (Preset: quick, paper-ffdnn, paper-cnn). Decoding is strict: an unknown
// key, a duplicate key, a wrong type or a bad value is an error naming the
// file and line, e.g.
//
//	sweep: spec.yaml:7: unknown key "widht" in mlp (did you mean "widths"?)
//
// Keys and their resolved defaults:
//
//	name        the file name without .yaml
//	dataset     required: mnist, fashion-mnist, cifar10, seq-mnist, fortunes (data.Names) or
//	            npy:TRAIN_X.npy,TRAIN_Y.npy,TEST_X.npy,TEST_Y.npy
//	limit       0: use all samples (N > 0: only the first N training and test samples)
//	val_size    0: no validation split (rows carved from the training set)
//	data_seed   1: seed of the validation split, the same for every cell
//	family      mlp (cnn when only a cnn section is given), cnn, lstm or gru
//	mlp         widths (required for mlp), depths [3], act relu, dropout 0, dropin 0,
//	            init uniform (or he: nn's init= option)
//	cnn         base "cnn:32c5-p2-64c5-p2-fc512-10", scales [1] (feature-map multipliers)
//	rnn         lstm and gru: hidden (required: hidden units, the size axis; cell width),
//	            layers [1] (stacked layers; cell depth), opts "" (the model spec's options,
//	            e.g. "head=seq,tokens" for a character model), float_epochs and
//	            retrain_epochs [] (one entry per hidden size overriding the budgets' epochs, so
//	            large models can train for fewer epochs; the cell config holds what it ran).
//	            Model spec: FAMILY:IN-HIDDENxLAYERS-CLASSES[,opts], IN the last dimension of
//	            the dataset's sample shape (the class count with tokens)
//	bits        [2, 3] (each 2..8; 2 = ternary)
//	sparsity    [0] (each in [0, 1)): the pruning axis, crossed with sizes and bits. A direct
//	            cell with sparsity s prunes the float model by magnitude once, then quantizes
//	            (steps over the surviving weights); a retrain cell prunes gradually while it
//	            retrains (package prune, Zhu and Gupta's cubic ramp). Pruned cells store each
//	            layer sparse where smaller (packed's relative indices, counted in stored bytes)
//	            and record the sparsity reached per layer. Hashed only into cells with s > 0,
//	            so specs without the key keep their IDs.
//	prune       scope layer (or global: one magnitude threshold over all layers), begin 0,
//	            end 0.7 (the ramp, fractions of the retraining steps)
//	bits_per_layer  [] : per-layer allocations as strings, e.g. ["8,2,2,8"] (resq allocate
//	            prints one); each is quantized beside the uniform bits for the depths whose
//	            layer count (depth+1) it matches, at every sparsity
//	modes       [float, direct, retrain]; float cells always exist, the others need their model
//	seeds       [1]
//	float       epochs 10, batch 100, lr 0.1, optimizer sgd, momentum 0.9, nesterov false,
//	            weight_decay 0, schedule cosine, step_every 10, gamma 0.1 (used by the step and exp
//	            schedules), patience 0, clip_norm 0 (gradient clipping, off) (train.Config
//	            fields)
//	retrain     every field not given is float's, except epochs 3 and lr = float.lr / 10
//	quant       rule l2, per_channel false, first_last_bits 0 (= bits), reestimate 0 (steps fixed
//	            from the float model, as in the paper), per_gate false and state_bits 0
//	            (recurrent layers: a step per gate, hidden-state quantization) (quant.Config
//	            fields)
//	workers     0: auto (see Run)
//	eval_batch  500
//	budgets     weight_bytes [8KiB, 32KiB, 128KiB, 512KiB, 2MiB], energy: decades spanning the
//	            measured energies (the report's designer's view; not hashed into cell IDs)
//	faults      absent: no fault experiments. Given, ber (required: bit error rates in [0, 1]),
//	            trials 20, seed 1, protections [none] (package faults): every cell also runs
//	            its test set with bits of its stored weights flipped (the packed model's codes,
//	            steps and biases; float cells: the float32 parameters) and records the curves
//	            (results.Record.Faults). Hashed into every cell ID only when given, so specs
//	            without it keep their IDs.
//
// A list given empty ([]) is an error, not the default (a key without a
// value keeps the default). A spec file is at most MaxSpecBytes (1 MiB) and
// its grid at most MaxCells (100,000) cells, counted before expanding.
// Quant options are checked at every bit width (rule twn is ternary only).
//
// # Cells and content addresses
//
// Spec.Cells expands the grid into cells. Each (size, seed) pair is a group
// with one float cell, which trains the model and saves it to
// DIR/models/<id>.safetensors, and per bit width a direct cell (quantize
// the float model, evaluate) and a retrain cell (quantize, retrain with the
// retrain budget, evaluate) that both start from that checkpoint: every
// float model is trained once per size and seed and reused by every bit
// width.
//
// A cell's ID is its content address: the first 16 bytes, in hex, of the
// SHA-256 of the canonical JSON of its CellConfig, which is encoding/json
// of the struct (fields in declared order, no spaces): id_format (IDFormat),
// dataset name, limit, val_size, data_seed, family, the size (width, depth,
// act, dropout, dropin, init; or base and scale), seed, the float budget, mode,
// bits (32 for float), and for quantized cells the quant options and for
// retrain cells the retrain budget. Not hashed: the spec's name, workers,
// eval_batch, the order of axes in the file, the dataset checksum (unknown
// before loading; every record carries it) and the resq version (records
// carry it; IDFormat is bumped when the same config would compute something
// different). Editing a spec therefore reuses every cell it still contains.
//
// # Running, resuming, failing
//
// Run executes the cells without an ok record in DIR (from any results
// file there), appending one record per finished cell to DIR/results.jsonl
// (results.Append: one write + fsync per line). Killed at any moment, even
// with SIGKILL, a rerun of the same command loses only the cells that were
// in flight: float checkpoints are written atomically before their record,
// a dependent cell whose float checkpoint is missing makes the float cell
// run again, and a torn last line is ignored and cut off. A cell that fails
// (its Runner returns an error, e.g. a diverging loss, or panics) is
// recorded with status "failed" and the reason, and the sweep goes on; the
// dependents of a failed float cell are recorded failed with reason
// "float model failed: ...". Failed cells are retried by the next run; the
// ok record wins when results are merged (results.ReadDir). A cell
// interrupted through the context is not recorded. A lock file next to the
// results file keeps two processes from writing the same file, and a
// shared lock on DIR/shards-N.lock (N = 1 unsharded) keeps runs whose cells
// overlap apart: the shards of one run go together, an unsharded run and a
// sharded one (or two shard counts) refuse each other. Temporary model
// files a killed run left for this shard's cells are removed at the start.
//
// When the Runner is a Checker (pipeline.CellRunner is), Run checks before the
// first cell: every float cell to run loads its data and sizes its model
// (a cell that cannot run refuses the whole sweep, "no cell was run"); the
// ok records in DIR carry the checksum of the data the cells load now (data
// changed under the same path refuses the sweep: a new folder is needed);
// and the saved model of every float cell with dependents still to run
// loads, is finite and fits its cell, else the float cell runs again.
// Summary.Err turns failed cells into an error for the exit status.
//
// Workers: at most W cells run at once (RunOptions.Workers, else the spec's
// workers, else GOMAXPROCS). The GEMM kernels' thread count is a process
// setting (tensor.SetThreads); Run sets it to max(1, GOMAXPROCS/r)
// whenever the number r of running cells changes. On 2 cores that is 2
// cells x 1 GEMM thread while two independent cells are ready (the cheaper
// way to use two cores: no synchronisation inside GEMM), and 1 cell x 2
// threads when only one is (a sweep with a single group, or its tail).
// Dependent cells are started before new float cells, so groups finish in
// order and partial results are usable early.
//
// # Cost figures and latency
//
// The real runner (pipeline.CellRunner) computes every record's cost
// figures (package cost: weight bytes, code entropy, activation RAM,
// operations by kind, weight traffic, energy with
// pipeline.CellRunnerOptions.CostTable) when the cell runs, from the codes
// in memory: retrained models need not be kept on disk. With
// CellRunnerOptions.MeasureLatency it also keeps each cell's model
// (packed bytes in memory for quantized cells, the float checkpoint on
// disk) and times it at batch 1 and 100 in Finish, which Run calls once
// the last cell has finished, so that no cell runs beside a measurement.
// Latencies go to DIR/costs.jsonl (results.CostsFile), which
// results.ReadDir attaches to the records; a run interrupted before the
// end has no latencies for its cells (resq cost DIR --measure-latency
// times those whose models are on disk). pipeline.Recost computes the
// figures of records written by an older resq from the stored models.
//
// # Shards
//
// RunOptions{Shard: I, Shards: N} runs the groups whose index g (in Cells
// order) has g mod N == I; I is 0-based (0..N-1), like Kubernetes'
// JOB_COMPLETION_INDEX. A whole group stays in one shard, so dependents
// find their float model locally. Each shard appends to
// DIR/results-shard-I-of-N.jsonl; shards may share DIR (a network volume)
// and results.ReadDir merges them. ShardFromEnv reads the shard from
// RESQ_SHARD, a Kubernetes Indexed Job or a Slurm job array; see
// deploy/k8s-sweep-job.yaml and deploy/slurm-sweep.sbatch.
//
// # Runners
//
// The engine (run.go: plan, schedule, record) does not train anything
// itself and imports none of the packages that do: a Runner computes one
// cell. The real one is pipeline.CellRunner, next to the pipeline it wires
// (data, nn, train, quant, ckpt, packed, cost, faults); the command line
// gives it to Run. The engine's tests use a fake runner, which keeps them
// fast and exact.
// Who mutates what: Run owns the results file and the plan; a Runner owns
// the model files of its cells and must be safe for concurrent use.
package sweep
