package results

// Faults is a cell's bit-error experiment (package faults): bits of the
// stored weights (the packed model's codes, steps and biases, or a float
// model's float32 parameters) flip independently at each rate, the test
// set is run per trial, and each protection gives one curve.
type Faults struct {
	Trials          int          `json:"trials"`
	Seed            uint64       `json:"seed"`
	FaultFreeErrPct float64      `json:"fault_free_error_pct"`
	StoredBits      int64        `json:"stored_bits"`
	Curves          []FaultCurve `json:"curves"`
}

// FaultCurve is the test error against the bit error rate under one
// protection.
type FaultCurve struct {
	Protection   string       `json:"protection"`
	ExtraBits    int64        `json:"extra_bits"`    // bits the protection stores beyond the model's
	ToleratedBER float64      `json:"tolerated_ber"` // largest rate (with every smaller one) within 0.5 pp of the fault-free error; 0: none
	Points       []FaultPoint `json:"points"`
}

// FaultPoint is one rate's trials.
type FaultPoint struct {
	BER         float64 `json:"ber"`
	MeanErrPct  float64 `json:"mean_error_pct"`
	StdErrPct   float64 `json:"std_error_pct"`
	WorstErrPct float64 `json:"worst_error_pct"`
	BrokenFrac  float64 `json:"broken_frac"` // trials at chance level or with non-finite logits
}
