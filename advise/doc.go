// Package advise turns a sweep's measured cells into a hardware decision:
// for a designer's limits on weight memory, activation RAM, energy,
// latency and test error, which network size and weight precision to
// build, why, and how sure the answer is.
//
// # Configurations
//
// Candidates groups the ok records of a sweep folder (results.ReadDir)
// into configurations: one per resolved cell config without its seed
// (model spec, mode, bits, training and quantizer settings). A
// configuration's error is its report.Spread over seeds (mean ± std, seed
// count); its costs are the seed means of the records' cost figures
// (package cost): weight bytes, activation RAM and energy at batch 1,
// multiplications and multiplier-free additions, and the batch-1 latency
// when it was measured. A table given to Candidates reprices the energies
// from the recorded operation counts. Records without cost figures (from
// a resq older than package cost) are an error, *MissingCostError, that
// names the command that computes them: resq cost DIR.
//
// # The decision
//
// Advise keeps the configurations that meet every limit (a latency limit
// excludes configurations whose latency was not measured) and picks the
// one with the lowest seed-mean error; ties go to fewer weight bytes. With
// an error limit only, it picks the cheapest configuration meeting it by
// the cost Query.Minimize names (weight bytes by default, or ram, energy,
// latency). The answer names
//
//   - the runner-up, the margin between them and whether the difference
//     of their errors is within seed noise by report.CompareNoise (the one
//     definition every resq command uses), flagged thin under
//     report.MinNoiseSeeds seeds;
//   - the binding limit: the one whose removal alone admits the best more
//     accurate configuration (or the error limit, when minimising a cost);
//   - when nothing fits, the limits that exclude every configuration (each
//     alone, or all together) and the closest configuration: the one whose
//     worst figure is the smallest multiple of its limit.
//
// # Refinement
//
// Refine proposes at most N more cells where the answer is uncertain
// (Propose: the largest size between measured ones that is predicted to
// fit the budget, the neighbouring bit widths, one more seed when the two
// best are within noise), runs them into the same folder through package
// sweep (content-addressed, so a rerun resumes and nothing runs twice),
// keeps the folder's sweep.yaml, and answers again. The predictions of
// weight bytes, activation RAM and operation counts are exact for the
// architecture (a network is built, not trained, and quantized directly);
// energy uses its random-init codes, latency a log-log interpolation of
// the measured neighbours. New cells are measured, so the answer after
// refinement rests only on measurements.
//
// # Performance
//
// Advise is linear in the number of configurations per limit; reading and
// grouping 10,000 records takes well under a second (BenchmarkAdvise).
package advise
