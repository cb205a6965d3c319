package data

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// CIFAR-10 binary format: records of 1 label byte followed by 3072 pixel
// bytes (1024 red, 1024 green, 1024 blue, each 32x32 row-major: CHW).
const (
	cifarPixels       = 3 * 32 * 32
	cifarRecord       = 1 + cifarPixels
	cifarBatchRecords = 10000
	cifarClasses      = 10
)

// cifarTrainBatches and cifarTestBatch are the batch files of the binary
// distribution, in order.
var cifarTrainBatches = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}

const cifarTestBatch = "test_batch.bin"

// CIFARBatch is one CIFAR-10 binary batch held as bytes.
type CIFARBatch struct {
	Pixels []byte  // [N, 3, 32, 32] unsigned bytes, CHW per image
	Labels []uint8 // [N] in [0, 10)
}

// N is the number of images in the batch.
func (b *CIFARBatch) N() int { return len(b.Labels) }

// ReadCIFARBatch reads a CIFAR-10 binary batch of size bytes from r (size <
// 0: unknown, read to EOF). name labels errors. When maxRecords > 0 at most
// that many records are kept. A size that is not a whole number of records,
// more records than a batch holds, or a label outside 0..9 is an error.
func ReadCIFARBatch(r io.Reader, size int64, name string, maxRecords int) (*CIFARBatch, error) {
	if size >= 0 {
		if size%cifarRecord != 0 {
			return nil, fmt.Errorf("data: %s: size %d is not a whole number of %d-byte CIFAR-10 records (truncated or not a CIFAR-10 batch)", name, size, cifarRecord)
		}
		if size/cifarRecord > cifarBatchRecords {
			return nil, fmt.Errorf("data: %s: size %d is beyond the format (a CIFAR-10 batch holds %d records of %d bytes)", name, size, cifarBatchRecords, cifarRecord)
		}
	}
	b := &CIFARBatch{}
	var rec [cifarRecord]byte
	for i := 0; ; i++ {
		if i == cifarBatchRecords {
			var one [1]byte
			if n, _ := io.ReadFull(r, one[:]); n != 0 {
				return nil, fmt.Errorf("data: %s: more than %d records: beyond the CIFAR-10 batch format", name, cifarBatchRecords)
			}
			break
		}
		n, err := io.ReadFull(r, rec[:])
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("data: %s: truncated at byte %d: record %d has %d of %d bytes", name, int64(i)*cifarRecord+int64(n), i, n, cifarRecord)
			}
			return nil, fmt.Errorf("data: %s: %v", name, err)
		}
		if rec[0] >= cifarClasses {
			return nil, fmt.Errorf("data: %s: record %d: label %d out of range 0..%d", name, i, rec[0], cifarClasses-1)
		}
		if maxRecords > 0 && i >= maxRecords {
			continue // keep validating, drop the pixels
		}
		if b.Pixels == nil {
			c := 16 // unknown size: grow as records arrive
			if size >= 0 {
				c = int(size / cifarRecord)
			}
			if maxRecords > 0 && maxRecords < c {
				c = maxRecords
			}
			b.Pixels = make([]byte, 0, c*cifarPixels)
			b.Labels = make([]uint8, 0, c)
		}
		b.Labels = append(b.Labels, rec[0])
		b.Pixels = append(b.Pixels, rec[1:]...)
	}
	return b, nil
}

// cifarSet is the training batches and the test batch of CIFAR-10.
type cifarSet struct {
	train [5]*CIFARBatch
	test  *CIFARBatch
}

// checkTarName rejects entry names that would escape an extraction folder:
// absolute paths, "..", or names that clean to something else.
func checkTarName(archive, name string) error {
	if name == "" {
		return fmt.Errorf("data: %s: tar entry with an empty name", archive)
	}
	if strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) || filepath.IsAbs(name) || (len(name) > 1 && name[1] == ':') {
		return fmt.Errorf("data: %s: tar entry %q has an absolute path", archive, name)
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return fmt.Errorf("data: %s: tar entry %q contains \"..\"", archive, name)
		}
	}
	return nil
}

// cifarLimit holds how many training and test records to keep (0 = all).
type cifarLimit struct{ train, test int }

// readCIFARTar reads the batches from cifar-10-binary.tar.gz (or an
// uncompressed tar) streamed from r. Entries are matched by base name
// inside the cifar-10-batches-bin folder; other entries are checked and
// skipped.
func readCIFARTar(r io.Reader, archive string, lim cifarLimit) (*cifarSet, error) {
	zr, _, err := maybeGunzip(r, archive)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	set := &cifarSet{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("data: %s: truncated archive", archive)
			}
			return nil, fmt.Errorf("data: %s: %v", archive, err)
		}
		if err := checkTarName(archive, h.Name); err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg { // the reader reports old-style TypeRegA entries as TypeReg
			continue
		}
		base := path.Base(h.Name)
		ename := archive + ":" + h.Name
		slot, isTest := cifarSlot(base)
		if slot < 0 && !isTest {
			continue
		}
		if path.Base(path.Dir(h.Name)) != "cifar-10-batches-bin" {
			continue
		}
		keep := lim.train
		if isTest {
			keep = lim.test
		}
		if !isTest && keep > 0 {
			// Records kept from earlier batches count against the limit.
			for _, b := range set.train[:slot] {
				if b != nil {
					keep -= b.N()
				}
			}
			if keep <= 0 {
				keep = -1 // read and validate nothing more than needed
			}
		}
		if (isTest && set.test != nil) || (!isTest && set.train[slot] != nil) {
			return nil, fmt.Errorf("data: %s: duplicate entry %s", archive, h.Name)
		}
		var b *CIFARBatch
		if keep < 0 {
			b = &CIFARBatch{}
		} else {
			b, err = ReadCIFARBatch(tr, h.Size, ename, keep)
			if err != nil {
				return nil, err
			}
		}
		if isTest {
			set.test = b
		} else {
			set.train[slot] = b
		}
	}
	if err := set.complete(archive); err != nil {
		return nil, err
	}
	return set, nil
}

// cifarSlot maps a batch file name to its training slot (0..4), or reports
// the test batch; (-1, false) for other files.
func cifarSlot(base string) (int, bool) {
	if base == cifarTestBatch {
		return -1, true
	}
	for i, n := range cifarTrainBatches {
		if base == n {
			return i, false
		}
	}
	return -1, false
}

func (s *cifarSet) complete(where string) error {
	var missing []string
	for i, b := range s.train {
		if b == nil {
			missing = append(missing, cifarTrainBatches[i])
		}
	}
	if s.test == nil {
		missing = append(missing, cifarTestBatch)
	}
	if len(missing) > 0 {
		return fmt.Errorf("data: %s: missing CIFAR-10 batches %s", where, strings.Join(missing, ", "))
	}
	return nil
}

// readCIFARDir reads the batches from an extracted cifar-10-batches-bin
// folder.
func readCIFARDir(dir string, lim cifarLimit) (*cifarSet, error) {
	set := &cifarSet{}
	left := lim.train
	read := func(name string, keep int) (*CIFARBatch, error) {
		p := filepath.Join(dir, name)
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("data: %v", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("data: %v", err)
		}
		return ReadCIFARBatch(f, st.Size(), p, keep)
	}
	for i, n := range cifarTrainBatches {
		if lim.train > 0 && left <= 0 {
			set.train[i] = &CIFARBatch{}
			continue
		}
		b, err := read(n, left)
		if err != nil {
			return nil, err
		}
		set.train[i] = b
		left -= b.N()
	}
	b, err := read(cifarTestBatch, lim.test)
	if err != nil {
		return nil, err
	}
	set.test = b
	return set, nil
}
