package runner_test

import (
	"context"
	"runtime/debug"
	"testing"

	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// TestCloseRestoresMemoryLimit: memory_limit sets Go's process-wide soft limit for the run
// only; Close puts the caller's limit back (a library user's other work, or a test binary,
// must not be collected under it afterwards).
func TestCloseRestoresMemoryLimit(t *testing.T) {
	f := newFixture(t, 5)
	const before = 3 << 30
	old := debug.SetMemoryLimit(before)
	defer debug.SetMemoryLimit(old)
	cfg := f.cfg
	cfg.MemoryLimit = 64
	r, err := runner.New(context.Background(), runner.Options{Config: cfg, Now: f.srv.Clock().Now, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := debug.SetMemoryLimit(-1), int64(64<<20-64<<20/8); got != want {
		t.Errorf("during the run the soft limit is %d, want 7/8 of memory_limit %d", got, want)
	}
	r.Close()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("after Close the soft limit is %d, want the caller's %d", got, before)
	}
}
