package report

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/results"
)

// withFaults adds made-up fault curves to the synthetic records: the error
// grows with the rate, faster for wider codes' records of float cells.
func withFaults(recs []results.Record) []results.Record {
	bers := []float64{1e-6, 1e-5, 1e-4, 1e-3}
	for i := range recs {
		r := &recs[i]
		if r.Status != results.StatusOK {
			continue
		}
		slope := 100.0 // error pp per unit BER*bits-ish
		if r.Mode == "float" {
			slope = 3000
		}
		f := &results.Faults{Trials: 5, Seed: 1, FaultFreeErrPct: r.TestErrPct, StoredBits: 8 * r.StoredBytes}
		c := results.FaultCurve{Protection: "none"}
		for _, b := range bers {
			c.Points = append(c.Points, results.FaultPoint{BER: b, MeanErrPct: r.TestErrPct + slope*b*100, WorstErrPct: r.TestErrPct + 2*slope*b*100})
		}
		f.Curves = []results.FaultCurve{c}
		r.Faults = f
	}
	return recs
}

func TestFaultsReport(t *testing.T) {
	dir := t.TempDir()
	if _, err := Write(dir, withFaults(synthRecords(3)), Options{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "Bit errors in weight memory") || !strings.Contains(string(md), "faults_error-vs-ber") {
		t.Fatal("report.md has no bit-error section with its figure")
	}
	csv, err := os.ReadFile(filepath.Join(dir, "faults.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	// 4 widths x (float + 2 modes x 2 bits) networks x 4 rates, plus the header.
	if len(lines) != 1+4*5*4 {
		t.Fatalf("faults.csv has %d lines", len(lines))
	}
	// float: +0.3 pp at 1e-6 (tolerated), +3 pp at 1e-5; quantized: +0.1 at 1e-5, +1 at 1e-4.
	rows := faultRows(withFaults(synthRecords(3)))
	for _, r := range rows {
		want := 1e-5
		if r.prec.IsFloat() {
			want = 1e-6
		}
		if r.tolerated != want || r.faultFree.N < 2 {
			t.Errorf("%s %s: tolerated %g over %d seeds, want %g", r.model, r.prec, r.tolerated, r.faultFree.N, want)
		}
	}
	plain := t.TempDir()
	if _, err := Write(plain, synthRecords(3), Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(plain, "faults.csv")); err == nil {
		t.Error("faults.csv written for records without fault experiments")
	}
}

func TestToleratedBER(t *testing.T) {
	m := func(v ...float64) []Spread {
		var s []Spread
		for _, x := range v {
			s = append(s, Spread{Mean: x, N: 1})
		}
		return s
	}
	bers := []float64{1e-6, 1e-5, 1e-4}
	for _, tc := range []struct {
		mean []Spread
		want float64
	}{
		{m(1, 1.4, 1.6), 1e-5},
		{m(1.6, 1, 1), 0},
		{m(1, 1, 1), 1e-4},
		{m(1, math.NaN(), 1), 1e-6},
	} {
		if got := toleratedBER(bers, tc.mean, 1); got != tc.want {
			t.Errorf("%v: tolerated %g, want %g", tc.mean, got, tc.want)
		}
	}
}
