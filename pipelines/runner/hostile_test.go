package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/logging"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// hostile is a server on 127.0.0.1 in front of the real sandbox: it forwards
// everything, remembers every access token the sandbox issues, and lets a
// test answer in the sandbox's place (intercept) or rewrite its answers
// (modify): traversal names, other hosts, token echoes, absurd numbers.
type hostile struct {
	*httptest.Server
	mu        sync.Mutex
	tokens    []string
	jobPath   string // the real job path, once a kick-off went through
	intercept func(w http.ResponseWriter, r *http.Request) bool
	modify    func(path string, body map[string]any)
}

func newHostile(t *testing.T, upstream string) *hostile {
	up, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	h := &hostile{}
	rp := httputil.NewSingleHostReverseProxy(up)
	rp.ModifyResponse = func(resp *http.Response) error {
		p := resp.Request.URL.Path
		if loc := resp.Header.Get("Content-Location"); loc != "" {
			if u, err := url.Parse(loc); err == nil {
				h.mu.Lock()
				h.jobPath = u.Path
				h.mu.Unlock()
			}
		}
		if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			if tok, ok := m["access_token"].(string); ok {
				h.mu.Lock()
				h.tokens = append(h.tokens, tok)
				h.mu.Unlock()
			}
			if h.modify != nil {
				h.modify(p, m)
				b, _ = json.Marshal(m)
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.intercept != nil && h.intercept(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hostile) accessTokens() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.tokens...)
}

// bearer is the access token a request carries.
func bearer(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// outputs returns a manifest's output entries, to be rewritten in place.
func outputs(m map[string]any) []map[string]any {
	raw, _ := m["output"].([]any)
	var out []map[string]any
	for _, o := range raw {
		if e, ok := o.(map[string]any); ok {
			out = append(out, e)
		}
	}
	return out
}

// hostileRun runs the pipeline through h with a JSON log, everything going
// through one redactor as the CLI does, and returns what a user could see:
// the log, the summary and the error as the CLI would print it.
func hostileRun(t *testing.T, f *fixture, h *hostile, edit func(*config.Config)) (log, summary, errText string, err error) {
	t.Helper()
	cfg := f.cfg
	cfg.API = h.URL + "/api/v1"
	if edit != nil {
		edit(&cfg)
	}
	var buf bytes.Buffer
	red := logging.NewRedactor()
	lg := logging.New(&buf, logging.Options{Format: "json", Level: "debug", Redactor: red})
	ctx := context.Background()
	r, err := runner.New(ctx, runner.Options{Config: cfg, Now: f.srv.Clock().Now, Logger: lg, Redactor: red})
	if err != nil {
		return buf.String(), "", red.String(err.Error()), err
	}
	defer r.Close()
	sum, err := r.Run(ctx)
	if err != nil {
		errText = red.String(err.Error())
	}
	b, _ := json.Marshal(sum)
	return buf.String(), red.String(string(b)), errText, err
}

// plant puts files in the state directory that no run may touch (another
// group's quarantine, a file beside the state dir) and returns a check.
func plant(t *testing.T, f *fixture) func() {
	t.Helper()
	keep := []string{
		filepath.Join(f.cfg.StateDir, "quarantine", "other-group", "job.ndjson"),
		filepath.Join(f.cfg.StateDir, "keep"),
		filepath.Join(filepath.Dir(f.cfg.StateDir), "beside-state"),
	}
	for _, p := range keep {
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte("keep"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := listTree(t, filepath.Dir(f.cfg.StateDir))
	return func() {
		t.Helper()
		for _, p := range keep {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s is gone: %v", p, err)
			}
		}
		// Nothing new outside the state and output directories.
		for _, p := range listTree(t, filepath.Dir(f.cfg.StateDir)) {
			if !strings.HasPrefix(p, "state/") && !strings.HasPrefix(p, "out/") && p != "state" && p != "out" && !contains(before, p) {
				t.Errorf("%s written outside the state and output directories", p)
			}
		}
	}
}

func listTree(t *testing.T, root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if rel, rerr := filepath.Rel(root, p); rerr == nil && rel != "." {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

// noSecrets fails if any text holds a secret of the run.
func noSecrets(t *testing.T, f *fixture, h *hostile, texts map[string]string) {
	t.Helper()
	secrets := map[string]string{"client token": f.sb.Credentials.ClientToken}
	for i, tok := range h.accessTokens() {
		secrets["access token "+strconv.Itoa(i)] = tok
	}
	for i, line := range strings.Split(string(f.sb.PrivateKeyPEM), "\n") {
		if len(line) >= 40 && !strings.HasPrefix(line, "-----") {
			secrets["private key line "+strconv.Itoa(i)] = line
		}
	}
	if len(h.accessTokens()) == 0 {
		t.Fatal("no access token was issued: nothing to look for")
	}
	for where, text := range texts {
		for name, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains the %s", where, name)
			}
		}
	}
}

// Every hostile answer gives a clear error naming what was wrong, leaves
// nothing outside the state and output directories, deletes nothing it does
// not own, and prints no token anywhere.
func TestHostileServer(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(h *hostile, other *httptest.Server)
		config func(*config.Config)
		want   []string // in the error as printed
		is     []error
	}{{
		// Defect: Content-Location /Jobs/%2e%2e became the job id ".." and a
		// RemoveAll of the state directory.
		name: "job id dot-dot",
		setup: func(h *hostile, _ *httptest.Server) {
			h.intercept = func(w http.ResponseWriter, r *http.Request) bool {
				if strings.HasSuffix(r.URL.Path, "/Jobs/..") { // an old client follows it: serve the real job
					h.mu.Lock()
					r.URL.Path, r.URL.RawPath = h.jobPath, ""
					h.mu.Unlock()
				}
				return false
			}
			h.modify = func(p string, m map[string]any) {}
			prev := h.Config.Handler
			h.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/$export") {
					rec := httptest.NewRecorder()
					prev.ServeHTTP(rec, r)
					for k, v := range rec.Header() {
						w.Header()[k] = v
					}
					w.Header().Set("Content-Location", h.URL+"/api/v1/Jobs/%2e%2e")
					w.WriteHeader(rec.Code)
					w.Write(rec.Body.Bytes())
					return
				}
				prev.ServeHTTP(w, r)
			})
		},
		want: []string{`job id ".."`, "not a safe file name"},
		is:   []error{extract.ErrUnsafeName, extract.ErrRetryable},
	}, {
		name: "group id dot-dot from the server",
		setup: func(h *hostile, _ *httptest.Server) {
			h.modify = func(p string, m map[string]any) {
				if strings.HasSuffix(p, "/Group") {
					for _, e := range m["entry"].([]any) {
						e.(map[string]any)["resource"].(map[string]any)["id"] = ".."
					}
				}
			}
		},
		config: func(c *config.Config) { c.Groups = config.Groups{All: true} },
		want:   []string{`group id ".."`},
		is:     []error{extract.ErrUnsafeName},
	}, {
		name: "traversal file name, traversal type, nameless URL",
		setup: func(h *hostile, _ *httptest.Server) {
			h.modify = func(p string, m map[string]any) {
				if outs := outputs(m); strings.Contains(p, "/Jobs/") && len(outs) >= 3 {
					outs[0]["url"] = h.URL + "/api/v1/Data/%2e%2e"
					outs[1]["type"] = "../../escape"
					outs[2]["url"] = h.URL + "/api/v1/Data/"
				}
			}
		},
		want: []string{`file name ".."`, `resource type "../../escape"`, `file name ""`},
		is:   []error{extract.ErrUnsafeName, extract.ErrRetryable},
	}, {
		name: "file URL on another host and a redirect to it",
		setup: func(h *hostile, other *httptest.Server) {
			h.modify = func(p string, m map[string]any) {
				if outs := outputs(m); strings.Contains(p, "/Jobs/") && len(outs) >= 2 {
					outs[0]["url"] = other.URL + "/stolen/a.ndjson"
					u, _ := url.Parse(outs[1]["url"].(string))
					h.intercept = func(w http.ResponseWriter, r *http.Request) bool {
						if r.URL.Path == u.Path {
							http.Redirect(w, r, other.URL+"/stolen/b.ndjson", http.StatusFound)
							return true
						}
						return false
					}
				}
			}
		},
		want: []string{"/stolen/a.ndjson", "HTTP 401"},
	}, {
		name: "absurd count",
		setup: func(h *hostile, _ *httptest.Server) {
			h.modify = func(p string, m map[string]any) {
				if outs := outputs(m); strings.Contains(p, "/Jobs/") && len(outs) > 0 {
					outs[0]["count"] = 1e15
				}
			}
		},
		want: []string{"count 1000000000000000 is impossible"},
	}, {
		// Defect: the bearer echoed in an error body reached stderr, the JSON log
		// and the summary; non-UTF-8 bytes in the same body.
		name: "token echo and non-UTF-8 in an error body",
		setup: func(h *hostile, _ *httptest.Server) {
			h.intercept = func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.Contains(r.URL.Path, "/Jobs/") {
					return false
				}
				tok := bearer(r)
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, "server_error: job failed for "+tok+" (token="+tok+") \xff\xfe\x00 end")
				return true
			}
		},
		want: []string{"server_error", "job failed for [REDACTED]"},
		is:   []error{extract.ErrRetryable},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 6)
			h := newHostile(t, f.srv.URL)
			var mu sync.Mutex
			var otherAuth []string
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				otherAuth = append(otherAuth, r.Header.Get("Authorization"))
				mu.Unlock()
				http.Error(w, "who are you", http.StatusUnauthorized)
			}))
			defer other.Close()
			tc.setup(h, other)
			check := plant(t, f)
			log, summary, errText, err := hostileRun(t, f, h, tc.config)
			if err == nil {
				t.Error("the run succeeded against a hostile server")
			}
			for _, w := range tc.want {
				if !strings.Contains(errText, w) {
					t.Errorf("error does not say %q:\n%s", w, errText)
				}
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("error is not %v: %v", target, errText)
				}
			}
			check()
			for _, a := range otherAuth {
				if a != "" {
					t.Errorf("another host got Authorization %q", a)
				}
			}
			if !utf8.ValidString(summary) || !utf8.ValidString(log) {
				t.Error("summary or log is not valid UTF-8")
			}
			texts := map[string]string{"log": log, "summary": summary, "error": errText}
			addFiles(t, texts, filepath.Dir(f.cfg.StateDir), f)
			noSecrets(t, f, h, texts)
			t.Logf("refused: %s", errText)
		})
	}
}

// addFiles adds every file of the run's directories (state files, downloads,
// quarantine, reports, Parquet with its footer) to texts.
func addFiles(t *testing.T, texts map[string]string, root string, f *fixture) {
	t.Helper()
	for _, dir := range []string{f.cfg.StateDir, f.cfg.Destination} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, err := os.ReadFile(p); err == nil {
					texts[p] = string(b)
				}
			}
			return nil
		})
	}
}

// The secrets test: a full run and a failing run against the sandbox; every
// log line, the summary, every state file, report and Parquet file (footer
// included) is searched for the private key, the client token and every
// access token the sandbox issued.
func TestNoSecretsAnywhere(t *testing.T) {
	f := newFixture(t, 12)
	h := newHostile(t, f.srv.URL)
	log, summary, errText, err := hostileRun(t, f, h, nil)
	if err != nil {
		t.Fatalf("full run: %v", errText)
	}
	texts := map[string]string{"full run log": log, "full run summary": summary}
	addFiles(t, texts, "", f)
	parquet := 0
	for p := range texts {
		if strings.HasSuffix(p, ".parquet") {
			parquet++
		}
	}
	if parquet == 0 {
		t.Fatal("the full run wrote no Parquet file to search")
	}
	noSecrets(t, f, h, texts)

	// A failing run: downloads answer 500 echoing the bearer; the state
	// directory keeps the job, the part files and the quarantine.
	h.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/Data/") {
			http.Error(w, "no data for Authorization: Bearer "+bearer(r)+" "+bearer(r), http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	cfg := f.cfg
	log, summary, errText, err = hostileRun(t, f, h, func(c *config.Config) { *c = cfg; c.API = h.URL + "/api/v1"; c.Since = "full" })
	if err == nil {
		t.Fatal("the failing run succeeded")
	}
	texts = map[string]string{"failing run log": log, "failing run summary": summary, "failing run error": errText}
	addFiles(t, texts, "", f)
	noSecrets(t, f, h, texts)
	if len(h.accessTokens()) < 2 {
		t.Fatalf("%d access tokens issued over two runs", len(h.accessTokens()))
	}
}

// A saved job whose manifest has a bad checksum is not rejoined forever: the
// run whose file fails verification again is retryable (exit 10) and drops
// the job, so the next run starts a new export and completes.
func TestBadChecksumJobNotRejoined(t *testing.T) {
	f := newFixture(t, 6)
	h := newHostile(t, f.srv.URL)
	h.modify = func(p string, m map[string]any) {
		if outs := outputs(m); strings.Contains(p, "/Jobs/") && len(outs) > 0 {
			for _, e := range outs[0]["extension"].([]any) {
				if ext := e.(map[string]any); strings.HasSuffix(ext["url"].(string), "/checksum") {
					ext["valueString"] = "sha256:" + strings.Repeat("0", 64)
				}
			}
		}
	}
	_, summary, errText, err := hostileRun(t, f, h, nil)
	if !errors.Is(err, extract.ErrRetryable) || !strings.Contains(errText, "checksum mismatch") {
		t.Fatalf("first run: err = %v, want a retryable checksum mismatch", errText)
	}
	var first runner.Summary
	json.Unmarshal([]byte(summary), &first)
	h.modify = nil
	_, summary, errText, err = hostileRun(t, f, h, nil)
	if err != nil {
		t.Fatalf("second run: %s", errText)
	}
	var second runner.Summary
	json.Unmarshal([]byte(summary), &second)
	if len(first.Groups) != 1 || len(second.Groups) != 1 || first.Groups[0].JobID == "" || first.Groups[0].JobID == second.Groups[0].JobID {
		t.Fatalf("the second run rejoined job %q", first.Groups[0].JobID)
	}
}

// One 503 from the token endpoint and one from the group listing at start
// cost a retry each under the shared policy, not the run.
func TestStartupRetries(t *testing.T) {
	f := newFixture(t, 4)
	h := newHostile(t, f.srv.URL)
	failed := map[string]bool{}
	var mu sync.Mutex
	h.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		for _, p := range []string{"/Token/auth", "/Group"} {
			mu.Lock()
			first := strings.HasSuffix(r.URL.Path, p) && r.Method != http.MethodPost == (p == "/Group") && !failed[p]
			if first {
				failed[p] = true
			}
			mu.Unlock()
			if first {
				http.Error(w, "try later", http.StatusServiceUnavailable)
				return true
			}
		}
		return false
	}
	_, _, errText, err := hostileRun(t, f, h, func(c *config.Config) { c.Groups = config.Groups{All: true} })
	if err != nil {
		t.Fatalf("run: %s", errText)
	}
	if !failed["/Token/auth"] || !failed["/Group"] {
		t.Fatalf("faults not hit: %v", failed)
	}
}
