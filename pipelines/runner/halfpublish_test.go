package runner_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHalfPublishedRunIsRolledBackBeforeAnotherRunID reproduces issue 18 defect 2: a full
// run killed mid-publish (intent record written, some files renamed, no _SUCCESS, pending
// record in place), then an incremental run, whose run id differs. The partial files of
// the killed run must be gone before the new run publishes, so no claim appears twice.
func TestHalfPublishedRunIsRolledBackBeforeAnotherRunID(t *testing.T) {
	f := newFixture(t, 40, dpctestSmallFiles()...)
	group := f.sb.GroupIDs[0]
	full := f.cfg
	full.Since = "full"
	s1, err := f.run(t, full)
	if err != nil {
		t.Fatal(err)
	}
	tx1 := txTime(t, s1)
	dest := f.cfg.Destination
	stateDir := filepath.Join(dest, "_state", "groups", group)
	var wm struct {
		RunID string `json:"run_id"`
		JobID string `json:"job_id"`
	}
	b, err := os.ReadFile(filepath.Join(stateDir, "watermark.json"))
	if err != nil || json.Unmarshal(b, &wm) != nil || !strings.HasPrefix(wm.RunID, "full-") {
		t.Fatalf("watermark: %v %s", err, b)
	}
	// Turn the committed run back into one killed mid-publish: half its files renamed.
	runDir := filepath.Join(dest, "_runs", wm.RunID)
	body, err := os.ReadFile(filepath.Join(runDir, "_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Files []struct{ Key string } `json:"files"`
	}
	if err := json.Unmarshal(body, &man); err != nil || len(man.Files) < 2 {
		t.Fatalf("manifest: %v, %d files", err, len(man.Files))
	}
	// Renamed so far: every eob file (so the duplicates show in eob) and every other file of the rest.
	for i, fl := range man.Files {
		if i%2 == 1 && !strings.HasPrefix(fl.Key, "eob/") {
			if err := os.Remove(filepath.Join(dest, filepath.FromSlash(fl.Key))); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range []string{"_SUCCESS", "_manifest.json"} {
		if err := os.Remove(filepath.Join(runDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(runDir, "_publishing.json"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(stateDir, "watermark.json"))
	pending, _ := json.Marshal(map[string]any{"group": group, "job_id": wm.JobID, "run_id": wm.RunID,
		"export_date": tx1.UTC().Format(time.DateOnly), "transaction_time": tx1})
	if err := os.WriteFile(filepath.Join(stateDir, "pending.json"), pending, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(readTable(t, dest, "eob")) == 0 {
		t.Fatal("the simulated half-published run shows no eob rows; the test proves nothing")
	}

	s2, err := f.run(t, f.cfg) // incremental, no watermark: run id inc-initial-…
	if err != nil {
		t.Fatal(err)
	}
	tx2 := txTime(t, s2)
	if got, want := eobIDs(t, f), claimsIn(f, time.Time{}, tx2); !sameSet(got, want) {
		t.Fatalf("%d eob rows, want %d", len(got), len(want))
	}
	for _, fl := range man.Files {
		if _, err := os.Stat(filepath.Join(dest, filepath.FromSlash(fl.Key))); err == nil {
			t.Errorf("file %s of the half-published run is still visible", fl.Key)
		}
	}
	if _, err := os.Stat(runDir); !os.IsNotExist(err) {
		t.Errorf("run dir of the rolled back run remains: %v", err)
	}
}
