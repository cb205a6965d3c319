package results

import "testing"

// TestMergeKeepsEachChecksum checks that ok records of one ID computed on
// different data are both kept, and that an ok record still replaces a
// failure.
func TestMergeKeepsEachChecksum(t *testing.T) {
	recs := []Record{
		{ID: "a", Status: StatusFailed},
		{ID: "a", Status: StatusOK, DatasetChecksum: "sha256:1"},
		{ID: "a", Status: StatusOK, DatasetChecksum: "sha256:1", TestErrPct: 9},
		{ID: "a", Status: StatusOK, DatasetChecksum: "sha256:2"},
		{ID: "b", Status: StatusOK, DatasetChecksum: "sha256:1"},
		{ID: "b", Status: StatusFailed},
	}
	got := Merge(recs)
	if len(got) != 3 {
		t.Fatalf("%d records, want 3: %+v", len(got), got)
	}
	sums := map[string]bool{}
	for _, r := range got {
		if r.Status != StatusOK || r.TestErrPct != 0 {
			t.Errorf("kept %+v", r)
		}
		sums[r.ID+r.DatasetChecksum] = true
	}
	if !sums["asha256:1"] || !sums["asha256:2"] || !sums["bsha256:1"] {
		t.Errorf("kept %v", sums)
	}
}
