// Package results stores sweep records as JSON lines and reads them back.
//
// # File format
//
// A results file holds one Record per line, encoded with encoding/json and
// terminated by '\n' (JSONL). Files are only ever appended to. A sweep
// writes DIR/results.jsonl, or DIR/results-shard-I-of-N.jsonl when it runs
// as one of N shards; ReadDir merges every DIR/results*.jsonl.
//
// # Durability and crash safety
//
// Append writes the whole line, newline included, with one write(2) on a
// file opened with O_APPEND, then fsyncs. A process killed at any moment
// therefore leaves either the complete line or a prefix of it at the end of
// the file: a "torn" last line without its newline. Readers ignore a torn
// last line and count it (ReadFileTorn, Stats.Torn); the next Append cuts
// the torn tail off before writing, so a torn fragment never ends up in
// the middle of a file. A line in the middle of a file that does not decode
// is corruption, not a crash, and is an error naming the file and line.
//
// # Concurrency
//
// Appends from goroutines of one process are serialised by a package
// mutex. Separate processes must not append to the same file (sweep shards
// each write their own file, and package sweep holds a lock file per results
// file); the torn-tail repair assumes a single writer per file.
//
// # Cost amendments
//
// Figures added to a record after it was written (latencies measured at
// the end of a sweep, cost figures recomputed from stored models) are
// Amendments, appended the same way to DIR/costs*.jsonl (CostsFile pairs
// each results file with its own). ReadDir applies them to the merged
// records: a later amendment replaces an earlier one.
//
// # Merging
//
// ReadDir merges shards and repeated runs: records are deduplicated by ID,
// an "ok" record wins over "failed" ones, among records of equal status the
// first one read (file names in lexical order, lines in file order) wins,
// and the result is sorted by dataset, family, depth, width, scale, mode
// (float, direct, retrain), bits, seed and ID, so the order does not depend
// on how the cells were scheduled or sharded.
package results
