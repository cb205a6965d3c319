package bench

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"

	"github.com/resq-dev/resq/internal/host"
	"golang.org/x/sys/cpu"
)

// CPUFeatures are the instruction-set extensions that decide which OpenBLAS
// core type (kernel family) a CPU can run.
type CPUFeatures struct {
	AMD                                   bool // the vendor is AMD (OpenBLAS's AVX2 core is then Zen)
	AVX, AVX2, FMA                        bool
	AVX512F, AVX512BW, AVX512VL, AVX512DQ bool
}

// HostFeatures returns this machine's CPUFeatures (all false off amd64).
func HostFeatures() CPUFeatures {
	if runtime.GOARCH != "amd64" {
		return CPUFeatures{}
	}
	x := cpu.X86
	return CPUFeatures{
		AMD: strings.Contains(host.CPU(), "AMD"),
		AVX: x.HasAVX, AVX2: x.HasAVX2, FMA: x.HasFMA,
		AVX512F: x.HasAVX512F, AVX512BW: x.HasAVX512BW, AVX512VL: x.HasAVX512VL, AVX512DQ: x.HasAVX512DQ,
	}
}

// blasTier ranks OpenBLAS x86-64 core types (the names openblas_get_corename
// and OPENBLAS_VERBOSE=2 print, lower-cased) by the vector instructions
// their single-precision kernels use: 1 SSE, 2 AVX, 3 AVX2+FMA, 4 AVX-512.
// A name not listed (0) is a core this table does not know, perhaps a newer
// one, and is never overridden.
var blasTier = map[string]int{
	"prescott": 1, "core2": 1, "penryn": 1, "dunnington": 1, "nehalem": 1, "atom": 1,
	"opteron": 1, "opteron_sse3": 1, "barcelona": 1, "bobcat": 1, "nano": 1,
	"sandybridge": 2, "bulldozer": 2, "piledriver": 2, "steamroller": 2, "excavator": 2,
	"haswell": 3, "zen": 3,
	"skylakex": 4, "cooperlake": 4, "sapphirerapids": 4,
}

// bestBLASCore returns the strongest core type OPENBLAS_CORETYPE accepts
// for CPUs with features f, and its tier. OpenBLAS 0.3.21 (Debian 12)
// autodetects Cooperlake on CPUs with AVX512-BF16 but does not accept it
// in OPENBLAS_CORETYPE; its float kernels are SkylakeX's, so SkylakeX is
// the core to force on any AVX-512 CPU.
func bestBLASCore(f CPUFeatures) (string, int) {
	switch {
	case f.AVX512F && f.AVX512BW && f.AVX512VL && f.AVX512DQ:
		return "SkylakeX", 4
	case f.AVX2 && f.FMA && f.AMD:
		return "Zen", 3
	case f.AVX2 && f.FMA:
		return "Haswell", 3
	case f.AVX:
		return "Sandybridge", 2
	}
	return "Prescott", 1
}

// BLASCore is a decision about the kernels an OpenBLAS library runs.
type BLASCore struct {
	Running string // the core type OpenBLAS chose or was given ("" unknown)
	Best    string // the strongest core type it accepts for this CPU
	// Set is the OPENBLAS_CORETYPE to run it with: Best when OpenBLAS
	// fell back to a weaker core (Prescott on a CPU it does not know) and
	// the user has not set OPENBLAS_CORETYPE; "" when Running is fine.
	Set string
	// UserSet is OPENBLAS_CORETYPE as the user set it ("" when unset
	// or set by ReexecForBLASCore).
	UserSet string
	// Overrides is true when Set replaces a UserSet that is weaker than
	// this CPU allows (a machine-wide OPENBLAS_CORETYPE=Haswell on an
	// AVX-512 CPU would make every peer comparison flatter resq).
	Overrides bool `json:",omitempty"`
	// Autodetected is the core type OpenBLAS had chosen itself before
	// ReexecForBLASCore restarted the process with Set ("" if it did not).
	Autodetected string `json:",omitempty"`
	// Overrode is the user's OPENBLAS_CORETYPE that ReexecForBLASCore
	// replaced with Set ("" if it replaced none).
	Overrode string `json:",omitempty"`
}

// KeepCoreEnv, set to 1, keeps a user's OPENBLAS_CORETYPE even when it is
// weaker than this CPU allows (to time a peer on chosen kernels on purpose).
const KeepCoreEnv = "RESQ_KEEP_OPENBLAS_CORETYPE"

// ChooseBLASCore decides whether an OpenBLAS that runs core type running
// on a CPU with features f should be forced to a stronger one. userSet is
// the OPENBLAS_CORETYPE already in the environment. A peer is timed on its
// best kernels: a user's choice is kept unless it is a known core type
// weaker than this CPU allows, and then too when keepUser is true; a core
// type this package does not know is never overridden.
func ChooseBLASCore(f CPUFeatures, running, userSet string, keepUser bool) BLASCore {
	best, tier := bestBLASCore(f)
	d := BLASCore{Running: running, Best: best, UserSet: userSet}
	have := blasTier[strings.ToLower(strings.TrimSpace(running))]
	if have == 0 || have >= tier {
		return d
	}
	if userSet == "" {
		d.Set = best
		return d
	}
	if !keepUser && blasTier[strings.ToLower(strings.TrimSpace(userSet))] > 0 {
		d.Set, d.Overrides = best, true
	}
	return d
}

// String describes d in one line, e.g. "core Prescott, forced to SkylakeX
// (OPENBLAS_CORETYPE) for this CPU's AVX-512".
func (d BLASCore) String() string {
	switch {
	case d.Running == "":
		return "core unknown"
	case d.Autodetected != "" && d.Overrode != "":
		return fmt.Sprintf("core %s (OPENBLAS_CORETYPE=%s, replacing the environment's weaker %s; %s=1 keeps it)", d.Running, d.Running, d.Overrode, KeepCoreEnv)
	case d.Autodetected != "":
		return fmt.Sprintf("core %s (OPENBLAS_CORETYPE=%s: it had fallen back to %s)", d.Running, d.Running, d.Autodetected)
	case d.Overrides:
		return fmt.Sprintf("core %s from the environment's OPENBLAS_CORETYPE, weaker than this CPU allows: OPENBLAS_CORETYPE=%s is its best (%s=1 keeps it)", d.Running, d.Set, KeepCoreEnv)
	case d.Set != "":
		return fmt.Sprintf("core %s, a fallback: OPENBLAS_CORETYPE=%s is its best for this CPU", d.Running, d.Set)
	case d.UserSet != "":
		return fmt.Sprintf("core %s (OPENBLAS_CORETYPE=%s from the environment)", d.Running, d.UserSet)
	}
	return fmt.Sprintf("core %s, autodetected, no fallback (the best OPENBLAS_CORETYPE for this CPU is %s)", d.Running, d.Best)
}

// reexecEnv marks a process that ReexecForBLASCore restarted; it holds
// the core type OpenBLAS had run. overrodeEnv holds the user's
// OPENBLAS_CORETYPE it replaced, if any.
const (
	reexecEnv   = "RESQ_OPENBLAS_AUTODETECTED"
	overrodeEnv = "RESQ_OPENBLAS_OVERRODE"
)

// openblasCore returns the core type of the linked OpenBLAS; nil unless
// the binary is built with -tags openblas.
var openblasCore func() string

// LinkedBLASCore returns the decision about the OpenBLAS linked into this
// binary; ok is false without -tags openblas.
func LinkedBLASCore() (d BLASCore, ok bool) {
	if openblasCore == nil {
		return BLASCore{}, false
	}
	auto := os.Getenv(reexecEnv)
	user := os.Getenv("OPENBLAS_CORETYPE")
	if auto != "" {
		user = "" // set by ReexecForBLASCore, not by the user
	}
	d = ChooseBLASCore(HostFeatures(), openblasCore(), user, os.Getenv(KeepCoreEnv) == "1")
	d.Autodetected = auto
	if auto != "" {
		d.Overrode = os.Getenv(overrodeEnv)
	}
	return d, true
}

// ReexecForBLASCore restarts the process with OPENBLAS_CORETYPE set when
// the linked OpenBLAS runs a weaker core type than this CPU allows (the
// library reads the variable only when it loads, before main). It returns
// nil without doing anything when no restart is needed or possible, and
// does not return when it restarts.
func ReexecForBLASCore() error {
	d, ok := LinkedBLASCore()
	if !ok || d.Set == "" || d.Autodetected != "" {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: OpenBLAS runs core %s; cannot restart with OPENBLAS_CORETYPE=%s: %w", d.Running, d.Set, err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPENBLAS_CORETYPE=") {
			env = append(env, kv)
		}
	}
	env = append(env, "OPENBLAS_CORETYPE="+d.Set, reexecEnv+"="+d.Running)
	if d.Overrides {
		env = append(env, overrodeEnv+"="+d.UserSet)
	}
	if err := syscall.Exec(exe, os.Args, env); err != nil {
		return fmt.Errorf("bench: OpenBLAS runs core %s; cannot restart with OPENBLAS_CORETYPE=%s: %w", d.Running, d.Set, err)
	}
	return nil
}
