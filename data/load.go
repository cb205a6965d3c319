package data

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Options controls Load.
type Options struct {
	CacheDir string // "" means DefaultCacheDir()

	// ValSize rows of the training set are carved out, chosen by Seed, as
	// the validation split. When ValSize is 0, ValFraction (0 <= f < 1) of
	// the training rows are carved instead. Both 0: no validation split.
	ValSize     int
	ValFraction float64
	Seed        uint64

	Fetch bool      // fetch a missing named dataset (see Fetch) instead of failing
	Log   io.Writer // where fetching says what it does; nil: silent

	// Limit > 0 keeps only the first Limit training and the first Limit
	// test rows (before the validation split), for quick runs and tests.
	// Only those rows are decoded, so checksums are not verified then.
	Limit int
}

// Load reads a dataset into memory, normalised (see the package
// documentation for each dataset's normalisation). name is "mnist",
// "fashion-mnist", "cifar10" (from the cache folder) or
// "npy:TRAIN_X.npy,TRAIN_Y.npy,TEST_X.npy,TEST_Y.npy" (local files).
// A named dataset that is not in the cache is fetched first when
// opt.Fetch is set, and Load says so on opt.Log.
func Load(name string, opt Options) (*Dataset, error) {
	if opt.CacheDir == "" {
		opt.CacheDir = DefaultCacheDir()
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if opt.Limit < 0 || opt.ValSize < 0 || opt.ValFraction < 0 || opt.ValFraction >= 1 {
		return nil, fmt.Errorf("data: %s: bad options: Limit %d, ValSize %d, ValFraction %g (want Limit, ValSize >= 0 and 0 <= ValFraction < 1)", name, opt.Limit, opt.ValSize, opt.ValFraction)
	}
	var ds *Dataset
	var err error
	switch {
	case strings.HasPrefix(name, "npy:"):
		ds, err = loadNPY(name, opt)
	case name == "mnist" || name == "fashion-mnist":
		if err = ensureCached(name, opt); err == nil {
			ds, err = loadIDXSet(lookupSource(name), opt)
		}
	case name == "cifar10":
		if err = ensureCached(name, opt); err == nil {
			ds, err = loadCIFAR(lookupSource(name), opt)
		}
	case name == "fortunes":
		ds, err = loadFortunes(os.Getenv("RESQ_FORTUNES"), opt)
		if err == nil && (opt.ValSize > 0 || opt.ValFraction > 0) {
			return nil, fmt.Errorf("data: fortunes: has its validation split by file; drop the validation size")
		}
		if err == nil {
			return ds, nil
		}
	default:
		if base, perm, ok := seqBase(name); ok {
			if ds, err = Load(base, opt); err != nil {
				return nil, err
			}
			return asSequence(ds, name, perm), nil
		}
		return nil, fmt.Errorf("data: unknown dataset %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if err != nil {
		return nil, err
	}
	nval := opt.ValSize
	if nval == 0 && opt.ValFraction > 0 {
		nval = int(opt.ValFraction * float64(ds.Train.N))
	}
	if nval >= ds.Train.N && nval > 0 {
		return nil, fmt.Errorf("data: %s: validation size %d leaves no training rows (training set has %d)", name, nval, ds.Train.N)
	}
	ds.Val = carveVal(&ds.Train, nval, opt.Seed)
	return ds, nil
}

// ensureCached fetches a missing named dataset when allowed.
func ensureCached(name string, opt Options) error {
	st, err := statusOf(lookupSource(name), opt.CacheDir, false)
	if err != nil {
		return err
	}
	if st.State != StateMissing {
		return nil
	}
	dir := filepath.Join(opt.CacheDir, name)
	if !opt.Fetch {
		return fmt.Errorf("data: %s: not in the cache folder %s: run `resq data fetch %s` (or allow fetching)", name, dir, name)
	}
	fmt.Fprintf(opt.Log, "data: %s is not in %s; fetching it\n", name, dir)
	return Fetch(context.Background(), name, FetchOptions{CacheDir: opt.CacheDir, Log: opt.Log})
}

// openHashed opens path and returns a reader that hashes what is read
// through it. The caller must drain it before reading the sum.
func openHashed(path string, h hash.Hash) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %v", err)
	}
	return io.TeeReader(f, h), f.Close, nil
}

// idxFile is one decoded IDX file and the SHA-256 of its decompressed bytes
// ("" when only part of it was read).
type idxFile struct {
	arr    *IDX
	sha256 string
	err    error
}

func readIDXFile(path string, maxItems int) idxFile {
	f, err := os.Open(path)
	if err != nil {
		return idxFile{err: fmt.Errorf("data: %v", err)}
	}
	defer f.Close()
	hint := gzipSizeHint(f)
	zr, _, err := maybeGunzip(f, path)
	if err != nil {
		return idxFile{err: err}
	}
	h := sha256.New()
	arr, err := readIDX(io.TeeReader(zr, h), path, maxItems, hint)
	if err != nil {
		return idxFile{err: err}
	}
	out := idxFile{arr: arr}
	if maxItems <= 0 {
		out.sha256 = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// gzipSizeHint returns the decompressed size a gzip file records in its
// last four bytes (ISIZE, modulo 2^32), the size of an uncompressed file,
// or -1. It is only a hint: the
// reader checks it against the IDX header and the data actually present.
func gzipSizeHint(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil || st.Size() < 18 {
		return -1
	}
	var b [4]byte
	if _, err := f.ReadAt(b[:2], 0); err != nil {
		return -1
	}
	if b[0] != 0x1f || b[1] != 0x8b {
		return st.Size() // not compressed: the file size is the stream size
	}
	if _, err := f.ReadAt(b[:], st.Size()-4); err != nil {
		return -1
	}
	return int64(binary.LittleEndian.Uint32(b[:]))
}

// loadIDXSet reads the four IDX files of mnist or fashion-mnist.
func loadIDXSet(src *source, opt Options) (*Dataset, error) {
	dir := filepath.Join(opt.CacheDir, src.Name)
	files := make([]idxFile, len(src.Files))
	var wg sync.WaitGroup
	for i, spec := range src.Files {
		wg.Go(func() { files[i] = readIDXFile(filepath.Join(dir, spec.Name), opt.Limit) })
	}
	wg.Wait()
	sum := sha256.New()
	for i, f := range files {
		spec := src.Files[i]
		if f.err != nil {
			if errors.Is(f.err, os.ErrNotExist) {
				return nil, f.err
			}
			return nil, fmt.Errorf("%v: the cached file is damaged: delete %s and run `resq data fetch %s`", f.err, filepath.Join(dir, spec.Name), src.Name)
		}
		if opt.Limit <= 0 && f.sha256 != spec.SHA256 {
			return nil, fmt.Errorf("data: %s: checksum mismatch: decompressed sha256 %s, want %s: delete it and run `resq data fetch %s`", filepath.Join(dir, spec.Name), f.sha256, spec.SHA256, src.Name)
		}
		fmt.Fprintf(sum, "%s %s\n", spec.Name, f.sha256)
	}
	if opt.Limit > 0 {
		// Provenance of a partial read: the limit and the bytes decoded.
		fmt.Fprintf(sum, "limit %d\n", opt.Limit)
		for _, f := range files {
			sum.Write(f.arr.Data)
		}
	}
	ds := &Dataset{
		Name:     src.Name,
		Checksum: "sha256:" + hex.EncodeToString(sum.Sum(nil)),
		Shape:    slices.Clone(src.Shape),
		Classes:  src.Classes,
	}
	var err error
	ds.Train, err = idxSplit(files[0].arr, files[1].arr, filepath.Join(dir, src.Files[0].Name), filepath.Join(dir, src.Files[1].Name), src.Shape, src.Classes)
	if err != nil {
		return nil, err
	}
	ds.Test, err = idxSplit(files[2].arr, files[3].arr, filepath.Join(dir, src.Files[2].Name), filepath.Join(dir, src.Files[3].Name), src.Shape, src.Classes)
	if err != nil {
		return nil, err
	}
	return ds, nil
}

// idxSplit checks an image/label pair and converts it to a Split with
// pixels scaled to [0, 1].
func idxSplit(img, lab *IDX, imgName, labName string, shape []int, classes int) (Split, error) {
	d := 1
	for _, s := range shape {
		d *= s
	}
	per := 1
	for _, s := range img.Dims[1:] {
		per *= s
	}
	if len(img.Dims) < 2 || per != d {
		return Split{}, fmt.Errorf("data: %s: image dimensions %v, want [N %s]", imgName, img.Dims, dimsStr(shape))
	}
	if len(lab.Dims) != 1 {
		return Split{}, fmt.Errorf("data: %s: label dimensions %v, want [N]", labName, lab.Dims)
	}
	if img.Dims[0] != lab.Dims[0] {
		return Split{}, fmt.Errorf("data: %s has %d images but %s has %d labels", imgName, img.Dims[0], labName, lab.Dims[0])
	}
	n := img.Dims[0]
	s := Split{X: make([]float32, n*d), Y: make([]int32, n), N: n, D: d}
	for i, l := range lab.Data {
		if int(l) >= classes {
			return Split{}, fmt.Errorf("data: %s: label %d of item %d out of range 0..%d", labName, l, i, classes-1)
		}
		s.Y[i] = int32(l)
	}
	parallelUnit(s.X, img.Data)
	return s, nil
}

// parallelUnit is bytesToUnit on two goroutines for large inputs (the
// cost is mostly first-touch page faults on the fresh float32 slice).
func parallelUnit(dst []float32, src []byte) {
	if len(src) < 1<<20 {
		bytesToUnit(dst, src)
		return
	}
	h := len(src) / 2
	var wg sync.WaitGroup
	wg.Go(func() { bytesToUnit(dst[:h], src[:h]) })
	bytesToUnit(dst[h:], src[h:])
	wg.Wait()
}

func dimsStr(s []int) string {
	p := make([]string, len(s))
	for i, v := range s {
		p[i] = fmt.Sprint(v)
	}
	return strings.Join(p, " ")
}

// CIFAR-10 per-channel mean and standard deviation of the training pixels
// scaled to [0, 1] (the widely published constants).
var (
	cifarMean = [3]float32{0.4914, 0.4822, 0.4465}
	cifarStd  = [3]float32{0.2470, 0.2435, 0.2616}
)

// loadCIFAR reads CIFAR-10 from CacheDir/cifar10/cifar-10-binary.tar.gz or,
// failing that, the extracted CacheDir/cifar10/cifar-10-batches-bin/.
func loadCIFAR(src *source, opt Options) (*Dataset, error) {
	dir := filepath.Join(opt.CacheDir, src.Name)
	lim := cifarLimit{train: opt.Limit, test: opt.Limit}
	archive := filepath.Join(dir, src.Files[0].Name)
	var set *cifarSet
	var provenance string
	if _, err := os.Stat(archive); err == nil {
		h := md5.New()
		r, closeFn, err := openHashed(archive, h)
		if err != nil {
			return nil, err
		}
		defer closeFn()
		set, err = readCIFARTar(r, archive, lim)
		if err != nil {
			return nil, err
		}
		if opt.Limit <= 0 {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return nil, fmt.Errorf("data: %s: %v", archive, err)
			}
			got := hex.EncodeToString(h.Sum(nil))
			if got != src.Files[0].MD5 {
				return nil, fmt.Errorf("data: %s: checksum mismatch: md5 %s, want %s: delete it and fetch or download it again", archive, got, src.Files[0].MD5)
			}
			provenance = "cifar-10-binary.tar.gz md5 " + got
		}
	} else {
		bin := filepath.Join(dir, "cifar-10-batches-bin")
		set, err = readCIFARDir(bin, lim)
		if err != nil {
			return nil, err
		}
	}
	ds := &Dataset{Name: src.Name, Shape: slices.Clone(src.Shape), Classes: src.Classes}
	ds.Train = cifarSplit(set.train[:], opt.Limit)
	ds.Test = cifarSplit([]*CIFARBatch{set.test}, opt.Limit)
	sum := sha256.New()
	if provenance != "" {
		io.WriteString(sum, provenance)
	} else {
		// Extracted folder or partial read: hash the data itself.
		for _, b := range append(set.train[:], set.test) {
			sum.Write(b.Labels)
			sum.Write(b.Pixels)
		}
	}
	ds.Checksum = "sha256:" + hex.EncodeToString(sum.Sum(nil))
	return ds, nil
}

// cifarSplit concatenates batches (at most limit rows when limit > 0) and
// normalises each channel: (x/255 - mean[c]) / std[c].
func cifarSplit(batches []*CIFARBatch, limit int) Split {
	n := 0
	for _, b := range batches {
		n += b.N()
	}
	if limit > 0 && n > limit {
		n = limit
	}
	s := Split{X: make([]float32, n*cifarPixels), Y: make([]int32, n), N: n, D: cifarPixels}
	var lut [3][256]float32
	for c := range lut {
		for v := range lut[c] {
			lut[c][v] = (float32(v)/255 - cifarMean[c]) / cifarStd[c]
		}
	}
	row := 0
	for _, b := range batches {
		for i := 0; i < b.N() && row < n; i++ {
			s.Y[row] = int32(b.Labels[i])
			px := b.Pixels[i*cifarPixels : (i+1)*cifarPixels]
			x := s.X[row*cifarPixels : (row+1)*cifarPixels]
			for c := 0; c < 3; c++ {
				t := &lut[c]
				for j, v := range px[c*1024 : (c+1)*1024] {
					x[c*1024+j] = t[v]
				}
			}
			row++
		}
	}
	return s
}

// loadNPY reads "npy:TRAIN_X,TRAIN_Y,TEST_X,TEST_Y".
func loadNPY(name string, opt Options) (*Dataset, error) {
	paths := strings.Split(strings.TrimPrefix(name, "npy:"), ",")
	if len(paths) != 4 || slices.Contains(paths, "") {
		return nil, fmt.Errorf("data: %q: want npy:TRAIN_X.npy,TRAIN_Y.npy,TEST_X.npy,TEST_Y.npy (four comma-separated paths)", name)
	}
	arrs := make([]*NPY, 4)
	sum := sha256.New()
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("data: %q: no such file", p)
			}
			return nil, fmt.Errorf("data: %v", err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("data: %v", err)
		}
		if st.IsDir() {
			f.Close()
			return nil, fmt.Errorf("data: %q is a folder, not an .npy file", p)
		}
		h := sha256.New()
		arrs[i], err = ReadNPY(io.TeeReader(f, h), st.Size(), p)
		f.Close()
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(sum, "%s %x\n", filepath.Base(p), h.Sum(nil))
	}
	shape, err := npyFeatureShape(arrs[0], paths[0])
	if err != nil {
		return nil, err
	}
	if s2, err := npyFeatureShape(arrs[2], paths[2]); err != nil {
		return nil, err
	} else if !slices.Equal(s2, shape) {
		return nil, fmt.Errorf("data: %q: per-sample shape %v differs from %q's %v", paths[2], arrs[2].Shape[1:], paths[0], arrs[0].Shape[1:])
	}
	if opt.Limit > 0 {
		fmt.Fprintf(sum, "limit %d\n", opt.Limit)
	}
	ds := &Dataset{Name: name, Checksum: "sha256:" + hex.EncodeToString(sum.Sum(nil)), Shape: shape}
	maxLabel := int64(-1)
	for i, pair := range [][2]int{{0, 1}, {2, 3}} {
		x, y := arrs[pair[0]], arrs[pair[1]]
		s, m, err := npySplit(x, y, paths[pair[0]], paths[pair[1]], shape, opt.Limit)
		if err != nil {
			return nil, err
		}
		maxLabel = max(maxLabel, m)
		if i == 0 {
			ds.Train = s
		} else {
			ds.Test = s
		}
	}
	ds.Classes = int(maxLabel + 1)
	if ds.Classes < 2 {
		return nil, fmt.Errorf("data: %q: labels hold %d class(es); a classifier needs at least 2", paths[1], ds.Classes)
	}
	if ds.Test.N == 0 {
		return nil, fmt.Errorf("data: %q: the test split has no rows: an error rate needs at least one", paths[2])
	}
	return ds, nil
}

// npyFeatureShape maps a features array's shape to a per-sample shape:
// [N, D] -> [D]; [N, H, W] -> [1, H, W]; [N, H, W, C] -> [C, H, W].
func npyFeatureShape(a *NPY, p string) ([]int, error) {
	switch len(a.Shape) {
	case 2:
		return []int{a.Shape[1]}, nil
	case 3:
		return []int{1, a.Shape[1], a.Shape[2]}, nil
	case 4:
		return []int{a.Shape[3], a.Shape[1], a.Shape[2]}, nil
	}
	return nil, fmt.Errorf("data: %q: features of shape %v: want [N, D], [N, H, W] or [N, H, W, C]", p, a.Shape)
}

// npySplit converts features and labels to a Split and returns the largest
// label. uint8 features are scaled by 1/255; others are kept as given.
// [N, H, W, C] features are transposed to CHW.
func npySplit(x, y *NPY, xp, yp string, shape []int, limit int) (Split, int64, error) {
	if len(y.Shape) != 1 {
		return Split{}, 0, fmt.Errorf("data: %q: labels of shape %v: want [N]", yp, y.Shape)
	}
	if x.Shape[0] != y.Shape[0] {
		return Split{}, 0, fmt.Errorf("data: %q has %d rows but %q has %d labels", xp, x.Shape[0], yp, y.Shape[0])
	}
	n := x.Shape[0]
	d := x.Len() / max(n, 1)
	if n == 0 {
		d = 1
		for _, v := range shape {
			d *= v
		}
	}
	all := make([]float32, x.Len())
	x.Float32s(all)
	if x.Dtype == "u1" {
		for i := range all {
			all[i] /= 255
		}
	}
	if limit > 0 && n > limit {
		n = limit
		all = all[:n*d]
	}
	if x.Dtype == "f4" || x.Dtype == "f8" {
		for i, v := range all {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return Split{}, 0, fmt.Errorf("data: %q: row %d, feature %d is %v: features must be finite numbers", xp, i/max(d, 1), i%max(d, 1), v)
			}
		}
	}
	s := Split{X: all, Y: make([]int32, n), N: n, D: d}
	if len(x.Shape) == 4 {
		h, w, c := x.Shape[1], x.Shape[2], x.Shape[3]
		s.X = make([]float32, n*d)
		for i := 0; i < n; i++ {
			src := all[i*d : (i+1)*d]
			dst := s.X[i*d : (i+1)*d]
			for yy := 0; yy < h; yy++ {
				for xx := 0; xx < w; xx++ {
					for ch := 0; ch < c; ch++ {
						dst[(ch*h+yy)*w+xx] = src[(yy*w+xx)*c+ch]
					}
				}
			}
		}
	}
	maxLabel := int64(-1)
	for i := 0; i < n; i++ {
		v, ok := y.Int(i)
		if f, isFloat := y.floatAt(i); isFloat && !ok {
			if f == math.Trunc(f) {
				return Split{}, 0, fmt.Errorf("data: %q: label %g of row %d out of range 0..%d", yp, f, i, maxLabels-1)
			}
			return Split{}, 0, fmt.Errorf("data: %q: label %g of row %d is not a whole number", yp, f, i)
		}
		if !ok {
			return Split{}, 0, fmt.Errorf("data: %q: label of row %d is not a whole number", yp, i)
		}
		if v < 0 || v >= maxLabels {
			return Split{}, 0, fmt.Errorf("data: %q: label %d of row %d out of range 0..%d", yp, v, i, maxLabels-1)
		}
		s.Y[i] = int32(v)
		maxLabel = max(maxLabel, v)
	}
	return s, maxLabel, nil
}

// maxLabels bounds the class labels of NPY datasets (0..maxLabels-1).
const maxLabels = 1 << 20

// carveVal moves n rows of train, chosen by a permutation seeded with seed,
// into the returned validation split. Both splits keep their rows in their
// original relative order; train is compacted in place.
func carveVal(train *Split, n int, seed uint64) Split {
	d, l := train.D, train.LabelsPer()
	if n <= 0 {
		return Split{X: []float32{}, Y: []int32{}, D: d, Steps: train.Steps}
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	perm := rng.Perm(train.N)
	isVal := make([]bool, train.N)
	for _, i := range perm[:n] {
		isVal[i] = true
	}
	val := Split{X: make([]float32, 0, n*d), Y: make([]int32, 0, n*l), N: n, D: d, Steps: train.Steps}
	w := 0
	for i := 0; i < train.N; i++ {
		row := train.X[i*d : (i+1)*d]
		if isVal[i] {
			val.X = append(val.X, row...)
			val.Y = append(val.Y, train.Y[i*l:(i+1)*l]...)
			continue
		}
		if w != i {
			copy(train.X[w*d:(w+1)*d], row)
			copy(train.Y[w*l:(w+1)*l], train.Y[i*l:(i+1)*l])
		}
		w++
	}
	train.N = w
	train.X = train.X[: w*d : w*d]
	train.Y = train.Y[: w*l : w*l]
	return val
}
