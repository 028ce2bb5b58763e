package load_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/load/sink"
)

const helperEnv = "DPCETL_LOAD_HELPER"

// TestHelperProcess is not a test: it is the child process of the fault tests.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return // run as an ordinary test: nothing to do
	}
	dir := os.Getenv("DPCETL_LOAD_DIR")
	err := helperMain(mode, dir)
	if err != nil {
		fmt.Printf("ERR %v\n", err)
	} else {
		fmt.Println("OK")
	}
	os.Exit(0)
}

func helperMain(mode, dir string) error {
	ctx := context.Background()
	switch mode {
	case "fsize":
		// A file size limit makes writes fail mid-file like a full disk does.
		signal.Ignore(syscall.SIGXFSZ)
		lim := syscall.Rlimit{Cur: 200 << 10, Max: 200 << 10}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			return fmt.Errorf("setrlimit: %w", err)
		}
	case "perm":
		if os.Geteuid() == 0 {
			// Root ignores permission bits; drop to nobody so the read-only directory bites.
			if err := syscall.Setgid(65534); err != nil {
				return fmt.Errorf("setgid: %w", err)
			}
			if err := syscall.Setuid(65534); err != nil {
				return fmt.Errorf("setuid: %w", err)
			}
		}
	}
	s, err := sink.NewFile(dir)
	if err != nil {
		return err
	}
	o := runOptions(mode)
	o.TargetFileBytes = 64 << 10
	if mode == "fsize" {
		o.TargetFileBytes = 64 << 20 // one file that outgrows the limit
	}
	o.RowGroupRows = 1000
	o.Compression = "none"
	run, err := load.NewRun(s, o)
	if err != nil {
		return err
	}
	for start := 0; start < 30000; start += 1000 {
		rec := claimsRecord(memory.DefaultAllocator, start, 1000)
		err := run.Write(ctx, "claims", rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	if mode == "killme" {
		// Several files are staged and one is half written: wait to be killed.
		fmt.Println("READY")
		time.Sleep(time.Minute)
		return errors.New("not killed")
	}
	_, err = run.Commit(ctx)
	return err
}

func startHelper(t *testing.T, mode, dir string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "DPCETL_LOAD_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, bufio.NewScanner(out)
}

// helperResult runs a helper to completion and returns its "ERR ..." line.
func helperResult(t *testing.T, mode, dir string) string {
	t.Helper()
	_, sc := startHelper(t, mode, dir)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERR ") {
			return strings.TrimPrefix(line, "ERR ")
		}
		if line == "OK" {
			t.Fatalf("helper %s succeeded; it should have failed", mode)
		}
	}
	t.Fatalf("helper %s printed no result", mode)
	return ""
}

func TestKilledProcessMidRunLeavesNothingVisible(t *testing.T) {
	dir := t.TempDir()
	cmd, sc := startHelper(t, "killme", dir)
	ready := false
	for sc.Scan() {
		if sc.Text() == "READY" {
			ready = true
			break
		}
		t.Logf("helper: %s", sc.Text())
	}
	if !ready {
		t.Fatal("helper never got ready")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	s, err := sink.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	staged, err := s.List(ctxT(t), load.StagingDir+"/killme/")
	if err != nil {
		t.Fatal(err)
	}
	if len(staged) < 2 {
		t.Fatalf("helper staged %d files before the kill; the test needs several", len(staged))
	}
	if v := readerVisible(t, s); len(v) != 0 {
		t.Fatalf("killed run is visible to readers: %q", v)
	}
	if runs, _ := load.CommittedRuns(ctxT(t), s); len(runs) != 0 {
		t.Fatalf("killed run reported committed: %q", runs)
	}
	// Rerunning the same run id cleans what the killed attempt left, temp files included.
	m := commitClaims(t, s, runOptions("killme"), 10, 10)
	if v := readerVisible(t, s); len(v) != 1 || v[0] != m.Files[0].Key {
		t.Errorf("visible after rerun = %q", v)
	}
	assertNoFiles(t, filepath.Join(dir, load.StagingDir))
}

func TestDiskFullLeavesNothingAndNamesObject(t *testing.T) {
	dir := t.TempDir()
	msg := helperResult(t, "fsize", dir)
	t.Log(msg)
	if !strings.Contains(msg, "file too large") && !strings.Contains(msg, "no space") {
		t.Errorf("error %q does not say the disk/file limit was hit", msg)
	}
	if !strings.Contains(msg, "claims/export_date=2026-01-02/group_id=grp-0001/part-") {
		t.Errorf("error %q does not name the object", msg)
	}
	s, err := sink.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v := readerVisible(t, s); len(v) != 0 {
		t.Errorf("visible after disk full: %q", v)
	}
	assertNoFiles(t, dir)
}

func TestPermissionErrorLeavesNothingAndNamesObject(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "out")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	// The unprivileged helper must be able to reach the read-only directory.
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	msg := helperResult(t, "perm", dir)
	t.Log(msg)
	if !strings.Contains(msg, "permission denied") {
		t.Errorf("error %q is not a permission error", msg)
	}
	if !strings.Contains(msg, "claims/export_date=2026-01-02/group_id=grp-0001/part-00000-perm.parquet") {
		t.Errorf("error %q does not name the object", msg)
	}
	assertNoFiles(t, dir)
}

// failingRename wraps a real sink and fails the n-th Rename, as a store outage mid-publish would.
type failingRename struct {
	sink.Sink
	mu    sync.Mutex
	calls int
	n     int
}

func (f *failingRename) Rename(ctx context.Context, src, dst string) error {
	f.mu.Lock()
	f.calls++
	fail := f.calls == f.n
	f.mu.Unlock()
	if fail {
		return fmt.Errorf("rename %s: injected outage", f.URL(dst))
	}
	return f.Sink.Rename(ctx, src, dst)
}

func TestPublishFailureRollsBack(t *testing.T) {
	base, dir := fileSink(t)
	// A committed earlier attempt of the same run id, then a rerun that dies mid-publish.
	for attempt, failAt := range []int{0, 2} {
		s := &failingRename{Sink: base, n: failAt}
		o := runOptions("pub")
		o.TargetFileBytes = 8 << 10
		o.RowGroupRows = 500
		run, err := load.NewRun(s, o)
		if err != nil {
			t.Fatal(err)
		}
		for start := 0; start < 4000; start += 500 {
			rec := claimsRecord(memory.DefaultAllocator, start, 500)
			err := run.Write(ctxT(t), "claims", rec)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
		}
		_, err = run.Commit(ctxT(t))
		if attempt == 0 {
			if err != nil {
				t.Fatal(err)
			}
			if len(readerVisible(t, base)) < 3 {
				t.Fatal("first attempt should publish several files")
			}
			continue
		}
		if err == nil {
			t.Fatal("Commit succeeded despite the failed rename")
		}
		if !strings.Contains(err.Error(), "claims/export_date=2026-01-02/group_id=grp-0001/part-00001-pub.parquet") {
			t.Errorf("error does not name the object: %v", err)
		}
	}
	if v := readerVisible(t, base); len(v) != 0 {
		t.Errorf("visible after a failed publish: %q", v)
	}
	if runs, _ := load.CommittedRuns(ctxT(t), base); len(runs) != 0 {
		t.Errorf("committed runs = %q", runs)
	}
	assertNoFiles(t, dir)
}
