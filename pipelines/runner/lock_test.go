package runner_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/load/lock"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// TestGroupLockRefusesSameGroupOnly: a group held by another run fails this run with a
// retryable ErrLocked naming the holder, while a run of another group on the same state
// directory and destination proceeds (one process per group is the scale-out model).
func TestGroupLockRefusesSameGroupOnly(t *testing.T) {
	f := newFixtureN(t, 20, 2)
	g0, g1 := f.sb.GroupIDs[0], f.sb.GroupIDs[1]
	s, err := sink.Open(context.Background(), f.cfg.Destination)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	holder := lock.Self("dpcetl run (the other one)")
	l, err := lock.Sink(context.Background(), s, runner.DestinationLockKey(g0), holder, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.run(t, f.cfg)
	if !errors.Is(err, runner.ErrLocked) || !errors.Is(err, extract.ErrRetryable) {
		t.Fatalf("run with a held group = %v, want ErrLocked (retryable)", err)
	}
	for _, want := range []string{g0, "the other one", "lock.json"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	only1 := f.cfg
	only1.Groups = config.Groups{IDs: []string{g1}}
	if _, err := f.run(t, only1); err != nil {
		t.Fatalf("run of another group while %s is held: %v", g0, err)
	}
	l.Release(context.Background())
	if _, err := f.run(t, f.cfg); err != nil {
		t.Fatalf("run after the holder released: %v", err)
	}
}
