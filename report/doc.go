// Package report turns sweep records (results.Record) into the paper's
// tables and figures: test error per network size and weight precision,
// the gap to float, stored bytes, and the effective compression ratio
// (ECR) of Sung, Shin and Hwang, "Resiliency of Deep Neural Networks under
// Quantization" (arXiv:1511.06488).
//
// # Pipeline
//
//	results.ReadDir(sweep) -> Write(dir, recs, opt)
//	  Merge          dedupe by ID (last ok record wins, else the last failure)
//	  BuildGroups    one Group per float curve: dataset + mlp depth, or
//	                 dataset + cnn base (Config["base"]); cells per
//	                 (size, precision) averaged over seeds
//	  NewFloatCurve  the group's float error vs log(#weights), monotone
//	  Effect         N_eff and ECR of each quantized cell and record
//	  figures        four plots per group, SVG and PNG
//	  report.md, report.html, results.csv, summary.csv
//
// # ECR
//
// Float test errors are averaged over seeds per size (sizes with equal
// weight counts merge), then made non-increasing in the number of weights
// with weighted pool-adjacent-violators (isotonic regression; weight = seed
// count). Between the fitted points the curve is piecewise linear in
// ln(weights); it is not a monotone cubic: with four to six sizes per group
// a cubic adds wiggle, not information. For a quantized network with test
// error e, N_eff = min{N : f(N) <= e}: the smallest float weight count that
// reaches e. On a flat stretch (a tie, or points pooled by PAVA) that is
// the stretch's left end, so ties resolve deterministically. Then
//
//	ECR = 32 * N_eff / (8 * StoredBytes)
//
// where StoredBytes is the record's exact packed size (codes, steps, float
// biases). The nominal ratio 32/b is reported beside it. When e is below
// the best fitted float error, N_eff is beyond the largest float network:
// Range is RangeAbove and N_eff, ECR are lower bounds computed with the
// largest size (shown ">= x"). When e is above the worst fitted error,
// RangeBelow and upper bounds with the smallest size ("<= x"). Nothing is
// extrapolated. A group without any ok float record has no curve:
// RangeNone, "n/a".
//
// # Output
//
// Write produces byte-identical files for the same records in any order:
// everything is sorted (groups, sizes, precisions float-direct-retrain by
// bits, seeds), floats are printed with fixed precision, and the plots
// (gonum.org/v1/plot) carry no timestamps. report.html is self-contained:
// inline CSS, figures as data: URIs of the SVGs, no script, no external
// resource; chromium_test.go loads it in headless Chromium when one is
// installed. Files are written atomically (internal/atomicfile), so a
// crash never leaves a half report behind a complete-looking name.
//
// # Mutability
//
// Write and BuildGroups never modify the records they are given. A
// FloatCurve, Group and Cell are built once and only read afterwards.
package report
