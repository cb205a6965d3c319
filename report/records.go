package report

import "github.com/resq-dev/resq/results"

// Merge dedupes records by ID (Write calls it, so records straight from
// several shard files may be passed as they are; results.ReadDir output is
// already unique by ID and checksum and passes through unchanged): among records with the same ID the last one
// with status "ok" wins; an ID with no ok record keeps its last record (a
// failure). Records without an ID are kept as they are. The result is in
// first-appearance order of the IDs.
//
// Ok records of one ID with different dataset checksums (the data changed
// between runs) are not merged: the last of each checksum is kept, and
// BuildGroups puts them in groups of their own.
func Merge(recs []results.Record) []results.Record {
	idx := map[string]int{} // ID (failures) or ID + checksum (ok records) -> index into out
	okID := map[string]bool{}
	var out []results.Record
	for _, r := range recs {
		if r.ID == "" {
			out = append(out, r)
			continue
		}
		if r.Status != "ok" {
			if okID[r.ID] {
				continue
			}
			if i, seen := idx[r.ID]; seen {
				out[i] = r
			} else {
				idx[r.ID] = len(out)
				out = append(out, r)
			}
			continue
		}
		key := r.ID + "\x00" + r.DatasetChecksum
		if i, seen := idx[key]; seen {
			out[i] = r
			continue
		}
		if i, seen := idx[r.ID]; seen {
			// The first ok record replaces the failures of its ID.
			out[i] = r
			delete(idx, r.ID)
			idx[key] = i
			okID[r.ID] = true
			continue
		}
		okID[r.ID] = true
		idx[key] = len(out)
		out = append(out, r)
	}
	return out
}
