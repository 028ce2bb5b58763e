package load_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/load"
)

func TestCommitCleansStaleRunsButNotLiveOnes(t *testing.T) {
	s, dir := fileSink(t)
	rec := claimsRecord(memory.DefaultAllocator, 0, 50)
	defer rec.Release()
	stage := func(id string) *load.Run {
		run, err := load.NewRun(s, runOptions(id))
		if err != nil {
			t.Fatal(err)
		}
		if err := run.Write(ctxT(t), "claims", rec); err != nil {
			t.Fatal(err)
		}
		return run
	}
	// "half" committed, then a rerun died mid-publish: intent present, _SUCCESS gone.
	half := stage("half")
	hm, err := half.Commit(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, load.RunsDir, "half")
	if err := os.Rename(filepath.Join(runDir, load.ManifestName), filepath.Join(runDir, load.PublishingName)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(runDir, load.SuccessName)); err != nil {
		t.Fatal(err)
	}
	// An old staged object of a dead run, and a live run's staging touched "recently".
	deadStaged := filepath.Join(dir, load.StagingDir, "dead", "claims", "x.parquet")
	liveStaged := filepath.Join(dir, load.StagingDir, "live", "claims", "y.parquet")
	for _, p := range []string{deadStaged, liveStaged} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Add(25 * time.Hour)
	if err := os.Chtimes(liveStaged, now, now); err != nil {
		t.Fatal(err)
	}

	o := runOptions("new")
	o.Now = func() time.Time { return now }
	run, err := load.NewRun(s, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Write(ctxT(t), "claims", rec); err != nil {
		t.Fatal(err)
	}
	m, err := run.Commit(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(deadStaged); !os.IsNotExist(err) {
		t.Errorf("stale staging of a dead run survived: %v", err)
	}
	if _, err := os.Stat(liveStaged); err != nil {
		t.Errorf("staging of a live run was removed: %v", err)
	}
	for _, f := range hm.Files {
		if slices.Contains(readerVisible(t, s), f.Key) {
			t.Errorf("half-published run still visible: %s", f.Key)
		}
	}
	if _, err := os.Stat(runDir); !os.IsNotExist(err) {
		t.Errorf("run dir of the rolled back run remains: %v", err)
	}
	visible := readerVisible(t, s)
	for _, k := range visible {
		if !strings.Contains(k, "-new.parquet") {
			t.Errorf("unexpected visible file %s", k)
		}
	}
	if !slices.Contains(visible, m.Files[0].Key) {
		t.Errorf("new run not visible: %q", visible)
	}
	runs, _ := load.CommittedRuns(ctxT(t), s)
	if !slices.Equal(runs, []string{"new"}) {
		t.Errorf("committed runs = %q", runs)
	}
}
