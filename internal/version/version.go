// Package version holds resq's version, stamped into every record,
// checkpoint and packed model: the semantic version and the code it was
// built from.
//
// String is Version with semver build metadata naming the build's source:
//
//	0.1.0-dev+1a2b3c4d5e6f        built from VCS revision 1a2b3c4d5e6f…
//	0.1.0-dev+1a2b3c4d5e6f.dirty  the same with uncommitted changes
//	0.1.0-dev+exe.9f8e7d6c5b4a    no VCS information in the binary
//
// The revision and the dirty flag come from the build information the go
// command stamps into binaries it builds in a repository (go build, go
// install; runtime/debug.ReadBuildInfo). go run, go test and -buildvcs=false
// stamp none: the metadata is then "exe." and the first 12 hex digits of
// the SHA-256 of the running executable, which names the binary but not
// the commit (Source says which it is).
package version

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime/debug"
	"sync"
)

// Version is resq's semantic version. Release builds may override it with
// -ldflags "-X github.com/resq-dev/resq/internal/version.Version=...".
var Version = "0.1.0-dev"

// Build is where a binary came from.
type Build struct {
	Revision string // VCS revision (full), or "" without VCS information
	Dirty    bool   // the tree had uncommitted changes (with Revision)
	ExeHash  string // SHA-256 of the executable, hex, when Revision is ""
}

// Source describes the build metadata of String in words.
func (b Build) Source() string {
	switch {
	case b.Revision != "" && b.Dirty:
		return "VCS revision " + b.Revision + " with uncommitted changes"
	case b.Revision != "":
		return "VCS revision " + b.Revision
	case b.ExeHash != "":
		return "no VCS information in this build (go run, go test or -buildvcs=false); exe. is the SHA-256 of the executable, " + b.ExeHash
	}
	return "no VCS information in this build, and the executable could not be read"
}

// meta is the semver build metadata of b.
func (b Build) meta() string {
	switch {
	case b.Revision != "":
		m := short(b.Revision)
		if b.Dirty {
			m += ".dirty"
		}
		return m
	case b.ExeHash != "":
		return "exe." + short(b.ExeHash)
	}
	return "unknown"
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// Current returns the running binary's Build.
var Current = sync.OnceValue(func() Build {
	var b Build
	if bi, ok := debug.ReadBuildInfo(); ok {
		b = fromSettings(bi.Settings)
	}
	if b.Revision == "" {
		b.ExeHash = exeHash()
	}
	return b
})

// fromSettings reads vcs.revision and vcs.modified.
func fromSettings(settings []debug.BuildSetting) Build {
	var b Build
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Dirty = s.Value == "true"
		}
	}
	if b.Revision == "" {
		b.Dirty = false
	}
	return b
}

func exeHash() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// String returns Version+metadata of the running binary, e.g.
// "0.1.0-dev+1a2b3c4d5e6f.dirty": the version every record carries.
func String() string { return stringOf(Version, Current()) }

func stringOf(v string, b Build) string { return v + "+" + b.meta() }
