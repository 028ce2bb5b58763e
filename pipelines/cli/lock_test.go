package cli_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/pipelines/cli"
)

// TestSubprocessSecondRunExits10 runs two real dpcetl processes on one state directory
// and destination: the second exits 10 (retryable) naming the first's pid; once the
// first is SIGKILLed, its stale lock is taken over and a rerun finishes (issue 18 defect 5).
func TestSubprocessSecondRunExits10(t *testing.T) {
	f := newCLIFixture(t, "", dpctest.WithJobDuration(time.Hour))
	first := exec.Command(dpcetlBinary, "run", "--config", f.config)
	first.Dir = f.dir
	errPipe, _ := first.StderrPipe()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Process.Kill(); _ = first.Wait() })
	sc := bufio.NewScanner(errPipe)
	for sc.Scan() && !strings.Contains(sc.Text(), "job.kickoff") {
	}
	go func() {
		for sc.Scan() {
		}
	}()

	r := runBinary(t, f.dir, nil, "run", "--config", f.config)
	if r.code != cli.ExitRetryable {
		t.Fatalf("second run: exit %d, want %d\n%s", r.code, cli.ExitRetryable, r.stderr)
	}
	for _, want := range []string{fmt.Sprintf("pid %d", first.Process.Pid), "dpcetl run", filepath.Join(f.stateDir, "locks", "group-"), f.sb.GroupIDs[0]} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("second run's error does not name %q:\n%s", want, r.stderr)
		}
	}
	// Another state directory on the same destination is refused too: by the destination lock.
	other := strings.Replace(mustRead(t, f.config), f.stateDir, f.stateDir+"-2", 1)
	cfg2 := filepath.Join(f.dir, "second.yaml")
	os.WriteFile(cfg2, []byte(other), 0o600)
	r = runBinary(t, f.dir, nil, "export", "start", "--config", cfg2)
	if r.code != cli.ExitRetryable || !strings.Contains(r.stderr, filepath.Join(f.outDir, "_state", "groups", f.sb.GroupIDs[0], "lock.json")) {
		t.Fatalf("second state dir, same destination: exit %d\n%s", r.code, r.stderr)
	}

	// kill -9 the holder: the stale lock is taken over, the rerun rejoins the job and finishes.
	_ = first.Process.Signal(syscall.SIGKILL)
	_ = first.Wait()
	f.srv.Clock().Advance(2 * time.Hour)
	r = runBinary(t, f.dir, nil, "run", "--config", f.config)
	if r.code != cli.ExitOK {
		t.Fatalf("run after the holder was killed: exit %d\n%s", r.code, r.stderr)
	}
	if n := f.srv.Requests("/api/v1/Group/"); n != 1 {
		t.Errorf("%d kick-offs, want 1 (the rerun rejoins the killed run's job)", n)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
