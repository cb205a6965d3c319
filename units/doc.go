// Package units parses and prints the quantities a designer states budgets
// in: byte counts ("64KiB", "1.5MiB" binary, "1.5MB" decimal, "200000"),
// energies ("200nJ", "1uJ"; nanojoules when bare), times ("250us",
// "1.5ms"; microseconds when bare) and test errors in percent ("1.5%").
//
// Parsers return the value in the package's base unit (bytes, nJ, µs, %)
// and an error that quotes the text and lists the units it knows; callers
// prefix it with the flag or file it came from. Negative, NaN and infinite
// values are errors: every quantity here is a budget or a measured cost.
// The package holds no state.
package units
