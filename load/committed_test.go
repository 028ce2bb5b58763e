package load_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/load/s3test"
	"github.com/dpcetl/dpcetl/load/sink"
)

// tidyFails wraps a real sink and runs hit when the publish step deletes the intent record
// after _SUCCESS: the exact point where issue 18's committed run was later rolled back.
type tidyFails struct {
	sink.Sink
	once sync.Once
	hit  func() error
}

func (f *tidyFails) Delete(ctx context.Context, key string) error {
	if strings.HasSuffix(key, "/"+load.PublishingName) {
		var err error
		ran := false
		f.once.Do(func() { ran, err = true, f.hit() })
		if ran {
			if err != nil {
				return err
			}
		}
	}
	return f.Sink.Delete(ctx, key)
}

// checkCommittedSurvivesCleanup commits run "kept" through s (whose tidy-up fails), then
// commits another run a day later (its CleanStale sees the aged intent record) on base, and
// checks that the committed run is still whole and only the leftover record is gone.
func checkCommittedSurvivesCleanup(t *testing.T, base sink.Sink, s sink.Sink, after func()) {
	t.Helper()
	o := runOptions("kept")
	o.TargetFileBytes = 8 << 10
	o.RowGroupRows = 500
	kept := commitClaims(t, s, o, 3000, 500)
	if len(kept.Files) < 2 {
		t.Fatalf("%d files; the test needs several", len(kept.Files))
	}
	after()
	if ok, err := sink.Exists(ctxT(t), base, load.RunDir("kept")+"/"+load.PublishingName); err != nil || !ok {
		t.Fatalf("the failed tidy-up should leave the intent record (exists=%v, %v)", ok, err)
	}

	later := runOptions("later")
	later.ExportDate = exportDate.AddDate(0, 0, 1)
	day := time.Now().Add(25 * time.Hour)
	later.Now = func() time.Time { return day }
	lm := commitClaims(t, base, later, 10, 10)

	if _, err := load.ReadManifest(ctxT(t), base, "kept"); err != nil {
		t.Fatalf("committed run lost by a later cleanup: %v", err)
	}
	visible := readerVisible(t, base)
	for _, f := range kept.Files {
		if !slices.Contains(visible, f.Key) {
			t.Errorf("file %s of the committed run was deleted", f.Key)
		}
	}
	if !slices.Contains(visible, lm.Files[0].Key) {
		t.Errorf("later run not visible: %q", visible)
	}
	if runs, _ := load.CommittedRuns(ctxT(t), base); !slices.Equal(runs, []string{"kept", "later"}) {
		t.Errorf("committed runs = %q, want [kept later]", runs)
	}
	if ok, _ := sink.Exists(ctxT(t), base, load.RunDir("kept")+"/"+load.PublishingName); ok {
		t.Error("leftover intent record of the committed run was not removed")
	}
}

func TestCommittedRunWithLeftoverIntentIsNeverRolledBack(t *testing.T) {
	base, _ := fileSink(t)
	s := &tidyFails{Sink: base, hit: func() error { return errors.New("injected: disk went read-only") }}
	checkCommittedSurvivesCleanup(t, base, s, func() {})
}

func TestS3KilledAfterSuccessKeepsCommittedRun(t *testing.T) {
	srv := s3test.Start(t)
	base := srv.Sink(t, "lake", 0)
	// versitygw dies right after _SUCCESS is written, before the intent record is deleted.
	s := &tidyFails{Sink: base, hit: func() error { srv.Kill(); return nil }}
	checkCommittedSurvivesCleanup(t, base, s, srv.Restart)
}

func TestRollBackRefusesCommittedRun(t *testing.T) {
	s, _ := fileSink(t)
	m := commitClaims(t, s, runOptions("done"), 100, 50)
	committed, err := load.RollBack(ctxT(t), s, "done")
	if err != nil || !committed {
		t.Fatalf("RollBack of a committed run = %v, %v; want committed, nil", committed, err)
	}
	if _, err := load.ReadManifest(ctxT(t), s, "done"); err != nil {
		t.Fatal(err)
	}
	if v := readerVisible(t, s); !slices.Equal(v, []string{m.Files[0].Key}) {
		t.Errorf("visible = %q", v)
	}
	if _, err := load.RollBack(ctxT(t), s, "../x"); !errors.Is(err, load.ErrInvalidOptions) {
		t.Errorf("RollBack(../x) = %v, want ErrInvalidOptions", err)
	}
}

// lostReply commits a _SUCCESS marker and then reports an error, as a store whose reply is
// lost after the write landed does.
type lostReply struct{ sink.Sink }

type lostReplyWriter struct{ sink.Writer }

func (w lostReplyWriter) Commit() error {
	if err := w.Writer.Commit(); err != nil {
		return err
	}
	return errors.New("injected: connection reset after the request was sent")
}

func (s lostReply) NewWriter(ctx context.Context, key string) (sink.Writer, error) {
	w, err := s.Sink.NewWriter(ctx, key)
	if err == nil && strings.HasSuffix(key, "/"+load.SuccessName) {
		return lostReplyWriter{w}, nil
	}
	return w, err
}

func TestSuccessWrittenButReplyLostIsCommitted(t *testing.T) {
	base, _ := fileSink(t)
	run := writeClaims(t, lostReply{base}, runOptions("landed"), 200, 100)
	m, err := run.Commit(ctxT(t))
	if err != nil {
		t.Fatalf("Commit = %v; the marker landed, so the run is committed", err)
	}
	got, err := load.ReadManifest(ctxT(t), base, "landed")
	if err != nil || got.CommittedAt != m.CommittedAt {
		t.Fatalf("committed manifest = %+v, %v", got, err)
	}
	if v := readerVisible(t, base); !slices.Equal(v, []string{m.Files[0].Key}) {
		t.Errorf("visible = %q", v)
	}
	if ok, _ := sink.Exists(ctxT(t), base, load.RunDir("landed")+"/"+load.PublishingName); ok {
		t.Error("intent record left beside the committed run")
	}
}

func TestRollBackLeavesCommittedRunWithBadManifestAlone(t *testing.T) {
	s, dir := fileSink(t)
	m := commitClaims(t, s, runOptions("odd"), 100, 50)
	if err := os.WriteFile(filepath.Join(dir, load.RunsDir, "odd", load.ManifestName), []byte(`{"files":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	committed, err := load.RollBack(ctxT(t), s, "odd")
	if !committed || err == nil || !strings.Contains(err.Error(), "not touching it") {
		t.Fatalf("RollBack = %v, %v; want committed and an error that leaves the run alone", committed, err)
	}
	if v := readerVisible(t, s); !slices.Equal(v, []string{m.Files[0].Key}) {
		t.Errorf("files of a run with _SUCCESS were deleted: visible = %q", v)
	}
}
