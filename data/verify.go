package data

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// verifyResult is what checking one file against its fileSpec found.
type verifyResult struct {
	MD5      string // of the file as stored
	SHA256   string // of the decompressed bytes (IDX files only)
	Size     int64  // decompressed size (IDX) or file size
	Original bool   // the MD5 matches the published original file
}

// verifyFile checks path against spec. For files with a known decompressed
// SHA-256 (the IDX datasets) that hash and the size are the verification of
// record: Debian's recompressed copies pass it although their .gz MD5
// differs. Archives are checked by their published MD5. A mismatch is an
// error naming the file, the hash found and the hash wanted.
func verifyFile(path string, spec fileSpec) (verifyResult, error) {
	var res verifyResult
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("data: %v", err)
	}
	defer f.Close()
	mh := md5.New()
	raw := io.TeeReader(f, mh)
	if spec.SHA256 != "" {
		zr, _, err := maybeGunzip(raw, path)
		if err != nil {
			return res, err
		}
		sh := sha256.New()
		n, err := io.Copy(sh, zr)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return res, fmt.Errorf("data: %s: truncated gzip stream after %d bytes (interrupted download?)", path, n)
			}
			return res, fmt.Errorf("data: %s: %v", path, err)
		}
		if _, err := io.Copy(io.Discard, raw); err != nil {
			return res, fmt.Errorf("data: %s: %v", path, err)
		}
		res.SHA256 = hex.EncodeToString(sh.Sum(nil))
		res.Size = n
	} else {
		n, err := io.Copy(io.Discard, raw)
		if err != nil {
			return res, fmt.Errorf("data: %s: %v", path, err)
		}
		res.Size = n
	}
	res.MD5 = hex.EncodeToString(mh.Sum(nil))
	res.Original = spec.MD5 != "" && res.MD5 == spec.MD5
	switch {
	case spec.SHA256 != "" && res.SHA256 != spec.SHA256:
		return res, fmt.Errorf("data: %s: checksum mismatch: decompressed sha256 %s (%d bytes), want %s (%d bytes)", path, res.SHA256, res.Size, spec.SHA256, spec.Size)
	case spec.SHA256 == "" && spec.MD5 != "" && !res.Original:
		return res, fmt.Errorf("data: %s: checksum mismatch: md5 %s, want %s", path, res.MD5, spec.MD5)
	}
	return res, nil
}
