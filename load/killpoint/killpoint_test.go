package killpoint_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dpcetl/dpcetl/load/killpoint"
)

// TestHelperProcess is not a test: it reaches point "a" five times, printing before each.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("KILLPOINT_HELPER") == "" {
		return
	}
	for i := 1; i <= 5; i++ {
		os.Stdout.WriteString("before " + string(rune('0'+i)) + "\n")
		killpoint.Reach("b")
		killpoint.Reach("a")
	}
	os.Stdout.WriteString("done\n")
	os.Exit(0)
}

func helper(t *testing.T, env ...string) (lines []string, killed bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(append(os.Environ(), "KILLPOINT_HELPER=1"), env...)
	out, err := cmd.Output()
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws, ok := ee.Sys().(syscall.WaitStatus)
		killed = ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
	}
	return lines, killed
}

func TestKillAtNthArrival(t *testing.T) {
	lines, killed := helper(t, killpoint.Env+"=a@3")
	if !killed || len(lines) != 3 || lines[2] != "before 3" {
		t.Fatalf("killed=%v after %q, want SIGKILL at the 3rd arrival", killed, lines)
	}
	lines, killed = helper(t)
	if killed || len(lines) != 6 {
		t.Fatalf("unset: killed=%v, %q", killed, lines)
	}
	lines, killed = helper(t, killpoint.Env+"=nowhere")
	if killed || len(lines) != 6 {
		t.Fatalf("unknown point: killed=%v, %q", killed, lines)
	}
}

func TestPauseWaitsForResumeFile(t *testing.T) {
	resume := filepath.Join(t.TempDir(), "go")
	if err := os.WriteFile(resume, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	lines, killed := helper(t, killpoint.Env+"=a@2:pause", killpoint.ResumeEnv+"="+resume)
	if killed || len(lines) != 6 || lines[5] != "done" {
		t.Fatalf("pause with the resume file present: killed=%v, %q", killed, lines)
	}
}
