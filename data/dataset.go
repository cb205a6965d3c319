package data

// Split is one part of a dataset held in memory.
type Split struct {
	X []float32 // [N, D] normalised features, row-major
	Y []int32   // [N] class labels in [0, Classes), or [N, Steps] with Steps > 0
	N int       // number of samples
	D int       // features per sample (product of Dataset.Shape)
	// Steps > 0 marks sequence data with one label per step (next-token
	// prediction): Y holds Steps labels per sample, and the error measure
	// is bits per label (bits per character) instead of a percentage of
	// wrong classes. 0: one label per sample.
	Steps int
}

// LabelsPer returns the number of labels per sample: Steps, or 1.
func (s *Split) LabelsPer() int { return max(s.Steps, 1) }

// Dataset is a classification dataset loaded and normalised in memory.
type Dataset struct {
	Name     string // "mnist", "fashion-mnist", "cifar10", "npy:..."
	Checksum string // "sha256:..." over the source files, for provenance
	Shape    []int  // per-sample shape: [D] for feature vectors, [C, H, W] for images (CHW)
	Classes  int
	Train    Split // training part (validation rows removed)
	Val      Split // validation part carved from the training set by seed (may be empty)
	Test     Split
}

// Metric names a dataset's error measure: "bpc" (bits per character, the
// mean cross-entropy in bits of a per-step prediction) for sequence data
// with per-step labels, else "error_pct" (percent of misclassified
// samples).
func (d *Dataset) Metric() string {
	if d.Train.Steps > 0 || d.Test.Steps > 0 {
		return MetricBPC
	}
	return MetricErrorPct
}

// Error measures (Dataset.Metric).
const (
	MetricErrorPct = "error_pct"
	MetricBPC      = "bpc"
)
