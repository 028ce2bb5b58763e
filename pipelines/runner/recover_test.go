package runner_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCrashBetweenCommitAndWatermark simulates a process killed after its load run committed
// but before the watermark moved: the next run repairs the watermark from the pending record
// and exports the next window, so nothing is loaded twice.
func TestCrashBetweenCommitAndWatermark(t *testing.T) {
	f := newFixture(t, 16)
	stateDir, _, tx2 := crashAfterSecondCommit(t, f, "")

	f.srv.Clock().Advance(10 * 24 * time.Hour)
	s3, err := f.run(t, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s3.Groups[0].Since != tx2.Format(time.RFC3339Nano) {
		t.Fatalf("run after the crash exported since %q, want the repaired watermark %s", s3.Groups[0].Since, tx2.Format(time.RFC3339Nano))
	}
	tx3 := txTime(t, s3)
	if got, want := eobIDs(t, f), claimsIn(f, time.Time{}, tx3); !sameSet(got, want) {
		t.Fatalf("%d eob rows, want %d", len(got), len(want))
	}
	if _, err := os.Stat(filepath.Join(stateDir, "pending.json")); !os.IsNotExist(err) {
		t.Fatalf("pending record left: %v", err)
	}
}

// TestCrashWithHeldWatermark: a process killed after committing a run whose watermark must
// hold (a deletion did not land) leaves a pending record saying so; the next run removes the
// record without moving the watermark to that run, and exports the held window again.
func TestCrashWithHeldWatermark(t *testing.T) {
	f := newFixture(t, 8)
	stateDir, tx1, _ := crashAfterSecondCommit(t, f, "1 lines of deleted file d.ndjson quarantined")
	f.srv.Clock().Advance(10 * 24 * time.Hour)
	s3, err := f.run(t, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s3.Groups[0].Since != tx1.Format(time.RFC3339Nano) {
		t.Fatalf("the run after the crash exported since %q, want the held watermark %s", s3.Groups[0].Since, tx1.Format(time.RFC3339Nano))
	}
	if _, err := os.Stat(filepath.Join(stateDir, "pending.json")); !os.IsNotExist(err) {
		t.Fatalf("pending record left: %v", err)
	}
}

// crashAfterSecondCommit commits two runs, then puts back the first watermark and a pending
// record of the second (with hold, when given): a process killed between commit and watermark.
func crashAfterSecondCommit(t *testing.T, f *fixture, hold string) (stateDir string, tx1, tx2 time.Time) {
	t.Helper()
	group := f.sb.GroupIDs[0]
	s1, err := f.run(t, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	tx1 = txTime(t, s1)
	stateDir = filepath.Join(f.cfg.Destination, "_state", "groups", group)
	wm1, err := os.ReadFile(filepath.Join(stateDir, "watermark.json"))
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Clock().Advance(10 * 24 * time.Hour)
	s2, err := f.run(t, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	tx2 = txTime(t, s2)
	var wm2 struct {
		RunID string `json:"run_id"`
		JobID string `json:"job_id"`
	}
	b, _ := os.ReadFile(filepath.Join(stateDir, "watermark.json"))
	if err := json.Unmarshal(b, &wm2); err != nil || wm2.RunID == "" {
		t.Fatalf("watermark 2: %v %s", err, b)
	}
	pending, _ := json.Marshal(map[string]any{"group": group, "job_id": wm2.JobID, "run_id": wm2.RunID,
		"export_date": tx2.UTC().Format(time.DateOnly), "since": tx1, "transaction_time": tx2, "hold": hold})
	os.WriteFile(filepath.Join(stateDir, "pending.json"), pending, 0o644)
	os.WriteFile(filepath.Join(stateDir, "watermark.json"), wm1, 0o644)
	return stateDir, tx1, tx2
}
