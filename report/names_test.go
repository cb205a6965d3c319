package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resq-dev/resq/results"
)

// TestWriteLongDatasetName writes the report of records whose dataset is
// an npy: name of four paths in a folder with a 70-character name: the
// figure files must have short names.
func TestWriteLongDatasetName(t *testing.T) {
	folder := "/data/" + strings.Repeat("experiment-", 6) + "quantization"
	var paths []string
	for _, f := range []string{"train_x", "train_y", "test_x", "test_y"} {
		paths = append(paths, folder+"/"+f+".npy")
	}
	recs := synthRecords(1)
	for i := range recs {
		recs[i].Dataset = "npy:" + strings.Join(paths, ",")
	}
	dir := t.TempDir()
	sum, err := Write(dir, recs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Plots) == 0 {
		t.Fatal("no plots")
	}
	for _, p := range sum.Plots {
		if n := len(filepath.Base(p)); n > 100 || strings.ContainsAny(filepath.Base(p), ":,/ ") {
			t.Errorf("figure file name %q (%d bytes)", filepath.Base(p), n)
		}
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}

// TestGroupsSplitByChecksum checks that records of one dataset name with
// two checksums (the files changed between runs) form two groups, each
// named by its checksum, and are never averaged together.
func TestGroupsSplitByChecksum(t *testing.T) {
	recs := synthRecords(2)
	for i := range recs {
		if recs[i].Seed == 3 {
			recs[i].DatasetChecksum = "sha256:ffff0000ffff0000"
		}
	}
	groups := BuildGroups(recs)
	if len(groups) != 2 {
		t.Fatalf("%d groups, want 2", len(groups))
	}
	names := map[string]bool{}
	for _, g := range groups {
		names[g.Name] = true
		sum := g.Records[0].DatasetChecksum
		for _, r := range g.Records {
			if r.DatasetChecksum != sum {
				t.Errorf("group %q mixes checksums %s and %s", g.Name, sum, r.DatasetChecksum)
			}
		}
		if !strings.Contains(g.Name, "data "+shortChecksum(sum)) {
			t.Errorf("group name %q does not name its data %s", g.Name, sum)
		}
	}
	if len(BuildGroups(synthRecords(2))) != 1 {
		t.Error("one checksum: want one group")
	}
}

// TestMergeKeepsEachChecksum checks that Merge keeps one ok record per ID
// and checksum, and lets an ok record replace failures of its ID.
func TestMergeKeepsEachChecksum(t *testing.T) {
	recs := []results.Record{
		{ID: "a", Status: "failed"},
		{ID: "a", Status: "ok", DatasetChecksum: "sha256:1"},
		{ID: "a", Status: "ok", DatasetChecksum: "sha256:2"},
		{ID: "a", Status: "failed"},
		{ID: "b", Status: "failed", Reason: "first"},
		{ID: "b", Status: "failed", Reason: "last"},
	}
	got := Merge(recs)
	if len(got) != 3 || got[0].DatasetChecksum != "sha256:1" || got[1].DatasetChecksum != "sha256:2" || got[2].Reason != "last" {
		t.Fatalf("merged %+v", got)
	}
}
