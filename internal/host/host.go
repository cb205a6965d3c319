// Package host names the machine a number was measured on: the CPU model.
// The GEMM and integer kernels sum in CPU-specific orders, so a record's
// numbers are reproduced bit for bit only on the same kernels; records
// carry the CPU and the kernels that produced them.
package host

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"sync"
)

// CPU returns the CPU model as the operating system names it (Linux: the
// first "model name" of /proc/cpuinfo, with its family and model numbers
// when given), else the architecture, e.g. "AMD EPYC 9R14 96-Core Processor
// (family 25 model 17)".
var CPU = sync.OnceValue(func() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	return fromCPUInfo(bufio.NewScanner(f))
})

// fromCPUInfo reads the first processor's fields of a /proc/cpuinfo.
func fromCPUInfo(sc *bufio.Scanner) string {
	var name, family, model string
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			if name != "" {
				break // end of the first processor
			}
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name", "Model", "cpu model": // x86; arm64 boards; mips
			if name == "" {
				name = v
			}
		case "cpu family":
			family = v
		case "model":
			model = v
		}
	}
	if name == "" {
		return runtime.GOARCH
	}
	if family != "" && model != "" {
		name += " (family " + family + " model " + model + ")"
	}
	return name
}
