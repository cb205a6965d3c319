package data

// Split is one part of a dataset held in memory.
type Split struct {
	X []float32 // [N, D] normalised features, row-major
	Y []int32   // [N] class labels in [0, Classes)
	N int       // number of samples
	D int       // features per sample (product of Dataset.Shape)
}

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
