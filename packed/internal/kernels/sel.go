package kernels

import "sync/atomic"

// selection is what the T2 and one-row entry points look up by the
// selected kernel's name, kept for that name: a one-row call of a small
// layer takes well under 10 µs, and five map lookups with string keys per
// call were a visible part of it. It is rebuilt whenever current changes
// (Force, or a test assigning current) and never mutated once stored.
type selection struct {
	name    string
	t2      t2impl // the T2 kernels (t2Go without assembly ones)
	t2Asm   bool   // t2Asm has the kernel
	t2Fast  bool   // T2Native: an assembly T2 kernel, or the pure-Go one's whole-GEMM path
	dec     t2dec  // the decoded path, when hasDec
	hasDec  bool
	gemv    gemvImpl // the one-row kernel, when hasGemv
	hasGemv bool
}

var selCache atomic.Pointer[selection]

// selected returns the selection of the current kernel.
func selected() *selection {
	if s := selCache.Load(); s != nil && s.name == current.name {
		return s
	}
	s := &selection{name: current.name, t2: t2Go}
	if k, ok := t2Asm[current.name]; ok {
		s.t2, s.t2Asm = k, true
	}
	s.t2Fast = s.t2Asm || (current.name == NameGo && t2Go.gemm != nil)
	s.dec, s.hasDec = t2DecAsm[current.name]
	s.gemv, s.hasGemv = gemvAsm[current.name]
	selCache.Store(s)
	return s
}
