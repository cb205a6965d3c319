package faults

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sync"
)

// Config is a fault experiment.
type Config struct {
	BERs        []float64 // bit error rates, each in [0, 1]
	Trials      int       // trials per rate, >= 1
	Seed        uint64    // trial t uses TrialSeed(Seed, t)
	Parts       []string  // PartCodes, PartScales, PartAll, PartActs, PartBoth (default: the first three)
	Protections []string  // Protections entries (default: none)
	Workers     int       // trials evaluated at once (0: GOMAXPROCS; float checkpoints run one at a time)
}

// Check validates c with one-line errors naming the flag, and fills the
// defaults of empty lists.
func (c *Config) Check() error {
	if len(c.BERs) == 0 {
		return fmt.Errorf("faults: --ber: no rates")
	}
	for _, b := range c.BERs {
		if !(b >= 0 && b <= 1) {
			return fmt.Errorf("faults: --ber %g: a bit error rate must be in [0, 1]", b)
		}
	}
	if c.Trials < 1 {
		return fmt.Errorf("faults: --trials %d: need at least 1", c.Trials)
	}
	if len(c.Parts) == 0 {
		c.Parts = []string{PartCodes, PartScales, PartAll}
	}
	for _, p := range c.Parts {
		if p != PartCodes && p != PartScales && p != PartAll && p != PartActs && p != PartBoth {
			return fmt.Errorf("faults: --part %q: want codes, scales, all, activations or both", p)
		}
	}
	if len(c.Protections) == 0 {
		c.Protections = []string{ProtNone}
	}
	for _, p := range c.Protections {
		if err := checkProtection(p); err != nil {
			return err
		}
	}
	return nil
}

// Point is the outcome of a rate's trials.
type Point struct {
	BER       float64   `json:"ber"`
	Mean      float64   `json:"mean_err_pct"`  // mean test error over the trials (%)
	Std       float64   `json:"std_err_pct"`   // sample standard deviation (n-1; 0 for one trial)
	Worst     float64   `json:"worst_err_pct"` // largest test error of a trial
	Broken    float64   `json:"broken_frac"`   // fraction of trials at chance level or with non-finite logits
	NonFinite float64   `json:"nonfinite_frac"`
	Flipped   float64   `json:"flipped_bits"` // mean bits flipped per trial (the model's own, not the protection's)
	Errors    []float64 `json:"errors_pct"`   // per trial
}

// Curve is one part under one protection over every rate.
type Curve struct {
	Part       string  `json:"part"`
	Protection string  `json:"protection"`
	ExtraBits  int64   `json:"extra_bits"`    // bits the protection stores beyond the model's
	ExtraPct   float64 `json:"extra_pct"`     // ExtraBits over the model's stored bits (%)
	Tolerated  float64 `json:"tolerated_ber"` // largest rate whose and all smaller rates' mean error is within Tolerance of the fault-free error (0: none)
	Points     []Point `json:"points"`
}

// Tolerance is the mean-error increase (percentage points) a tolerated
// bit error rate may cost.
const Tolerance = 0.5

// Result is a fault experiment on one model.
type Result struct {
	Model      string  `json:"model"`  // path
	Format     string  `json:"format"` // "float32", "packed" or "integer"
	Bits       string  `json:"bits"`   // weight bits of the layers ("32" for float32)
	TestN      int     `json:"test_n"`
	FaultFree  float64 `json:"fault_free_err_pct"`
	ChancePct  float64 `json:"chance_err_pct"` // a trial at or above it (or non-finite) counts as broken
	StoredBits int64   `json:"stored_bits"`    // codes + scales
	CodeBits   int64   `json:"code_bits"`
	ScaleBits  int64   `json:"scale_bits"`
	Trials     int     `json:"trials"`
	Seed       uint64  `json:"seed"`
	Curves     []Curve `json:"curves"`
}

// chanceLevel returns the error at or above which a trial counts as
// broken: 5 points below the error of guessing one class, 100(1-1/C).
func chanceLevel(classes int) float64 {
	return 100*(1-1/float64(classes)) - 5
}

// run executes the experiment on s. res has its model fields set.
func run(ctx context.Context, s subject, c Config, classes, n int, res *Result) error {
	orig := s.memory()
	wrong, _, _, err := s.eval(orig, nil)
	if err != nil {
		return err
	}
	res.TestN, res.Trials, res.Seed = n, c.Trials, c.Seed
	res.FaultFree = pct(wrong, n)
	res.ChancePct = chanceLevel(classes)
	res.CodeBits, res.ScaleBits = orig.bits(PartCodes), orig.bits(PartScales)
	res.StoredBits = res.CodeBits + res.ScaleBits
	for _, part := range c.Parts {
		for _, prot := range c.Protections {
			cv := Curve{Part: part, Protection: prot, ExtraBits: cost(prot, orig)}
			cv.ExtraPct = 100 * float64(cv.ExtraBits) / float64(res.StoredBits)
			for _, ber := range c.BERs {
				pt, err := point(ctx, s, c, orig, part, prot, ber, res)
				if err != nil {
					return err
				}
				cv.Points = append(cv.Points, pt)
			}
			cv.Tolerated = tolerated(cv.Points, res.FaultFree)
			res.Curves = append(res.Curves, cv)
		}
	}
	return nil
}

// tolerated returns the largest rate such that it and every smaller rate
// of pts have a mean error within Tolerance of faultFree.
func tolerated(pts []Point, faultFree float64) float64 {
	best := 0.0
	bad := math.Inf(1)
	for _, p := range pts {
		if p.Mean > faultFree+Tolerance {
			bad = math.Min(bad, p.BER)
		}
	}
	for _, p := range pts {
		if p.BER < bad && p.BER > best {
			best = p.BER
		}
	}
	return best
}

// trialOut is one trial's outcome.
type trialOut struct {
	errPct    float64
	nonFinite bool
	flipped   int
	err       error
}

// point runs the trials of one rate.
func point(ctx context.Context, s subject, c Config, orig memory, part, prot string, ber float64, res *Result) (Point, error) {
	t := Threshold(ber)
	outs := make([]trialOut, c.Trials)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers(s, c.Workers), c.Trials) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				outs[k] = trial(s, orig, part, prot, TrialSeed(c.Seed, k), t, res.FaultFree, res.TestN)
			}
		}()
	}
	var stop error
	for k := range c.Trials {
		if stop = ctx.Err(); stop != nil {
			break
		}
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	if stop != nil {
		return Point{}, fmt.Errorf("faults: stopped: %w", stop)
	}
	pt := Point{BER: ber, Errors: make([]float64, c.Trials)}
	var sum, flips float64
	for k, o := range outs {
		if o.err != nil {
			return Point{}, o.err
		}
		pt.Errors[k] = o.errPct
		sum += o.errPct
		flips += float64(o.flipped)
		pt.Worst = math.Max(pt.Worst, o.errPct)
		if o.nonFinite {
			pt.NonFinite++
		}
		if o.nonFinite || o.errPct >= res.ChancePct {
			pt.Broken++
		}
	}
	nt := float64(c.Trials)
	pt.Mean, pt.Flipped = sum/nt, flips/nt
	pt.NonFinite /= nt
	pt.Broken /= nt
	if c.Trials > 1 {
		var ss float64
		for _, e := range pt.Errors {
			ss += (e - pt.Mean) * (e - pt.Mean)
		}
		pt.Std = math.Sqrt(ss / (nt - 1))
	}
	return pt, nil
}

// trial corrupts a copy of orig with one trial's stream, applies the
// protection and evaluates; an unchanged memory reuses the fault-free
// error.
func trial(s subject, orig memory, part, prot string, seed, t uint64, faultFree float64, n int) trialOut {
	mem := orig.clone()
	flipped := mem.inject(part, &Stream{State: seed}, t)
	protect(prot, orig, mem, part, seed, t)
	var af *actFaults
	if (part == PartActs || part == PartBoth) && t > 0 {
		af = &actFaults{seed: seed, t: t}
	}
	if af == nil && same(orig, mem) {
		return trialOut{errPct: faultFree, flipped: flipped}
	}
	wrong, bad, flips, err := s.eval(mem, af)
	return trialOut{errPct: pct(wrong, n), nonFinite: bad, flipped: flipped + flips, err: err}
}

func same(a, b memory) bool {
	for i := range a {
		if !bytes.Equal(a[i].b, b[i].b) {
			return false
		}
	}
	return true
}

func pct(wrong, n int) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(wrong) / float64(n)
}
