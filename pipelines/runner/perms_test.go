package runner_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// The state directory holds claims (PHI) at rest: downloaded NDJSON, job state and the
// Arrow tables of `dpcetl transform`. Nothing in it may be readable by group or others.
func TestStateDirIsPrivate(t *testing.T) {
	f := newFixture(t, 4)
	ctx := context.Background()
	r, err := runner.New(ctx, runner.Options{Config: f.cfg, Now: f.srv.Clock().Now})
	if err != nil {
		t.Fatalf("runner.New: %v", err)
	}
	defer r.Close()
	for _, stage := range []struct {
		name string
		fn   func(context.Context) (*runner.Summary, error)
	}{{"export start", r.ExportStart}, {"export wait", r.ExportWait}, {"download", r.Download}, {"transform", r.Transform}} {
		if _, err := stage.fn(ctx); err != nil {
			t.Fatalf("%s: %v", stage.name, err)
		}
	}
	kinds := map[string]int{}
	err = filepath.WalkDir(f.cfg.StateDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s: mode %v, want no group/other access", p, perm)
		}
		switch {
		case d.IsDir():
			kinds["dir"]++
		case strings.HasSuffix(p, ".arrows"):
			kinds["arrow"]++
		case strings.HasSuffix(p, ".ndjson"):
			kinds["ndjson"]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// the walk must have seen the PHI it is about
	if kinds["arrow"] == 0 || kinds["ndjson"] == 0 {
		t.Fatalf("state dir content: %v", kinds)
	}
	if info, err := os.Stat(f.cfg.StateDir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("state dir: %v %v, want 0700", info.Mode(), err)
	}
}
