package units

import (
	"strings"
	"testing"
)

func TestParseUnits(t *testing.T) {
	for _, tc := range []struct {
		f    func(string) (float64, error)
		in   string
		want float64
	}{
		{ParseSize, "64KiB", 65536},
		{ParseSize, "1.5MiB", 1.5 * 1024 * 1024},
		{ParseSize, "1.5MB", 1.5e6},
		{ParseSize, "200000", 200000},
		{ParseSize, "8 KiB", 8192},
		{ParseSize, "2kB", 2000},
		{ParseEnergy, "200nJ", 200},
		{ParseEnergy, "1uJ", 1000},
		{ParseEnergy, "1µJ", 1000},
		{ParseEnergy, "500pJ", 0.5},
		{ParseEnergy, "12", 12},
		{ParseLatency, "250", 250},
		{ParseLatency, "1.5ms", 1500},
		{ParsePercent, "1.5%", 1.5},
		{ParsePercent, "2", 2},
	} {
		got, err := tc.f(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%q: got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		f    func(string) (float64, error)
		in   string
		want string
	}{
		{ParseSize, "64KX", `unknown unit "KX"`},
		{ParseSize, "-5KiB", "negative"},
		{ParseSize, "KiB", "no number"},
		{ParseSize, "1.2.3MB", "not a number"},
		{ParseEnergy, "3 furlongs", "unknown unit"},
		{ParseEnergy, "-1nJ", "negative"},
		{ParsePercent, "120", "above 100%"},
		{ParseLatency, "", "no number"},
	} {
		_, err := tc.f(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	if s := FormatBytes(65536); s != "64.0 KiB" {
		t.Error(s)
	}
	if s := FormatBytes(3 << 20); s != "3.00 MiB" {
		t.Error(s)
	}
	if s := FormatEnergy(4710); s != "4.71 uJ" {
		t.Error(s)
	}
}
