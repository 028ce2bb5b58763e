package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/sandbox"
	"github.com/dpcetl/dpcetl/pipelines/cli"
)

// dpcetlBinary is the dpcetl command built once for every subprocess test.
var dpcetlBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dpcetl-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dpcetlBinary = filepath.Join(dir, "dpcetl")
	if runtime.GOOS == "windows" {
		dpcetlBinary += ".exe"
	}
	build := exec.Command("go", "build", "-o", dpcetlBinary, "github.com/dpcetl/dpcetl/cmd/dpcetl")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dpcetl:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type procResult struct {
	code           int
	stdout, stderr string
}

// summary returns the last stdout line parsed as the JSON summary.
func (r procResult) summary(t *testing.T) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("last stdout line is not JSON: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	return m
}

// dpcetl runs the dpcetlBinary with no TTY (pipes) in dir, with only the given environment.
func runBinary(t *testing.T, dir string, env []string, args ...string) procResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dpcetlBinary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return procResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// text is stderr for reading: a JSON log record becomes its message, error and usage.
func (r procResult) text() string {
	var b strings.Builder
	for _, line := range strings.Split(r.stderr, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			b.WriteString(line + "\n")
			continue
		}
		fmt.Fprintf(&b, "%v", rec["msg"])
		for _, k := range []string{"err", "usage"} {
			if v, ok := rec[k]; ok {
				fmt.Fprintf(&b, " %s: %v", k, v)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func assertNoStackTrace(t *testing.T, r procResult) {
	t.Helper()
	for _, s := range []string{"goroutine ", "panic:", ".go:"} {
		if strings.Contains(r.text(), s) {
			t.Fatalf("stderr has %q (a stack trace?):\n%s", s, r.stderr)
		}
	}
}

var (
	cliKeyOnce sync.Once
	cliTestKey *rsa.PrivateKey
)

// cliFixture is a sandbox in the test process, provisioned through HTTP, plus a config file
// for the subprocess that points at it through credential files.
type cliFixture struct {
	srv      *dpctest.Server
	sb       *sandbox.Sandbox
	dir      string
	config   string
	tokFile  string
	keyFile  string
	stateDir string
	outDir   string
}

func newCLIFixture(t *testing.T, extraYAML string, opts ...dpctest.Option) *cliFixture {
	t.Helper()
	cliKeyOnce.Do(func() {
		k, err := dpc.GenerateKey(1024)
		if err != nil {
			panic(err)
		}
		cliTestKey = k
	})
	base := []dpctest.Option{dpctest.WithMinKeyBits(1024), dpctest.WithJobDuration(50 * time.Millisecond)}
	srv := dpctest.NewServer(append(base, opts...)...)
	t.Cleanup(srv.Close)
	sb, err := sandbox.Provision(context.Background(), srv.URL, sandbox.Options{Key: cliTestKey, Patients: 8, Practitioners: 1})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	dir := t.TempDir()
	f := &cliFixture{srv: srv, sb: sb, dir: dir, config: filepath.Join(dir, "dpcetl.yaml"),
		tokFile: filepath.Join(dir, "client_token"), keyFile: filepath.Join(dir, "private.pem"),
		stateDir: filepath.Join(dir, "state"), outDir: filepath.Join(dir, "out")}
	os.WriteFile(f.tokFile, []byte(sb.Credentials.ClientToken+"\n"), 0o600)
	os.WriteFile(f.keyFile, sb.PrivateKeyPEM, 0o600)
	f.writeConfig(t, sb.KeyID, extraYAML)
	return f
}

func (f *cliFixture) writeConfig(t *testing.T, keyID, extra string) {
	t.Helper()
	y := fmt.Sprintf(`api: %s
credentials:
  client_token_file: %s
  private_key_file: %s
  key_id: %s
groups:
  ids: [%s]
destination: %s
state_dir: %s
poll_interval: 20ms
max_attempts: 1
%s`, f.srv.BaseURL(), f.tokFile, f.keyFile, keyID, f.sb.GroupIDs[0], f.outDir, f.stateDir, extra)
	if err := os.WriteFile(f.config, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
}

// secretsAbsent checks that no credential of the cliFixture shows in the output.
func (f *cliFixture) secretsAbsent(t *testing.T, r procResult) {
	t.Helper()
	pemBody := strings.Split(string(f.sb.PrivateKeyPEM), "\n")[1]
	for _, s := range []string{f.sb.Credentials.ClientToken, pemBody, "eyJ"} {
		if strings.Contains(r.stdout, s) || strings.Contains(r.text(), s) {
			t.Fatalf("a secret (%.12s…) appears in the output", s)
		}
	}
}

func TestSubprocessEmbeddedRunJSONLogs(t *testing.T) {
	dir := t.TempDir()
	r := runBinary(t, dir, nil, "run", "--sandbox")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	// Not a terminal: every stderr line is a JSON log record.
	sc := bufio.NewScanner(strings.NewReader(r.stderr))
	n := 0
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("stderr line is not JSON: %q", sc.Text())
		}
		if rec["level"] == nil || rec["msg"] == nil || rec["time"] == nil {
			t.Fatalf("log record lacks time/level/msg: %q", sc.Text())
		}
		n++
	}
	if n < 3 || !strings.Contains(r.stderr, `"msg":"run finished"`) {
		t.Fatalf("expected JSON logs ending with run finished:\n%s", r.stderr)
	}
	s := r.summary(t)
	if s["status"] != "ok" || s["command"] != "run" || s["exit_code"].(float64) != 0 {
		t.Fatalf("summary: %v", s)
	}
	rows := s["rows"].(map[string]any)
	for _, table := range []string{"patient", "coverage", "eob", "eob_line"} {
		if rows[table] == nil || rows[table].(float64) <= 0 {
			t.Errorf("summary rows[%s] = %v", table, rows[table])
		}
		files, _ := filepath.Glob(filepath.Join(dir, "dpcetl-out", table, "export_date=*", "group_id=*", "*.parquet"))
		if len(files) == 0 {
			t.Errorf("no Parquet for %s under ./dpcetl-out", table)
		}
	}
	for _, k := range []string{"files", "bytes", "quarantined", "durations_s", "outputs", "groups", "destination"} {
		if _, ok := s[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	if g := s["groups"].([]any)[0].(map[string]any); g["watermark"] == "" || g["watermark"] == nil {
		t.Errorf("group summary lacks the watermark: %v", g)
	}
	for _, secret := range []string{"W3sid", "eyJ", "PRIVATE KEY"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatalf("secret-shaped %q in output", secret)
		}
	}
	// The embedded run leaves no state behind in the working directory.
	if _, err := os.Stat(filepath.Join(dir, ".dpcetl-state")); !os.IsNotExist(err) {
		t.Errorf("embedded run left .dpcetl-state: %v", err)
	}
}

func TestSubprocessBadInputClearMessages(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, []byte("x"), 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unwritable out", []string{"run", "--sandbox", "--out", filepath.Join(notDir, "out")}, cli.ExitConfig, []string{"output directory", "not writable", "not a directory"}},
		{"unknown flag", []string{"run", "--fast"}, cli.ExitUsage, []string{"unknown flag: --fast", "usage: dpcetl run"}},
		{"port in use", []string{"run", "--sandbox", "--sandbox-addr", ln.Addr().String()}, cli.ExitConfig, []string{"cannot start the embedded DPC sandbox on " + ln.Addr().String(), "--sandbox-addr"}},
		{"bad config key", []string{"config", "validate", writeTestFile(t, dir, "bad.yaml", "api: sandbox\nsince: full\ndestinaton: x\n")}, cli.ExitConfig, []string{`bad.yaml:3: unknown key "destinaton"`}},
		{"unknown command", []string{"exportt"}, cli.ExitUsage, []string{`unknown command "exportt"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBinary(t, dir, nil, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.text(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			assertNoStackTrace(t, r)
			if tt.args[0] == "run" && tt.code != cli.ExitUsage {
				if s := r.summary(t); s["status"] != "failed" || int(s["exit_code"].(float64)) != tt.code {
					t.Errorf("summary line: %v", s)
				}
			}
		})
	}
}

// TestSubprocessNoSilentSandbox: without credentials and without --sandbox, run names what is
// missing, exits 3 (config) and writes nothing; the sandbox itself refuses a remote destination.
func TestSubprocessNoSilentSandbox(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"s3 destination, no credentials", []string{"DPCETL_DESTINATION=s3://some-bucket/x"}, []string{"run"},
			[]string{"credentials: missing", "DPCETL_CLIENT_TOKEN_FILE", "DPCETL_PRIVATE_KEY_FILE", "DPCETL_KEY_ID", "--sandbox"}},
		{"nothing at all", nil, []string{"run"}, []string{"credentials: missing", "--sandbox"}},
		{"sandbox to s3", []string{"DPCETL_DESTINATION=s3://some-bucket/x"}, []string{"run", "--sandbox"},
			[]string{`destination: "s3://some-bucket/x" is not local`, "--force-sandbox-destination"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := runBinary(t, dir, tt.env, tt.args...)
			if r.code != cli.ExitConfig {
				t.Fatalf("exit %d, want %d\n%s", r.code, cli.ExitConfig, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.text(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.text(), "embedded DPC sandbox ready") {
				t.Errorf("the sandbox started:\n%s", r.stderr)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 0 {
				t.Errorf("run wrote %d entries into its working directory (first %s)", len(ents), ents[0].Name())
			}
		})
	}
}

func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSubprocessStagesLikeAirflow runs the stage commands one process at a time, as the DAG does.
func TestSubprocessStagesLikeAirflow(t *testing.T) {
	f := newCLIFixture(t, "")
	start := runBinary(t, f.dir, nil, "export", "start", "--config", f.config)
	if start.code != 0 {
		t.Fatalf("export start: exit %d\n%s", start.code, start.stderr)
	}
	again := runBinary(t, f.dir, nil, "export", "start", "--config", f.config)
	job := start.summary(t)["groups"].([]any)[0].(map[string]any)["job_id"]
	if again.code != 0 || again.summary(t)["groups"].([]any)[0].(map[string]any)["job_id"] != job {
		t.Fatalf("export start is not idempotent: %v then %v", job, again.stdout)
	}
	if n := f.srv.Requests("/api/v1/Group/"); n != 1 {
		t.Fatalf("%d kick-offs, want 1", n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := runBinary(t, f.dir, nil, "export", "status", "--config", f.config)
		if st.code == 0 {
			break
		}
		if st.code != cli.ExitStillRunning || time.Now().After(deadline) {
			t.Fatalf("export status: exit %d\n%s", st.code, st.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, args := range [][]string{{"export", "download"}, {"transform"}, {"load"}} {
		r := runBinary(t, f.dir, nil, append(args, "--config", f.config)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		f.secretsAbsent(t, r)
		if args[0] == "load" {
			s := r.summary(t)
			g := s["groups"].([]any)[0].(map[string]any)
			if g["watermark"] == nil || s["rows"].(map[string]any)["eob"].(float64) <= 0 {
				t.Fatalf("load summary: %v", s)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(f.outDir, "eob", "export_date=*", "group_id="+f.sb.GroupIDs[0], "*.parquet"))
	if len(files) == 0 {
		t.Fatal("no eob Parquet after load")
	}
	if _, err := os.Stat(filepath.Join(f.outDir, "_state", "groups", f.sb.GroupIDs[0], "watermark.json")); err != nil {
		t.Fatalf("watermark: %v", err)
	}
}

func TestSubprocessExitCodes(t *testing.T) {
	t.Run("1 internal: corrupt state file", func(t *testing.T) {
		f := newCLIFixture(t, "")
		os.MkdirAll(filepath.Join(f.stateDir, "jobs"), 0o700)
		os.WriteFile(filepath.Join(f.stateDir, "jobs", "export-"+f.sb.GroupIDs[0]+".json"), []byte("{not json"), 0o600)
		r := runBinary(t, f.dir, nil, "export", "status", "--config", f.config)
		if r.code != cli.ExitInternal || !strings.Contains(r.text(), "corrupt") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("2 usage", func(t *testing.T) {
		r := runBinary(t, t.TempDir(), nil, "load", "--groups")
		if r.code != cli.ExitUsage || !strings.Contains(r.text(), "flag needs an argument") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("3 config: stage command on the embedded sandbox", func(t *testing.T) {
		r := runBinary(t, t.TempDir(), nil, "export", "start", "--sandbox")
		if r.code != cli.ExitConfig || !strings.Contains(r.text(), "need a real API") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("3 config: env var overrides file", func(t *testing.T) {
		f := newCLIFixture(t, "")
		r := runBinary(t, f.dir, []string{"DPCETL_SINCE=sometimes"}, "export", "start", "--config", f.config)
		if r.code != cli.ExitConfig || !strings.Contains(r.text(), `since: "sometimes"`) {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("4 auth: wrong key id", func(t *testing.T) {
		f := newCLIFixture(t, "")
		f.writeConfig(t, "0b7c2b9e-6a53-4e57-9d57-3b1f3e0e9a11", "")
		r := runBinary(t, f.dir, nil, "export", "start", "--config", f.config)
		if r.code != cli.ExitAuth {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		f.secretsAbsent(t, r)
	})
	t.Run("5 bad data over threshold", func(t *testing.T) {
		views := filepath.Join(t.TempDir(), "views")
		os.MkdirAll(views, 0o755)
		// EOB ids are "carrier-123…": as an integer column every EOB line breaks the view.
		writeTestFile(t, views, "eob_number.json", `{"resourceType":"ViewDefinition","name":"eob_number","status":"active",
"resource":"ExplanationOfBenefit","select":[{"column":[{"name":"n","path":"id","type":"integer"}]}]}`)
		f := newCLIFixture(t, "views_dir: "+views+"\nquarantine:\n  max_lines: 2\n")
		r := runBinary(t, f.dir, nil, "run", "--config", f.config)
		if r.code != cli.ExitBadData || !strings.Contains(r.text(), "quarantine") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		if q := r.summary(t)["quarantined"].(float64); q <= 0 {
			t.Fatalf("summary quarantined = %v", q)
		}
		qs, _ := filepath.Glob(filepath.Join(f.stateDir, "quarantine", "*", "*.ndjson"))
		if len(qs) == 0 {
			t.Fatal("no quarantine file in the state directory")
		}
	})
	t.Run("5 bad data: values only in the quarantine file", func(t *testing.T) {
		views := filepath.Join(t.TempDir(), "views")
		os.MkdirAll(views, 0o755)
		// The patient reference (a beneficiary id: PHI) does not fit an integer column.
		writeTestFile(t, views, "eob_patient.json", `{"resourceType":"ViewDefinition","name":"eob_patient","status":"active",
"resource":"ExplanationOfBenefit","select":[{"column":[{"name":"bene","path":"patient.reference","type":"integer"}]}]}`)
		f := newCLIFixture(t, "views_dir: "+views+"\nquarantine:\n  max_lines: 2\n")
		r := runBinary(t, f.dir, nil, "run", "--config", f.config)
		if r.code != cli.ExitBadData {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		// the error that reaches the logs and the summary says where and why...
		for _, want := range []string{`view \"eob_patient\": column \"bene\" (int32): value is not an integer`, "ExplanationOfBenefit/", " line "} {
			if !strings.Contains(r.stderr, want) || !strings.Contains(r.stdout, want) {
				t.Errorf("logs or summary lack %q\nstdout:\n%s\nstderr:\n%s", want, r.stdout, r.stderr)
			}
		}
		// ...while the values are only in the quarantine file, readable by the owner alone.
		qs, _ := filepath.Glob(filepath.Join(f.stateDir, "quarantine", "*", "*.ndjson"))
		if len(qs) != 1 {
			t.Fatalf("quarantine files: %v", qs)
		}
		for _, p := range []string{qs[0], filepath.Dir(qs[0]), f.stateDir} {
			if info, err := os.Stat(p); err != nil || info.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s: mode %v (%v), want owner-only", p, info.Mode(), err)
			}
		}
		b, err := os.ReadFile(qs[0])
		if err != nil {
			t.Fatal(err)
		}
		values := 0
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var rec struct{ Error, Raw string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("quarantine line %q: %v", line, err)
			}
			var eob struct{ Patient struct{ Reference string } }
			if err := json.Unmarshal([]byte(rec.Raw), &eob); err != nil || !strings.HasPrefix(eob.Patient.Reference, "Patient/") {
				t.Fatalf("quarantined raw line %q: %v", rec.Raw, err)
			}
			v := eob.Patient.Reference
			if !strings.Contains(rec.Error, strconv.Quote(v)) {
				t.Errorf("quarantine record error %q does not show the value %q", rec.Error, v)
			}
			if strings.Contains(r.stdout, v) || strings.Contains(r.text(), v) {
				t.Errorf("value %q (PHI) appears in the logs or the summary", v)
			}
			values++
		}
		if values == 0 {
			t.Fatal("no quarantined values checked")
		}
	})
	t.Run("6 rejected: unknown key id", func(t *testing.T) {
		f := newCLIFixture(t, "")
		r := runBinary(t, f.dir, nil, "keys", "get", "0e0e0e0e-0000-4000-8000-000000000000", "--config", f.config)
		if r.code != cli.ExitRejected || !strings.Contains(r.text(), "404") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		f.secretsAbsent(t, r)
	})
	t.Run("10 retryable: 503", func(t *testing.T) {
		f := newCLIFixture(t, "")
		f.srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultUnavailable, Path: "/Group/"}}})
		r := runBinary(t, f.dir, nil, "export", "start", "--config", f.config)
		if r.code != cli.ExitRetryable {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("10 retryable: timeout", func(t *testing.T) {
		f := newCLIFixture(t, "", dpctest.WithJobDuration(time.Hour))
		r := runBinary(t, f.dir, nil, "run", "--config", f.config, "--timeout", "300ms")
		if r.code != cli.ExitRetryable || !strings.Contains(r.text(), "timed out") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		if s := r.summary(t); s["status"] != "failed" || s["exit_code"].(float64) != cli.ExitRetryable {
			t.Fatalf("summary %v", s)
		}
	})
	t.Run("11 still running", func(t *testing.T) {
		f := newCLIFixture(t, "", dpctest.WithJobDuration(time.Hour))
		if r := runBinary(t, f.dir, nil, "export", "start", "--config", f.config); r.code != 0 {
			t.Fatalf("start: exit %d\n%s", r.code, r.stderr)
		}
		r := runBinary(t, f.dir, nil, "export", "status", "--config", f.config)
		if r.code != cli.ExitStillRunning {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		if g := r.summary(t)["groups"].([]any)[0].(map[string]any); !strings.Contains(fmt.Sprint(g["job_state"]), "%") {
			t.Fatalf("job state %v", g["job_state"])
		}
	})
	t.Run("130 interrupted, then the rerun rejoins the job", func(t *testing.T) {
		f := newCLIFixture(t, "", dpctest.WithJobDuration(time.Hour))
		cmd := exec.Command(dpcetlBinary, "run", "--config", f.config)
		cmd.Dir = f.dir
		var out bytes.Buffer
		cmd.Stdout = &out
		errPipe, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(errPipe)
		var logs strings.Builder
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "job.kickoff") {
				cmd.Process.Signal(syscall.SIGINT)
			}
		}
		err := cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if code != cli.ExitInterrupted {
			t.Fatalf("exit %d (%v)\n%s", code, err, logs.String())
		}
		if _, err := os.Stat(filepath.Join(f.stateDir, "jobs", "export-"+f.sb.GroupIDs[0]+".json")); err != nil {
			t.Fatalf("job state not kept for the rerun: %v", err)
		}
		// The rerun rejoins the saved job (no second kick-off): status sees it.
		r := runBinary(t, f.dir, nil, "export", "status", "--config", f.config)
		if r.code != cli.ExitStillRunning {
			t.Fatalf("status after interrupt: exit %d\n%s", r.code, r.stderr)
		}
		if n := f.srv.Requests("/api/v1/Group/"); n != 1 {
			t.Fatalf("%d kick-offs, want 1", n)
		}
	})
}

func TestSubprocessDoctor(t *testing.T) {
	f := newCLIFixture(t, "")
	r := runBinary(t, f.dir, nil, "doctor", "--config", f.config)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, w := range []string{"ok   config", "ok   private key file", "ok   key id", "ok   client token", "ok   reachability", "ok   clock skew", "ok   /Token/validate", "ok   token exchange"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("doctor output lacks %q:\n%s", w, r.stdout)
		}
	}
	f.secretsAbsent(t, r)
	os.Chmod(f.keyFile, 0o644)
	r = runBinary(t, f.dir, nil, "doctor", "--config", f.config)
	if r.code != cli.ExitConfig || !strings.Contains(r.stdout, "FAIL private key file") || !strings.Contains(r.stdout, "chmod 600 "+f.keyFile) {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	os.Chmod(f.keyFile, 0o600)
	f.writeConfig(t, "0b7c2b9e-6a53-4e57-9d57-3b1f3e0e9a11", "")
	r = runBinary(t, f.dir, nil, "doctor", "--config", f.config)
	if r.code != cli.ExitAuth || !strings.Contains(r.stdout, "FAIL token exchange") || !strings.Contains(r.stdout, "fix:") {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
}

func TestAirflowDAGCompiles(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to compile the Airflow DAG: %v", err)
	}
	out := t.TempDir()
	cmd := exec.Command(py, "-c", "import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
		"../airflow/dpcetl_dag.py", filepath.Join(out, "dag.pyc"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("py_compile: %v\n%s", err, b)
	}
	// The DAGs share the operator (exit-code mapping); pipelines/airflow tests them for real.
	var src []byte
	for _, f := range []string{"dpcetl_dag.py", "dpcetl_stages_dag.py", "dpcetl_operator.py"} {
		b, err := os.ReadFile(filepath.Join("../airflow", f))
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	for _, w := range []string{".expand(", "AirflowFailException", "AirflowException", `"export", "status"`, "mode=\"reschedule\"", fmt.Sprint(cli.ExitStillRunning), fmt.Sprint(cli.ExitRetryable), fmt.Sprint(cli.ExitInterrupted)} {
		if !strings.Contains(string(src), w) {
			t.Errorf("DAG lacks %q", w)
		}
	}
}

// TestSubprocessBashCompletion sources the generated script in a real bash and asks it to
// complete, as a user's shell does on TAB (the script calls the binary's __complete).
func TestSubprocessBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is needed: %v", err)
	}
	dir := t.TempDir()
	// The script relies on the bash-completion package's _get_comp_words_by_ref, as every
	// distribution's bash has it; this machine has no such package, so a minimal one stands in.
	script := `_get_comp_words_by_ref() { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
source <(dpcetl completion bash)
complete_line() {
  COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<<"$COMP_LINE"
  [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=()
  __start_dpcetl dpcetl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  echo "$1 => ${COMPREPLY[*]}"
}
complete_line "dpcetl exp"
complete_line "dpcetl run --since "
complete_line "dpcetl patients "
`
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "PATH=" + filepath.Dir(dpcetlBinary) + ":" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	for _, w := range []string{"dpcetl exp => export", "dpcetl run --since  => incremental full", "add get list submit"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("completion lacks %q:\n%s", w, out)
		}
	}
}

// everyLineJSON fails unless every stderr line is one JSON log record; it returns the records.
func everyLineJSON(t *testing.T, name, stderr string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["level"] == nil || rec["msg"] == nil || rec["time"] == nil {
			t.Fatalf("%s: stderr line is not a JSON log record: %q\nstderr:\n%s", name, line, stderr)
		}
		recs = append(recs, rec)
	}
	return recs
}

// TestSubprocessLogFormatJSON: under --log-format json every stderr line is one JSON object,
// the final error included, in success, failure, still-running and cancellation; a job that
// is still running is INFO, never ERROR; a cancelled run says so once per group.
func TestSubprocessLogFormatJSON(t *testing.T) {
	t.Run("success", func(t *testing.T) {
		r := runBinary(t, t.TempDir(), nil, "run", "--sandbox", "--log-format", "json", "--since", "full")
		if r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		if recs := everyLineJSON(t, "success", r.stderr); recs[len(recs)-1]["msg"] != "run finished" {
			t.Fatalf("last record %v", recs[len(recs)-1])
		}
	})
	t.Run("failure", func(t *testing.T) {
		for _, args := range [][]string{
			{"run", "--log-format", "json"},                                 // no credentials: exit 3
			{"run", "--log-format", "json", "--fast"},                       // usage: exit 2
			{"export", "start", "--log-format", "json", "--since", "never"}, // bad value: exit 3
		} {
			r := runBinary(t, t.TempDir(), nil, args...)
			if r.code != cli.ExitConfig && r.code != cli.ExitUsage {
				t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
			}
			recs := everyLineJSON(t, strings.Join(args, " "), r.stderr)
			last := recs[len(recs)-1]
			if last["level"] != "ERROR" || last["exit_code"] != float64(r.code) || last["err"] == "" {
				t.Errorf("%v: final record %v", args, last)
			}
		}
	})
	t.Run("still running", func(t *testing.T) {
		f := newCLIFixture(t, "", dpctest.WithJobDuration(time.Hour))
		if r := runBinary(t, f.dir, nil, "export", "start", "--config", f.config, "--log-format", "json"); r.code != 0 {
			t.Fatalf("start: exit %d\n%s", r.code, r.stderr)
		}
		r := runBinary(t, f.dir, nil, "export", "status", "--config", f.config, "--log-format", "json")
		if r.code != cli.ExitStillRunning {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		for _, rec := range everyLineJSON(t, "still running", r.stderr) {
			if rec["level"] == "ERROR" || rec["level"] == "WARN" {
				t.Errorf("a running job logged %v: %v", rec["level"], rec)
			}
		}
		if !strings.Contains(r.stderr, `"msg":"export job still running"`) {
			t.Errorf("no still-running record:\n%s", r.stderr)
		}
	})
	t.Run("cancellation", func(t *testing.T) {
		f := newCLIFixture(t, "", dpctest.WithJobDuration(time.Hour))
		cmd := exec.Command(dpcetlBinary, "run", "--config", f.config, "--log-format", "json")
		cmd.Dir = f.dir
		errPipe, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var logs strings.Builder
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "job.kickoff") {
				cmd.Process.Signal(syscall.SIGINT)
			}
		}
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != cli.ExitInterrupted {
			t.Fatalf("exit %d\n%s", code, logs.String())
		}
		recs := everyLineJSON(t, "cancellation", logs.String())
		interrupted := 0
		for _, rec := range recs {
			if rec["msg"] == "group interrupted; a rerun resumes" {
				interrupted++
			}
		}
		if interrupted != len(f.sb.GroupIDs) {
			t.Errorf("%d group-interrupted records for %d groups:\n%s", interrupted, len(f.sb.GroupIDs), logs.String())
		}
		if n := strings.Count(logs.String(), "context canceled"); n > len(f.sb.GroupIDs)+1 {
			t.Errorf("%d lines say context canceled:\n%s", n, logs.String())
		}
	})
}

// TestVersionFromBuildInfo builds dpcetl with plain `go build` in a git checkout (a clone of
// this one's HEAD) and checks that `dpcetl version` prints the commit, then the dirty flag once
// a tracked file changes.
func TestVersionFromBuildInfo(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "src")
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "clone", "--quiet", "--depth", "1", "file://"+root, dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	head := git("rev-parse", "HEAD")
	version := func() string {
		t.Helper()
		bin := filepath.Join(t.TempDir(), "dpcetl")
		build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/dpcetl")
		build.Dir = dir
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil {
			t.Fatalf("dpcetl version: %v\n%s", err, out)
		}
		return string(out)
	}
	if v := version(); !strings.Contains(v, "commit "+head) || strings.Contains(v, "dirty") {
		t.Fatalf("clean build at %s: %q", head, v)
	}
	readme := filepath.Join(dir, "README.md")
	b, _ := os.ReadFile(readme)
	os.WriteFile(readme, append(b, "\nlocal change\n"...), 0o644)
	if v := version(); !strings.Contains(v, "commit "+head) || !strings.Contains(v, "dirty") {
		t.Fatalf("dirty build: %q", v)
	}
}

// TestSubprocessDryRun: run --dry-run prints the plan and touches nothing — no export, no
// state directory, no destination; after a real run it shows the watermark the next export
// would start from, and --since INSTANT a backfill's _since.
func TestSubprocessDryRun(t *testing.T) {
	f := newCLIFixture(t, "")
	plan := func(args ...string) map[string]any {
		t.Helper()
		r := runBinary(t, f.dir, nil, append([]string{"run", "--config", f.config, "--dry-run"}, args...)...)
		if r.code != 0 {
			t.Fatalf("dry run: exit %d\n%s", r.code, r.stderr)
		}
		var p map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &p); err != nil {
			t.Fatalf("plan is not one JSON line: %v\n%s", err, r.stdout)
		}
		return p
	}
	p := plan()
	g := p["groups"].([]any)[0].(map[string]any)
	if p["dry_run"] != true || g["group"] != f.sb.GroupIDs[0] || g["watermark"] != nil || p["destination"] != f.outDir || p["since"] != "incremental" {
		t.Fatalf("plan %v", p)
	}
	if n := f.srv.Requests("/api/v1/Group/"); n != 0 {
		t.Fatalf("dry run started %d exports", n)
	}
	for _, d := range []string{f.stateDir, f.outDir} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Fatalf("dry run created %s (%v)", d, err)
		}
	}
	if r := runBinary(t, f.dir, nil, "run", "--config", f.config); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	g = plan()["groups"].([]any)[0].(map[string]any)
	if g["watermark"] == nil || g["export_since"] != g["watermark"] {
		t.Fatalf("after a run the plan lacks the watermark: %v", g)
	}
	g = plan("--since", "2026-01-01T00:00:00Z")["groups"].([]any)[0].(map[string]any)
	if g["export_since"] != "2026-01-01T00:00:00Z" {
		t.Fatalf("backfill plan: %v", g)
	}
	if n := f.srv.Requests("/api/v1/Group/"); n != 1 {
		t.Fatalf("%d exports, want only the real run's", n)
	}
	// A backfill really asks DPC for _since = the instant, and loads.
	r := runBinary(t, f.dir, nil, "run", "--config", f.config, "--since", f.srv.Clock().Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	if r.code != 0 {
		t.Fatalf("backfill: exit %d\n%s", r.code, r.stderr)
	}
	if s := r.summary(t)["groups"].([]any)[0].(map[string]any); s["since"] == nil || s["since"] == "" {
		t.Fatalf("backfill summary lacks since: %v", s)
	}
}
