package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/resq-dev/resq/cost"
)

// Amendment adds to a record after it was written: cost figures computed
// later from its stored model (resq cost), or the latency measured once
// the sweep's cells had finished. Amendments live in DIR/costs*.jsonl
// beside the results files, one JSON line each, appended like records.
type Amendment struct {
	ID      string        `json:"id"`                // the record's ID
	Cost    *cost.Figures `json:"cost,omitempty"`    // replaces the record's cost figures
	Latency *cost.Latency `json:"latency,omitempty"` // sets the record's Cost.Latency
}

// CostsFile returns the amendment file that goes with the results file
// resultsPath: DIR/results.jsonl -> DIR/costs.jsonl,
// results-shard-I-of-N.jsonl -> costs-shard-I-of-N.jsonl, so that each
// writer of a results file has its own amendment file.
func CostsFile(resultsPath string) string {
	dir, base := filepath.Split(resultsPath)
	return filepath.Join(dir, "costs"+strings.TrimPrefix(base, "results"))
}

// AppendAmendment adds a as one line at the end of the file path (see
// Append for the durability guarantees).
func AppendAmendment(path string, a Amendment) error {
	line, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("results: %s: encode amendment %s: %v", path, a.ID, err)
	}
	return appendLine(path, line, "amendment "+a.ID)
}

// ReadAmendments reads every DIR/costs*.jsonl (file names in lexical
// order, lines in file order) and returns, per record ID, the merged
// amendment: a later cost or latency replaces an earlier one. A torn last
// line is ignored; a corrupt line elsewhere is an error naming the file
// and line.
func ReadAmendments(dir string) (map[string]Amendment, error) {
	files, err := filepath.Glob(filepath.Join(dir, "costs*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("results: %s: %v", dir, err)
	}
	sort.Strings(files)
	out := map[string]Amendment{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("results: %v", err)
		}
		lineNo := 0
		for len(b) > 0 {
			lineNo++
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				break // torn last line
			}
			line := bytes.TrimSpace(b[:i])
			b = b[i+1:]
			if len(line) == 0 {
				continue
			}
			var a Amendment
			if err := json.Unmarshal(line, &a); err != nil || a.ID == "" {
				return nil, fmt.Errorf("results: %s:%d: corrupt cost amendment", f, lineNo)
			}
			m := out[a.ID]
			m.ID = a.ID
			if a.Cost != nil {
				m.Cost = a.Cost
			}
			if a.Latency != nil {
				m.Latency = a.Latency
			}
			out[a.ID] = m
		}
	}
	return out, nil
}

// Amend applies amendments to recs in place: an amendment's cost figures
// replace the record's, and its latency is set on the record's figures
// (a record without cost figures keeps none).
func Amend(recs []Record, am map[string]Amendment) {
	if len(am) == 0 {
		return
	}
	for i := range recs {
		a, ok := am[recs[i].ID]
		if !ok {
			continue
		}
		if a.Cost != nil {
			c := *a.Cost
			if c.Latency == nil && recs[i].Cost != nil {
				c.Latency = recs[i].Cost.Latency
			}
			recs[i].Cost = &c
		}
		if a.Latency != nil && recs[i].Cost != nil {
			c := *recs[i].Cost
			c.Latency = a.Latency
			recs[i].Cost = &c
		}
	}
}
