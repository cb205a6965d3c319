package results

import "github.com/resq-dev/resq/cost"

// Record is one measured cell of a sweep (or one train/retrain run),
// written as one JSON line. It carries everything needed to trace and
// reproduce the number: the resolved config, seed, dataset checksum, resq
// version and build, and the CPU and kernels (which fix the order of the
// sums, hence the last bits).
type Record struct {
	ID       string `json:"id"`                  // content address of the cell (hash of its resolved config)
	ParentID string `json:"parent_id,omitempty"` // for direct/retrain cells: the ID of the float cell whose model they start from
	Status   string `json:"status"`              // "ok" or "failed"
	Reason   string `json:"reason,omitempty"`
	Version  string `json:"resq_version"`      // version and build (internal/version: the VCS revision, or a hash of the executable)
	CPU      string `json:"cpu,omitempty"`     // the CPU model the numbers were computed on
	Kernels  string `json:"kernels,omitempty"` // the GEMM and integer kernels that computed them, e.g. "gemm avx2-6x16, int8 avx2"

	Dataset         string  `json:"dataset"`
	DatasetChecksum string  `json:"dataset_checksum"`
	Model           string  `json:"model"`           // model spec, e.g. "mlp:784-256x3-10"
	Family          string  `json:"family"`          // "mlp" or "cnn"
	Width           int     `json:"width,omitempty"` // hidden units (mlp)
	Depth           int     `json:"depth,omitempty"` // hidden layers (mlp)
	Scale           float64 `json:"scale,omitempty"` // feature-map multiplier (cnn)
	Mode            string  `json:"mode"`            // ModeFloat, ModeDirect or ModeRetrain
	Bits            int     `json:"bits"`            // 32 for float
	Seed            uint64  `json:"seed"`
	// Sparsity is the cell's target fraction of pruned weights (0:
	// unpruned), LayerSparsity the fraction it reached per quantized
	// layer, and BitsPerLayer its per-layer bit allocation (Bits is then
	// the widest layer).
	Sparsity      float64   `json:"sparsity,omitempty"`
	LayerSparsity []float64 `json:"layer_sparsity,omitempty"`
	BitsPerLayer  []int     `json:"bits_per_layer,omitempty"`

	Weights     int64   `json:"weights"`      // number of quantizable weights
	Params      int64   `json:"params"`       // all parameters including biases
	StoredBytes int64   `json:"stored_bytes"` // bytes of the packed model's tensors (codes, steps, biases)
	TestErrPct  float64 `json:"test_error_pct"`
	ValErrPct   float64 `json:"val_error_pct,omitempty"`

	TrainSeconds float64 `json:"train_seconds"`
	EvalSeconds  float64 `json:"eval_seconds"`

	Config map[string]any `json:"config"` // the resolved cell config

	// Cost is the cost of one inference (package cost), computed from the
	// model's codes when the cell ran; nil in records of an older resq
	// (resq cost DIR recomputes it from the stored models).
	Cost *cost.Figures `json:"cost,omitempty"`

	// Faults is the cell's bit-error experiment, for sweeps with a faults
	// key; nil otherwise.
	Faults *Faults `json:"faults,omitempty"`
}

// Modes of a record, the one set of them: sweep, pipeline, report, advise
// and cmd/resq use these.
const (
	ModeFloat   = "float"   // trained in float32
	ModeDirect  = "direct"  // the float model quantized, not retrained
	ModeRetrain = "retrain" // retrained with quantized weights
)

// Status values.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
)
