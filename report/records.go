package report

import "github.com/resq-dev/resq/results"

// Merge dedupes records by ID (Write calls it, so records straight from
// several shard files may be passed as they are; results.ReadDir output is
// already unique by ID and passes through unchanged): among records with the same ID the last one
// with status "ok" wins; an ID with no ok record keeps its last record (a
// failure). Records without an ID are kept as they are. The result is in
// first-appearance order of the IDs.
func Merge(recs []results.Record) []results.Record {
	idx := map[string]int{}
	var out []results.Record
	for _, r := range recs {
		if r.ID == "" {
			out = append(out, r)
			continue
		}
		i, seen := idx[r.ID]
		if !seen {
			idx[r.ID] = len(out)
			out = append(out, r)
			continue
		}
		if r.Status == "ok" || out[i].Status != "ok" {
			out[i] = r
		}
	}
	return out
}
