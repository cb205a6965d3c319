package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the byte units ParseSize accepts: binary (KiB, MiB, GiB)
// and decimal (KB, MB, GB; kB too).
var sizeUnits = map[string]float64{
	"": 1, "B": 1,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
	"KB": 1e3, "kB": 1e3, "MB": 1e6, "GB": 1e9,
}

// energyUnits are the energy units ParseEnergy accepts, in nanojoules.
var energyUnits = map[string]float64{
	"": 1, "pJ": 1e-3, "nJ": 1, "uJ": 1e3, "µJ": 1e3, "mJ": 1e6, "J": 1e9,
}

// timeUnits are the time units ParseLatency accepts, in microseconds.
var timeUnits = map[string]float64{
	"": 1, "ns": 1e-3, "us": 1, "µs": 1, "ms": 1e3, "s": 1e6,
}

// ParseSize parses a byte count: "64KiB", "1.5MiB" (binary), "1.5MB"
// (decimal), "200000" (bytes).
func ParseSize(s string) (float64, error) {
	return parseQuantity(s, sizeUnits, "B, KiB, MiB, GiB, KB, MB, GB")
}

// ParseEnergy parses an energy into nanojoules: "200nJ", "1uJ", "500pJ";
// a bare number is in nanojoules.
func ParseEnergy(s string) (float64, error) {
	return parseQuantity(s, energyUnits, "pJ, nJ, uJ, mJ, J")
}

// ParseLatency parses a time into microseconds: "250", "250us", "1.5ms".
func ParseLatency(s string) (float64, error) {
	return parseQuantity(s, timeUnits, "ns, us, ms, s")
}

// ParsePercent parses a test error in percent: "2", "1.5", "1.5%".
func ParsePercent(s string) (float64, error) {
	v, err := parseQuantity(strings.TrimSuffix(strings.TrimSpace(s), "%"), map[string]float64{"": 1}, "%")
	if err == nil && v > 100 {
		return 0, fmt.Errorf("%q is above 100%%", s)
	}
	return v, err
}

func parseQuantity(s string, units map[string]float64, known string) (float64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && !(t[i-1] >= '0' && t[i-1] <= '9' || t[i-1] == '.') {
		i--
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	mult, ok := units[unit]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q in %q (want %s)", unit, s, known)
	}
	if num == "" {
		return 0, fmt.Errorf("%q has no number", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if strings.HasPrefix(num, "-") || v < 0 {
		return 0, fmt.Errorf("%q is negative; a budget must be >= 0", s)
	}
	return v * mult, nil
}

// FormatBytes prints a byte count with a binary unit: "57.3 KiB".
func FormatBytes(b float64) string {
	switch {
	case b >= 1<<30:
		return strconv.FormatFloat(b/(1<<30), 'f', 2, 64) + " GiB"
	case b >= 1<<20:
		return strconv.FormatFloat(b/(1<<20), 'f', 2, 64) + " MiB"
	case b >= 1<<10:
		return strconv.FormatFloat(b/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatFloat(b, 'f', 0, 64) + " B"
}

// FormatEnergy prints nanojoules with a unit: "37.2 nJ", "4.71 uJ".
func FormatEnergy(nj float64) string {
	switch {
	case nj >= 1e6:
		return strconv.FormatFloat(nj/1e6, 'f', 2, 64) + " mJ"
	case nj >= 1e3:
		return strconv.FormatFloat(nj/1e3, 'f', 2, 64) + " uJ"
	}
	return strconv.FormatFloat(nj, 'f', 1, 64) + " nJ"
}
