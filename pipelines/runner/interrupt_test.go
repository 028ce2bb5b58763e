package runner_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// TestInterruptedRunResumes cancels a run as soon as its first file is verified (as SIGINT
// does): nothing becomes visible, the watermark stays, and the rerun rejoins the job,
// reuses the verified files and commits exactly once.
func TestInterruptedRunResumes(t *testing.T) {
	f := newFixture(t, 30, dpctestSmallFiles()...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var verified atomic.Int32
	r, err := runner.New(ctx, runner.Options{Config: f.cfg, Now: f.srv.Clock().Now, Progress: func(e extract.Event) {
		if e.Kind == extract.EventFileVerified && verified.Add(1) == 1 {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := r.Run(ctx)
	r.Close()
	if !errors.Is(err, runner.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	job := sum.Groups[0].JobID
	if runs, _ := filepath.Glob(filepath.Join(f.cfg.Destination, "_runs", "*", "_SUCCESS")); len(runs) != 0 {
		t.Fatalf("an interrupted run committed: %v", runs)
	}
	if parts, _ := filepath.Glob(filepath.Join(f.cfg.Destination, "*", "export_date=*", "group_id=*", "*.parquet")); len(parts) != 0 {
		t.Fatalf("an interrupted run left visible Parquet: %v", parts)
	}
	if _, err := os.Stat(filepath.Join(f.cfg.Destination, "_state", "groups", f.sb.GroupIDs[0], "watermark.json")); !os.IsNotExist(err) {
		t.Fatalf("watermark written by an interrupted run: %v", err)
	}

	var skipped atomic.Int32
	r, err = runner.New(context.Background(), runner.Options{Config: f.cfg, Now: f.srv.Clock().Now, Progress: func(e extract.Event) {
		if e.Kind == extract.EventFileSkipped {
			skipped.Add(1)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sum, err = r.Run(context.Background())
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if sum.Groups[0].JobID != job {
		t.Errorf("rerun used job %s, want the interrupted job %s", sum.Groups[0].JobID, job)
	}
	if skipped.Load() == 0 {
		t.Errorf("rerun fetched every file again; want the verified ones skipped")
	}
	tx := txTime(t, sum)
	if got, want := eobIDs(t, f), claimsIn(f, time.Time{}, tx); !sameSet(got, want) {
		t.Fatalf("%d eob rows, want %d", len(got), len(want))
	}
}
