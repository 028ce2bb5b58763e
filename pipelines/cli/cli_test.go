package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
	"github.com/dpcetl/dpcetl/schemas"
)

// runCLI runs Main in-process with a fixed environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, Env{
		Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string {
			if v, ok := env[k]; ok || k != "DPCETL_LOG_FORMAT" {
				return v
			}
			return "text" // these tests read messages; the JSON form has its own tests
		},
	})
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no args", nil, []string{"Usage: dpcetl <command>", "run"}},
		{"unknown command", []string{"exprot"}, []string{`unknown command "exprot"`, `did you mean "export"`}},
		{"unknown subcommand", []string{"export", "begin"}, []string{`unknown command "begin" for "dpcetl export"`, "usage: dpcetl export"}},
		{"group alone", []string{"export"}, []string{"dpcetl export needs a subcommand: start, status, wait, download"}},
		{"unknown flag", []string{"run", "--outt", "x"}, []string{"unknown flag: --outt", "usage: dpcetl run"}},
		{"extra arg", []string{"run", "now"}, []string{`unexpected argument "now"`}},
		{"validate no file", []string{"config", "validate"}, []string{"exactly one FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, nil, tt.args...)
			if code != ExitUsage {
				t.Fatalf("exit = %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
				t.Fatalf("stack trace in stderr:\n%s", stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := runCLI(t, nil, "help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"run", "export start", "export status", "export wait", "export download", "transform", "load", "doctor", "config validate"} {
		if !strings.Contains(out, "  "+w+" ") {
			t.Errorf("help lacks %q:\n%s", w, out)
		}
	}
	code, out, _ = runCLI(t, nil, "help", "run")
	if code != 0 || !strings.Contains(out, "-out") || !strings.Contains(out, "-config") {
		t.Fatalf("help run: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, nil, "run", "-h")
	if code != 0 || !strings.Contains(out, "-sandbox-addr") {
		t.Fatalf("run -h: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, nil, "help", "exit-codes")
	if code != 0 || !strings.Contains(out, "still-running") {
		t.Fatalf("help exit-codes: exit %d\n%s", code, out)
	}
}

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("api: embedded\nsince: full\n"), 0o600)
	os.WriteFile(bad, []byte("api: embedded\nsince: full\ngroupz:\n  all: true\n"), 0o600)
	code, out, stderr := runCLI(t, nil, "config", "validate", good)
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("good: exit %d\n%s%s", code, out, stderr)
	}
	code, _, stderr = runCLI(t, nil, "config", "validate", bad)
	if code != ExitConfig || !strings.Contains(stderr, `bad.yaml:3: unknown key "groupz"`) {
		t.Fatalf("bad: exit %d\n%s", code, stderr)
	}
}

func TestConfigShowPrecedence(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "c.yaml")
	os.WriteFile(f, []byte("destination: /file\nconcurrency: 2\nstate_dir: /file-state\n"), 0o600)
	env := map[string]string{"DPCETL_CONFIG": f, "DPCETL_DESTINATION": "/env", "DPCETL_STATE_DIR": "/env-state"}
	code, out, stderr := runCLI(t, env, "config", "show", "--sandbox", "--state-dir", "/flag-state")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"destination: /env", "concurrency: 2", "state_dir: /flag-state", "poll_interval: 5s"} {
		if !strings.Contains(strings.ToLower(out), strings.ToLower(w)) {
			t.Errorf("effective config lacks %q:\n%s", w, out)
		}
	}
}

func TestExitCodeMapping(t *testing.T) {
	var netErr net.Error = &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("boom"), ExitInternal},
		{&UsageError{Msg: "x"}, ExitUsage},
		{fmt.Errorf("load: %w", config.ErrInvalid), ExitConfig},
		{fmt.Errorf("open: %w", os.ErrPermission), ExitConfig},
		{fmt.Errorf("token: %w", extract.ErrAuth), ExitAuth},
		{fmt.Errorf("probe: %w", sink.ErrAccessDenied), ExitAuth},
		{fmt.Errorf("probe: %w", sink.ErrMisconfigured), ExitConfig},
		{fmt.Errorf("put: %w", sink.ErrUnavailable), ExitRetryable},
		{fmt.Errorf("eob: %w", runner.ErrBadData), ExitBadData},
		{fmt.Errorf("GET: 503: %w", extract.ErrRetryable), ExitRetryable},
		{fmt.Errorf("poll: %w", context.DeadlineExceeded), ExitRetryable},
		{fmt.Errorf("get: %w", netErr), ExitRetryable},
		{fmt.Errorf("read key: %w", syscall.ENOENT), ExitInternal},
		{fmt.Errorf("group: %w", dpc.ErrNotFound), ExitRejected},
		{fmt.Errorf("validate: %w", dpc.ErrInvalid), ExitRejected},
		{fmt.Errorf("kick-off: %w", export.ErrBadRequest), ExitRejected},
		{fmt.Errorf("ddl: %w", schemas.ErrUnknownDialect), ExitUsage},
		{fmt.Errorf("job: %w", runner.ErrStillRunning), ExitStillRunning},
		{fmt.Errorf("run: %w", context.Canceled), ExitInterrupted},
		{errors.Join(fmt.Errorf("a: %w", extract.ErrRetryable), fmt.Errorf("b: %w", extract.ErrAuth)), ExitAuth},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	seen := map[int]bool{}
	for _, e := range exitCodeTable {
		if seen[e.Code] {
			t.Fatalf("duplicate exit code %d", e.Code)
		}
		seen[e.Code] = true
	}
}

func defaultTestConfig() config.Config { return config.Default() }

// `dpcetl help` lists every command once, and one flag vocabulary (the key table).
func TestHelpListsEveryCommandOnce(t *testing.T) {
	code, out, _ := runCLI(t, nil, "help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	commandsPart, flagsPart, ok := strings.Cut(out, "Configuration flags")
	if !ok {
		t.Fatalf("help has no flag section:\n%s", out)
	}
	for _, c := range []string{"run", "export start", "export status", "export wait", "export download", "transform", "load",
		"doctor", "config validate", "config show", "schema ddl", "schema docs", "schema tables", "version",
		"keys generate", "keys sign-snippet", "keys upload", "keys list", "keys get", "keys delete",
		"tokens create", "tokens list", "tokens delete", "jwt", "token get", "token validate", "org show", "org create",
		"practitioners add", "practitioners submit", "practitioners list", "practitioners get",
		"patients add", "patients submit", "patients list", "patients get",
		"groups create", "groups find", "groups show", "groups add", "groups remove", "groups replace", "groups list",
		"roster sync", "roster expiring", "sandbox serve", "view validate", "view run", "flatten", "completion bash", "completion zsh", "help"} {
		n := 0
		for _, line := range strings.Split(commandsPart, "\n") {
			if strings.HasPrefix(line, "  "+c+" ") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("help lists %q %d times", c, n)
		}
	}
	// In the order the command tree is built (run first, the stages in pipeline order, the
	// administration nouns after), not sorted by name, and without a package-level switch.
	last := -1
	for _, c := range []string{"run", "export start", "export status", "export wait", "export download", "transform", "load", "keys generate", "help"} {
		i := strings.Index(commandsPart, "\n  "+c+" ")
		if i <= last {
			t.Errorf("help lists %q out of construction order:\n%s", c, commandsPart)
		}
		last = i
	}
	for _, f := range []string{"--config", "--sandbox", "--api", "--out", "--since", "--max-attempts", "--client-token-env", "--log-format", "DPCETL_MAX_ATTEMPTS"} {
		if !strings.Contains(flagsPart, f) {
			t.Errorf("flag section lacks %s", f)
		}
	}
	for _, gone := range []string{"--retries", "--api-url", "--private-key "} {
		if strings.Contains(out, gone) {
			t.Errorf("help still has the second spelling %s", gone)
		}
	}
	// Flags after arguments, and a command's own help with examples.
	code, out, _ = runCLI(t, nil, "help", "schema", "ddl")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--dialect") {
		t.Fatalf("help schema ddl: exit %d\n%s", code, out)
	}
}

// `dpcetl completion bash` is a valid bash script, and __complete (what it calls) completes
// commands, flags and the values of enumerated flags.
func TestCompletion(t *testing.T) {
	code, script, errs := runCLI(t, nil, "completion", "bash")
	if code != 0 || !strings.Contains(script, "__start_dpcetl") {
		t.Fatalf("completion bash: exit %d\n%s", code, errs)
	}
	f := filepath.Join(t.TempDir(), "dpcetl.bash")
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	// zsh and fish get scripts that call the same __complete (no zsh or fish on this machine to run them).
	for shell, want := range map[string]string{"zsh": "#compdef dpcetl", "fish": "complete -c dpcetl"} {
		code, script, errs := runCLI(t, nil, "completion", shell)
		if code != 0 || !strings.Contains(script, want) || !strings.Contains(script, "__complete") {
			t.Errorf("completion %s: exit %d, lacks %q or __complete\n%s", shell, code, want, errs)
		}
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "ex"}, []string{"export"}},
		{[]string{"__complete", "export", ""}, []string{"start", "status", "wait", "download"}},
		{[]string{"__complete", "run", "--sin"}, []string{"--since"}},
		{[]string{"__complete", "run", "--since", ""}, []string{"incremental", "full"}},
		{[]string{"__complete", "run", "--log-format", ""}, []string{"auto", "text", "json"}},
		{[]string{"__complete", "schema", "ddl", "--dialect", ""}, []string{"duckdb", "athena", "bigquery", "snowflake"}},
		{[]string{"__complete", "keys", "list", "--out"}, []string{"--output"}},
	} {
		code, out, errs := runCLI(t, nil, tt.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", tt.args, code, errs)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w+"\t") && !strings.Contains(out, w+"\n") {
				t.Errorf("%v: no %q in\n%s", tt.args, w, out)
			}
		}
	}
}
