package runner_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// claimsIn counts the generator's claims (of benes DPC does not suppress) updated in (since, until].
func claimsIn(f *fixture, since, until time.Time) map[string]bool {
	out := map[string]bool{}
	gen := f.srv.Generator()
	for _, mbi := range f.sb.MBIs {
		rec := gen.Record(mbi)
		if rec.Suppressed {
			continue
		}
		for _, c := range rec.Claims {
			if c.LastUpdated.After(since) && !c.LastUpdated.After(until) {
				out[c.ClaimID] = true
			}
		}
	}
	return out
}

func txTime(t *testing.T, s *runner.Summary) time.Time {
	t.Helper()
	tx, err := time.Parse(time.RFC3339Nano, s.Groups[0].TransactionTime)
	if err != nil {
		t.Fatalf("transaction time %q: %v", s.Groups[0].TransactionTime, err)
	}
	return tx
}

// eobIDs reads every eob row and fails on a duplicate claim id.
func eobIDs(t *testing.T, f *fixture) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, r := range readTable(t, f.cfg.Destination, "eob") {
		if ids[r["claim_id"]] {
			t.Errorf("duplicate eob row for claim %s", r["claim_id"])
		}
		ids[r["claim_id"]] = true
	}
	return ids
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestIncrementalFailedRunAndRerun(t *testing.T) {
	f := newFixture(t, 20)
	group := f.sb.GroupIDs[0]
	clock := f.srv.Clock()

	// 1. The first run has no watermark: everything up to tx1.
	s1, err := f.run(t, f.cfg)
	if err != nil {
		t.Fatalf("run 1: %v", err)
	}
	tx1 := txTime(t, s1)
	if s1.Groups[0].Since != "" {
		t.Fatalf("first run had a since: %q", s1.Groups[0].Since)
	}
	if got, want := eobIDs(t, f), claimsIn(f, time.Time{}, tx1); !sameSet(got, want) {
		t.Fatalf("run 1: %d eob rows, want %d", len(got), len(want))
	}

	// 2. The sandbox clock moves on; the incremental run exports only (tx1, tx2].
	clock.Advance(20 * 24 * time.Hour)
	s2, err := f.run(t, f.cfg)
	if err != nil {
		t.Fatalf("run 2: %v", err)
	}
	tx2 := txTime(t, s2)
	if s2.Groups[0].Since != tx1.Format(time.RFC3339Nano) {
		t.Fatalf("run 2 since = %q, want %s", s2.Groups[0].Since, tx1.Format(time.RFC3339Nano))
	}
	changed := claimsIn(f, tx1, tx2)
	if len(changed) == 0 {
		t.Fatal("the clock move changed no claim; the test proves nothing")
	}
	if got := s2.Groups[0].Rows["eob"]; got != int64(len(changed)) {
		t.Fatalf("run 2 loaded %d eob rows, want only the %d changed claims", got, len(changed))
	}
	if got, want := eobIDs(t, f), claimsIn(f, time.Time{}, tx2); !sameSet(got, want) {
		t.Fatalf("after run 2: %d eob rows, want %d", len(got), len(want))
	}
	wm, err := readWatermark(t, f, group)
	if err != nil || !wm.Equal(tx2) {
		t.Fatalf("watermark after run 2 = %v (%v), want %v", wm, err, tx2)
	}

	// 3. A failed run: every data download breaks. Nothing is committed, the watermark stays.
	clock.Advance(20 * 24 * time.Hour)
	f.srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultUnavailable, Path: "/Data/"}}})
	s3, err := f.run(t, f.cfg)
	if err == nil {
		t.Fatal("run 3 succeeded through a broken /Data/")
	}
	if !errors.Is(err, extract.ErrRetryable) {
		t.Fatalf("run 3 error is not retryable: %v", err)
	}
	failedJob := s3.Groups[0].JobID
	if wm, _ := readWatermark(t, f, group); !wm.Equal(tx2) {
		t.Fatalf("failed run moved the watermark to %v", wm)
	}
	if got, want := eobIDs(t, f), claimsIn(f, time.Time{}, tx2); !sameSet(got, want) {
		t.Fatalf("after the failed run: %d eob rows, want %d", len(got), len(want))
	}

	// 4. The rerun joins the same job (same window), commits, and moves the watermark once.
	f.srv.SetFaults(dpctest.Faults{})
	s4, err := f.run(t, f.cfg)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if s4.Groups[0].JobID != failedJob {
		t.Errorf("rerun started job %s instead of rejoining %s", s4.Groups[0].JobID, failedJob)
	}
	tx4 := txTime(t, s4)
	if s4.Groups[0].Since != tx2.Format(time.RFC3339Nano) {
		t.Fatalf("rerun since = %q, want %s", s4.Groups[0].Since, tx2.Format(time.RFC3339Nano))
	}
	if got, want := eobIDs(t, f), claimsIn(f, time.Time{}, tx4); !sameSet(got, want) {
		t.Fatalf("after the rerun: %d eob rows, want %d", len(got), len(want))
	}
	if wm, _ := readWatermark(t, f, group); !wm.Equal(tx4) {
		t.Fatalf("watermark after rerun = %v, want %v", wm, tx4)
	}

	// 5. A full export run twice on one day is one snapshot: the second replaces the first.
	full := f.cfg
	full.Since = "full"
	if _, err := f.run(t, full); err != nil {
		t.Fatalf("full run: %v", err)
	}
	s6, err := f.run(t, full)
	if err != nil {
		t.Fatalf("second full run: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(f.cfg.Destination, "patient", "export_date=*", "group_id=*", "part-*-full-*.parquet"))
	rows := 0
	for _, p := range files {
		rows += len(readParquet(t, p))
	}
	if want := s6.Groups[0].Rows["patient"]; int64(rows) != want || want == 0 {
		t.Fatalf("full snapshot: %d patient rows in %d files, want %d", rows, len(files), want)
	}
}
