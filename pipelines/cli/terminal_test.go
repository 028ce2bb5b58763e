package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/spf13/cobra"
)

// TestRunOnTerminal runs the embedded default in-process as if at a terminal: text logs,
// a progress line, and the human summary before the JSON line.
func TestRunOnTerminal(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"run", "--sandbox", "--out", filepath.Join(dir, "out"), "--since", "full"}, Env{
		Stdout: &out, Stderr: &errb, IsTerminal: true, StdoutIsTerminal: true, Getenv: func(string) string { return "" },
	})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	se := errb.String()
	for _, w := range []string{"level=INFO", "finished in", "rows:", "patient", "eob_line", "output:      file://", "files:"} {
		if !strings.Contains(se, w) {
			t.Errorf("terminal output lacks %q:\n%s", w, se)
		}
	}
	if strings.Contains(se, `"level"`) {
		t.Errorf("JSON logs on a terminal:\n%s", se)
	}
	// stdout is a terminal too: the JSON summary only with --output json (TestSummaryOutput).
	if out.Len() != 0 {
		t.Fatalf("JSON summary on a terminal without --output json:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "_runs")); err != nil {
		t.Fatalf("no committed runs: %v", err)
	}
}

func TestProgressLine(t *testing.T) {
	var errb bytes.Buffer
	env := &Env{Stderr: &errb, IsTerminal: true}
	env.Fill()
	p := newProgress(env, newLogger(env, defaultTestConfig()))
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }
	p.Event(extract.Event{Kind: extract.EventJobProgress, Status: "RUNNING", Percent: 42.5})
	if !strings.Contains(errb.String(), "export: RUNNING") || !strings.Contains(errb.String(), "42.5%") {
		t.Fatalf("polling line: %q", errb.String())
	}
	p.Plan(8)
	for i := 0; i < 4; i++ {
		now = now.Add(time.Second)
		p.Event(extract.Event{Kind: extract.EventFileStart, Total: 4 << 20, Attempt: 1})
		p.Event(extract.Event{Kind: extract.EventFileBytes, Bytes: 2 << 20})
	}
	now = now.Add(time.Second)
	p.Event(extract.Event{Kind: extract.EventFileVerified, Bytes: 4 << 20})
	p.Close()
	s := errb.String()
	for _, w := range []string{"download:", "50%", "8.00 MiB / 16.00 MiB", "1/8 files", "MiB/s", "ETA 5s", "\r\033[K"} {
		if !strings.Contains(s, w) {
			t.Errorf("progress lacks %q: %q", w, s)
		}
	}
	// Not a terminal: no control characters, events become log records.
	errb.Reset()
	env.IsTerminal = false
	p = newProgress(env, newLogger(env, defaultTestConfig()))
	p.Event(extract.Event{Kind: extract.EventFileRetry, URL: "http://x/Data/1.ndjson", Attempt: 1, Err: "503"})
	p.Close()
	if strings.Contains(errb.String(), "\r") || !strings.Contains(errb.String(), `"msg":"download retry"`) {
		t.Fatalf("non-terminal progress: %q", errb.String())
	}
}

// TestDoctorEmbedded checks the embedded default end to end: sandbox, token exchange.
func TestDoctorEmbedded(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"doctor", "--sandbox", "--out", filepath.Join(t.TempDir(), "out")}, Env{
		Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
	})
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, w := range []string{"ok   embedded sandbox", "ok   token exchange", "ok   /Token/validate"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("doctor lacks %q:\n%s", w, out.String())
		}
	}
}

// The JSON summary line goes to stdout when it is not a terminal (Airflow reads it) or with
// --output json; --output text never prints it.
func TestSummaryOutput(t *testing.T) {
	for _, tt := range []struct {
		flag     string
		terminal bool
		want     bool
	}{{"auto", false, true}, {"auto", true, false}, {"json", true, true}, {"json", false, true}, {"text", false, false}, {"text", true, false}} {
		c := &cobra.Command{}
		out := cmdkit.AddSummaryFlag(c)
		if err := c.Flags().Parse([]string{"--output", tt.flag}); err != nil || c.PreRunE(c, nil) != nil {
			t.Fatal(err)
		}
		if got := out.Machine(&Env{StdoutIsTerminal: tt.terminal}); got != tt.want {
			t.Errorf("--output %s, stdout terminal %v: JSON summary %v, want %v", tt.flag, tt.terminal, got, tt.want)
		}
	}
	c := &cobra.Command{}
	cmdkit.AddSummaryFlag(c)
	c.Flags().Parse([]string{"--output", "yaml"})
	if err := c.PreRunE(c, nil); err == nil || !strings.Contains(err.Error(), "auto, text or json") {
		t.Fatalf("--output yaml: %v", err)
	}
}
