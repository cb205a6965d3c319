package host

import (
	"bufio"
	"runtime"
	"strings"
	"testing"
)

func TestFromCPUInfo(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9R14 96-Core Processor\n\nprocessor\t: 1\nmodel name\t: other\n",
			"AMD EPYC 9R14 96-Core Processor (family 25 model 17)"},
		{"processor\t: 0\nBogoMIPS\t: 50.00\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n", "Raspberry Pi 4 Model B Rev 1.4"},
		{"", runtime.GOARCH},
	} {
		if got := fromCPUInfo(bufio.NewScanner(strings.NewReader(tc.in))); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
	if CPU() == "" {
		t.Error("CPU() is empty")
	}
}
