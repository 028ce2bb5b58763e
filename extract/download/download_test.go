package download_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/download"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/internal/sandboxtest"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/extract/verify"
)

var fastRetry = retry.Policy{MaxAttempts: 5, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}

type env struct {
	sb    *sandboxtest.Sandbox
	ts    *auth.TokenSource
	hc    *http.Client
	dir   string
	job   *export.Job
	files []export.Output // outputs and errors
}

// setup starts a sandbox, runs an export to completion and returns it.
func setup(t *testing.T, patients int, opts ...dpctest.Option) *env {
	t.Helper()
	opts = append([]dpctest.Option{dpctest.WithJobDuration(50 * time.Millisecond), dpctest.WithFileResources(40)}, opts...)
	sb := sandboxtest.Start(t, patients, opts...)
	ts := auth.NewTokenSource(sb.Cred, auth.WithClock(sb.Srv.Clock().Now))
	hc := &http.Client{Transport: ts.Transport(nil)}
	e := &env{sb: sb, ts: ts, hc: hc, dir: t.TempDir()}
	e.runExport(t, context.Background())
	return e
}

func (e *env) runExport(t *testing.T, ctx context.Context) {
	t.Helper()
	c := export.New(e.sb.Srv.BaseURL(), e.hc, export.WithRetry(fastRetry),
		export.WithPollBackoff(retry.Policy{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond}))
	job, err := c.Run(ctx, e.dir, export.Request{GroupID: e.sb.GroupID})
	if err != nil {
		t.Fatal(err)
	}
	e.job, e.files = job, job.Manifest.Files()
	if len(e.files) < 3 {
		t.Fatalf("export has only %d files", len(e.files))
	}
}

func (e *env) downloader(opts ...download.Option) *download.Downloader {
	return download.New(e.hc, e.dir, append([]download.Option{download.WithRetry(fastRetry),
		download.WithLimiter(retry.NewLimiter(5*time.Millisecond, 50*time.Millisecond))}, opts...)...)
}

// checkFiles asserts that every returned file is on disk with exactly the
// bytes the manifest promised, and returns the set of URLs.
func checkFiles(t *testing.T, e *env, got []extract.File) map[string]bool {
	t.Helper()
	byURL := map[string]export.Output{}
	for _, o := range e.files {
		byURL[o.URL] = o
	}
	urls := map[string]bool{}
	for _, f := range got {
		o, ok := byURL[f.URL]
		if !ok {
			t.Fatalf("file %s not in manifest", f.URL)
		}
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		if sum := hex.EncodeToString(h[:]); "sha256:"+sum != o.Checksum || f.SHA256 != sum {
			t.Fatalf("%s: disk sha256 %s, File %s, manifest %s", f.URL, sum, f.SHA256, o.Checksum)
		}
		if f.Bytes != int64(len(b)) || f.Count != o.Count || f.Lines != int64(o.Count) || f.Type != o.Type || f.JobID != e.job.ID ||
			f.VerifiedBy != extract.VerifiedChecksum || f.List != o.List || f.List == "" {
			t.Fatalf("%s: File %+v, %d bytes on disk, manifest %+v", f.URL, f, len(b), o)
		}
		// claims at rest: owner-only (the file is the renamed .part, so this is its mode too)
		for p, want := range map[string]os.FileMode{f.Path: 0o600, filepath.Dir(f.Path): 0o700} {
			if info, err := os.Stat(p); err != nil || info.Mode().Perm() != want {
				t.Fatalf("%s: mode %v (%v), want %v", p, info.Mode().Perm(), err, want)
			}
		}
		if lines := bytes.Count(b, []byte("\n")); lines != o.Count {
			t.Fatalf("%s: %d lines, manifest count %d", f.URL, lines, o.Count)
		}
		urls[f.URL] = true
	}
	// Nothing half-done is left where a reader might take it for data.
	parts, _ := filepath.Glob(filepath.Join(e.dir, "*", "*.part"))
	if len(parts) != 0 && len(got) == len(e.files) {
		t.Fatalf("part files left: %v", parts)
	}
	return urls
}

func TestDownloadHappy(t *testing.T) {
	for _, gz := range []bool{true, false} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			e := setup(t, 40)
			var mu sync.Mutex
			kinds := map[extract.EventKind]int{}
			var bytesSeen int64
			d := e.downloader(download.WithGzip(gz), download.WithProgress(func(ev extract.Event) {
				mu.Lock()
				defer mu.Unlock()
				kinds[ev.Kind]++
				if ev.Kind == extract.EventFileBytes {
					bytesSeen += ev.Bytes
				}
			}))
			got, err := d.Download(context.Background(), e.job.ID, e.files)
			if err != nil {
				t.Fatal(err)
			}
			if urls := checkFiles(t, e, got); len(urls) != len(e.files) {
				t.Fatalf("%d of %d files", len(urls), len(e.files))
			}
			var total int64
			for _, f := range got {
				total += f.Bytes
			}
			if kinds[extract.EventFileVerified] != len(e.files) || bytesSeen != total {
				t.Fatalf("events %v, %d bytes reported of %d", kinds, bytesSeen, total)
			}
			if n := e.sb.Srv.Requests("/api/v1/Data/"); n != len(e.files) {
				t.Fatalf("%d data requests for %d files", n, len(e.files))
			}
		})
	}
}

// Every fault the sandbox injects on data files: retried ones end verified;
// the rest fail loudly; no wrong byte is ever returned.
func TestDownloadFaults(t *testing.T) {
	tests := []struct {
		name    string
		rule    dpctest.Fault
		advance time.Duration // server clock jump before downloading
		minTime time.Duration
		failed  int   // files expected to fail
		wantErr error // what failed files wrap
		bad     bool  // failed files keep their bytes in .bad
	}{
		{name: "429 with Retry-After", rule: dpctest.Fault{Kind: dpctest.FaultTooManyRequests, Path: "/Data/", Count: 2, RetryAfter: time.Second}, minTime: time.Second},
		{name: "429 without Retry-After", rule: dpctest.Fault{Kind: dpctest.FaultTooManyRequests, Path: "/Data/", Count: 3}},
		{name: "500 burst", rule: dpctest.Fault{Kind: dpctest.FaultServerError, Path: "/Data/", Count: 3}},
		{name: "503 burst", rule: dpctest.Fault{Kind: dpctest.FaultUnavailable, Path: "/Data/", Count: 3}},
		{name: "reset mid-body", rule: dpctest.Fault{Kind: dpctest.FaultReset, Path: "/Data/", Count: 3}},
		{name: "truncated body", rule: dpctest.Fault{Kind: dpctest.FaultTruncate, Path: "/Data/", Count: 3}},
		{name: "reset early", rule: dpctest.Fault{Kind: dpctest.FaultReset, Path: "/Data/", Count: 2, AfterBytes: 10}},
		{name: "wrong checksum in manifest", rule: dpctest.Fault{Kind: dpctest.FaultBadChecksum, Path: "/Jobs/"}, failed: 1, wantErr: verify.ErrChecksum, bad: true},
		{name: "expired files", advance: 25 * time.Hour, failed: -1, wantErr: download.ErrFileExpired},
		{name: "persistent 500", rule: dpctest.Fault{Kind: dpctest.FaultServerError, Path: "/Data/"}, failed: -1, wantErr: extract.ErrRetryable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []dpctest.Option
			if tc.rule.Kind != "" {
				opts = append(opts, dpctest.WithFaults(dpctest.Faults{Rules: []dpctest.Fault{tc.rule}}))
			}
			e := setup(t, 20, opts...)
			e.sb.Srv.Clock().Advance(tc.advance)
			start := time.Now()
			got, err := e.downloader().Download(context.Background(), e.job.ID, e.files)
			if el := time.Since(start); el < tc.minTime {
				t.Fatalf("done in %s, Retry-After %s not honoured", el, tc.minTime)
			}
			urls := checkFiles(t, e, got)
			failed := tc.failed
			if failed < 0 {
				failed = len(e.files)
			}
			if len(urls) != len(e.files)-failed {
				t.Fatalf("%d files verified, want %d (err %v)", len(urls), len(e.files)-failed, err)
			}
			if failed == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			var fe *download.FileError
			if !errors.As(err, &fe) || urls[fe.URL] {
				t.Fatalf("error does not name a failed file: %v", err)
			}
			if tc.bad {
				if fe.Bad == "" {
					t.Fatal("bad bytes not kept")
				}
				if _, serr := os.Stat(fe.Bad); serr != nil || !strings.Contains(err.Error(), fe.Bad) {
					t.Fatalf("bad file %s: %v", fe.Bad, serr)
				}
				final := strings.TrimSuffix(fe.Bad, ".bad")
				if _, serr := os.Stat(final); serr == nil {
					t.Fatal("an unverified file is in place")
				}
				// Re-downloaded exactly once.
				if n := e.sb.Srv.Requests("/api/v1/Data/"); n != len(e.files)+1 {
					t.Fatalf("%d data requests, want %d (one re-download)", n, len(e.files)+1)
				}
			}
		})
	}
}

// An access token that lives one second, on downloads that take several:
// every file verifies. With a true clock the token is replaced ahead of
// expiry; with a clock that stands still the server's 401 is what triggers
// the refresh (and the one retry).
func TestTokenExpiryMidDownload(t *testing.T) {
	for _, frozen := range []bool{false, true} {
		t.Run(fmt.Sprintf("frozen=%v", frozen), func(t *testing.T) {
			e := setup(t, 10, dpctest.WithTokenLifetime(time.Second),
				dpctest.WithFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultSlowBody, Path: "/Data/", ChunkSize: 2 << 10, Delay: 35 * time.Millisecond}}}))
			if frozen {
				at := time.Now()
				e.ts = auth.NewTokenSource(e.sb.Cred, auth.WithClock(func() time.Time { return at }))
				e.hc = &http.Client{Transport: e.ts.Transport(nil)}
			}
			start := time.Now()
			got, err := e.downloader(download.WithConcurrency(1)).Download(context.Background(), e.job.ID, e.files)
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el < 2500*time.Millisecond {
				t.Fatalf("download took only %s: the test needs several token lifetimes", el)
			}
			if len(checkFiles(t, e, got)) != len(e.files) {
				t.Fatal("files missing")
			}
			if e.ts.Fetches() < 2 {
				t.Fatalf("token fetched %d times over a multi-second download with 1 s tokens", e.ts.Fetches())
			}
			if n := e.sb.Srv.Requests("/api/v1/Data/"); frozen && n <= len(e.files) {
				t.Fatalf("%d data requests for %d files: no 401 was retried", n, len(e.files))
			}
		})
	}
}

// A body cut mid-way resumes with a Range request from the bytes already
// saved: the bytes written over all attempts add up to the file exactly once.
func TestResumeWithRange(t *testing.T) {
	for _, rfc := range []bool{false, true} {
		t.Run(fmt.Sprintf("rfc7233=%v", rfc), func(t *testing.T) {
			opts := []dpctest.Option{dpctest.WithFileResources(5000),
				dpctest.WithFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultReset, Path: "/Data/", Count: 1, AfterBytes: 64 << 10}}})}
			if rfc {
				opts = append(opts, dpctest.WithRFC7233Ranges())
			}
			e := setup(t, 30, opts...)
			// The biggest file gets the reset.
			big := e.files[0]
			for _, o := range e.files {
				if o.FileLength > big.FileLength {
					big = o
				}
			}
			var mu sync.Mutex
			var written int64
			d := e.downloader(download.WithRangeChunk(256<<10), download.WithProgress(func(ev extract.Event) {
				if ev.Kind == extract.EventFileBytes {
					mu.Lock()
					written += ev.Bytes
					mu.Unlock()
				}
			}))
			f, err := d.Fetch(context.Background(), e.job.ID, big)
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, e, []extract.File{f})
			if f.Bytes < 512<<10 {
				t.Fatalf("file too small (%d) for the test", f.Bytes)
			}
			if written != f.Bytes {
				t.Fatalf("%d bytes written for a %d-byte file: not resumed", written, f.Bytes)
			}
			if n := e.sb.Srv.Requests("/api/v1/Data/"); n < 3 {
				t.Fatalf("%d data requests: no range requests", n)
			}
		})
	}
}

// Killing a run mid-download and rerunning joins the same job and fetches only
// the files not verified yet.
func TestKillAndRerun(t *testing.T) {
	e := setup(t, 30, dpctest.WithFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultSlowBody, Path: "/Data/", ChunkSize: 16 << 10, Delay: 5 * time.Millisecond}}}))
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	verified := 0
	d := e.downloader(download.WithConcurrency(1), download.WithProgress(func(ev extract.Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Kind == extract.EventFileVerified {
			if verified++; verified == 2 {
				cancel()
			}
		}
	}))
	got, err := d.Download(ctx, e.job.ID, e.files)
	if !errors.Is(err, context.Canceled) || len(got) != 2 {
		t.Fatalf("first run: %d files, err %v", len(got), err)
	}
	checkFiles(t, e, got)
	dataBefore := e.sb.Srv.Requests("/api/v1/Data/")

	// The rerun: same state dir, fresh clients.
	e.ts = auth.NewTokenSource(e.sb.Cred, auth.WithClock(e.sb.Srv.Clock().Now))
	e.hc = &http.Client{Transport: e.ts.Transport(nil)}
	oldJob := e.job.URL
	e.runExport(t, context.Background())
	if !e.job.Rejoined || e.job.URL != oldJob {
		t.Fatalf("rerun started job %s, want to join %s", e.job.URL, oldJob)
	}
	if n := e.sb.Srv.Requests("/api/v1/Group/"); n != 1 {
		t.Fatalf("%d kick-offs", n)
	}
	skipped := 0
	d2 := e.downloader(download.WithProgress(func(ev extract.Event) {
		if ev.Kind == extract.EventFileSkipped {
			mu.Lock()
			skipped++
			mu.Unlock()
		}
	}))
	got2, err := d2.Download(context.Background(), e.job.ID, e.files)
	if err != nil {
		t.Fatal(err)
	}
	if len(checkFiles(t, e, got2)) != len(e.files) || skipped != 2 {
		t.Fatalf("rerun: %d files, %d skipped", len(got2), skipped)
	}
	if n := e.sb.Srv.Requests("/api/v1/Data/") - dataBefore; n != len(e.files)-2 {
		t.Fatalf("rerun fetched %d files, want %d (only those not verified)", n, len(e.files)-2)
	}
}

// A file on another host is fetched without the bearer.
func TestNoBearerToOtherHost(t *testing.T) {
	e := setup(t, 3)
	body := []byte(`{"resourceType":"Patient","id":"x"}` + "\n")
	var auths []string
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write(body)
	}))
	defer other.Close()
	h := sha256.Sum256(body)
	o := export.Output{Type: "Patient", URL: other.URL + "/f/x.ndjson", Count: 1, Checksum: "sha256:" + hex.EncodeToString(h[:]), FileLength: int64(len(body)), RequiresAccessToken: true}
	f, err := e.downloader().Fetch(context.Background(), e.job.ID, o)
	if err != nil || f.Bytes != int64(len(body)) {
		t.Fatalf("%+v %v", f, err)
	}
	if len(auths) != 1 || auths[0] != "" {
		t.Fatalf("other host saw Authorization %q", auths)
	}
}

// A DPC file listed without requiresAccessToken goes without the bearer, even
// to the API's own origin: DPC then answers 401, an auth error, not a retry.
func TestNoBearerWithoutRequiresAccessToken(t *testing.T) {
	e := setup(t, 3)
	o := e.files[0]
	o.RequiresAccessToken = false
	if _, err := e.downloader().Fetch(context.Background(), e.job.ID, o); !errors.Is(err, extract.ErrAuth) {
		t.Fatalf("err = %v, want a 401 auth error", err)
	}
	o.RequiresAccessToken = true
	if _, err := e.downloader().Fetch(context.Background(), e.job.ID, o); err != nil {
		t.Fatal(err)
	}
}

// Error files from the sandbox are downloaded and verified like the others:
// one OperationOutcome a line.
func TestErrorFilesFromSandbox(t *testing.T) {
	e := setup(t, 200)
	if len(e.job.Manifest.Error) == 0 {
		t.Fatal("sandbox export of 200 patients has no error file (no opted-out patient?)")
	}
	var errs []export.Output
	for _, o := range e.files {
		if o.List == extract.ListError {
			errs = append(errs, o)
		}
	}
	got, err := e.downloader().Download(context.Background(), e.job.ID, errs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		fh, err := os.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		n := 0
		for ; sc.Scan(); n++ {
			var oo struct {
				ResourceType string            `json:"resourceType"`
				Issue        []json.RawMessage `json:"issue"`
			}
			if err := json.Unmarshal(sc.Bytes(), &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
				t.Fatalf("%s:%d: not an OperationOutcome with issues (%v)", f.Path, n+1, err)
			}
		}
		fh.Close()
		if n != f.Count {
			t.Fatalf("%s: %d lines for %d outcomes", f.Path, n, f.Count)
		}
	}
}

// A run killed in the middle of a file leaves a part file; the next run
// continues it with a Range request from where it stopped (no byte fetched
// twice) and proves the whole file, prefix included.
func TestResumeAcrossRuns(t *testing.T) {
	e := setup(t, 30, dpctest.WithFileResources(5000),
		dpctest.WithFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultSlowBody, Path: "/Data/", ChunkSize: 4 << 10, Delay: 10 * time.Millisecond}}}))
	big := e.files[0]
	for _, o := range e.files {
		if o.FileLength > big.FileLength {
			big = o
		}
	}
	// Killed once the first MiB is saved (the first bytes event).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kill := download.WithProgress(func(ev extract.Event) {
		if ev.Kind == extract.EventFileBytes {
			cancel()
		}
	})
	if _, err := e.downloader(kill).Fetch(ctx, e.job.ID, big); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	parts, _ := filepath.Glob(filepath.Join(e.dir, e.job.ID, "*.part"))
	if len(parts) != 1 {
		t.Fatalf("part files %v", parts)
	}
	st, _ := os.Stat(parts[0])
	if st.Size() < 1<<20 {
		t.Fatalf("%d bytes saved before the kill, want at least the first MiB", st.Size())
	}
	e.sb.Srv.SetFaults(dpctest.Faults{})
	before := e.sb.Srv.Requests("/api/v1/Data/")
	var written int64
	f, err := e.downloader(download.WithRangeChunk(1<<30), download.WithProgress(func(ev extract.Event) {
		if ev.Kind == extract.EventFileBytes {
			written += ev.Bytes
		}
	})).Fetch(context.Background(), e.job.ID, big)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, e, []extract.File{f})
	if st.Size() >= f.Bytes || written != f.Bytes-st.Size() {
		t.Fatalf("rerun wrote %d bytes after a %d-byte part of a %d-byte file", written, st.Size(), f.Bytes)
	}
	if n := e.sb.Srv.Requests("/api/v1/Data/") - before; n != 1 {
		t.Fatalf("rerun made %d data requests, want 1 range request", n)
	}
}

// A served body with one flipped byte (the sandbox's corrupt fault, aimed at
// one file): in the gzip stream it does not decode, in the decoded stream the
// checksum refuses it. Either way the file is fetched once more from scratch;
// if that copy is corrupt too, its bytes go to ".bad" and the file is never a
// verified File; if only the first copy was corrupt (Count: 1) the second
// verifies. The other files are untouched.
func TestCorruptBody(t *testing.T) {
	for _, gz := range []bool{true, false} {
		for _, count := range []int{0, 1} {
			t.Run(fmt.Sprintf("gzip=%v/count=%d", gz, count), func(t *testing.T) {
				e := setup(t, 20)
				victim := e.files[0]
				for _, o := range e.files {
					if o.FileLength > victim.FileLength {
						victim = o
					}
				}
				u, err := url.Parse(victim.URL)
				if err != nil {
					t.Fatal(err)
				}
				e.sb.Srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultCorrupt, Path: strings.TrimPrefix(u.Path, "/api/v1"), Count: count}}})
				var mu sync.Mutex
				retries := 0
				got, err := e.downloader(download.WithGzip(gz), download.WithProgress(func(ev extract.Event) {
					if ev.Kind == extract.EventFileRetry && ev.URL == victim.URL {
						mu.Lock()
						retries++
						mu.Unlock()
					}
				})).Download(context.Background(), e.job.ID, e.files)
				urls := checkFiles(t, e, got)
				if n := e.sb.Srv.Requests(u.Path); n != 2 || retries != 1 {
					t.Fatalf("corrupt file requested %d times, %d retries: want one re-download", n, retries)
				}
				if n := e.sb.Srv.Requests("/api/v1/Data/"); n != len(e.files)+1 {
					t.Fatalf("%d data requests for %d files, want one more", n, len(e.files))
				}
				name := filepath.Base(u.Path)
				final := filepath.Join(e.dir, e.job.ID, name)
				if count == 1 {
					if err != nil || len(urls) != len(e.files) {
						t.Fatalf("%d of %d files, err %v", len(urls), len(e.files), err)
					}
					if _, serr := os.Stat(final + ".bad"); serr == nil {
						t.Fatal(".bad left after a good second copy")
					}
					return
				}
				if len(urls) != len(e.files)-1 || urls[victim.URL] {
					t.Fatalf("%d of %d files verified, corrupt one among them: %v", len(urls), len(e.files), urls[victim.URL])
				}
				var fe *download.FileError
				if !errors.As(err, &fe) || fe.URL != victim.URL || fe.Bad != final+".bad" {
					t.Fatalf("err %v, want a FileError for %s with bytes in %s.bad", err, victim.URL, final)
				}
				// Bytes damaged in transit: a scheduler retrying the run (exit 10) is right.
				if !errors.Is(err, extract.ErrRetryable) {
					t.Fatalf("corruption not reported as retryable: %v", err)
				}
				t.Logf("refused: %v", err)
				for _, p := range []string{final, final + ".part"} {
					if _, serr := os.Stat(p); serr == nil {
						t.Fatalf("%s exists: a corrupt file must not look downloaded", p)
					}
				}
				bad, rerr := os.ReadFile(fe.Bad)
				if rerr != nil || len(bad) == 0 {
					t.Fatalf("bad bytes: %d, %v", len(bad), rerr)
				}
				if info, serr := os.Stat(fe.Bad); serr != nil || info.Mode().Perm() != 0o600 {
					t.Fatalf(".bad mode %v (%v), want 0600: it holds claims", info.Mode().Perm(), serr)
				}
				if strings.Contains(err.Error(), "resourceType") {
					t.Fatalf("error quotes the body: %v", err)
				}
				h := sha256.Sum256(bad)
				if "sha256:"+hex.EncodeToString(h[:]) == victim.Checksum {
					t.Fatal(".bad holds the right bytes")
				}
				if !gz {
					// Decoded: the whole file with its middle byte flipped.
					var ve *verify.Error
					if !errors.As(err, &ve) {
						t.Fatalf("err %v, want a verify.Error", err)
					}
					bad[len(bad)/2] ^= 0xFF
					if h := sha256.Sum256(bad); "sha256:"+hex.EncodeToString(h[:]) != victim.Checksum {
						t.Fatal(".bad is not the served file with one byte flipped")
					}
				}
			})
		}
	}
}

// One transfer at a time, so every file reuses the same buffers and gzip
// decoder (the downloader recycles them), including after the decoder failed
// on a corrupt stream and after a stream cut short: every file still verifies
// byte for byte and no state leaks from one body into the next.
func TestDecoderReuseAfterFailures(t *testing.T) {
	e := setup(t, 20)
	if len(e.files) < 4 {
		t.Fatalf("need 4 files, have %d", len(e.files))
	}
	path := func(o export.Output) string {
		u, err := url.Parse(o.URL)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(u.Path, "/api/v1")
	}
	e.sb.Srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{
		{Kind: dpctest.FaultCorrupt, Path: path(e.files[0]), Count: 1},
		{Kind: dpctest.FaultTruncate, Path: path(e.files[2]), Count: 1},
	}})
	got, err := e.downloader(download.WithConcurrency(1), download.WithGzip(true), download.WithSync(false)).
		Download(context.Background(), e.job.ID, e.files)
	if err != nil {
		t.Fatal(err)
	}
	if urls := checkFiles(t, e, got); len(urls) != len(e.files) {
		t.Fatalf("%d of %d files", len(urls), len(e.files))
	}
	if n := e.sb.Srv.Requests("/api/v1/Data/"); n < len(e.files)+2 {
		t.Fatalf("%d data requests for %d files: the two faults were not hit", n, len(e.files))
	}
}

// Error text reaches logs: an error response that could be claims data is not quoted,
// while a server's own message (OperationOutcome, OAuth error) is.
func TestErrorBodyNotQuoted(t *testing.T) {
	const phi = `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe","given":["Jane"]}],"birthDate":"1942-03-04"}`
	cases := []struct{ name, ctype, body, want, not string }{
		{"resource json", "application/fhir+ndjson", phi + "\n" + phi, "JSON body not shown", "Doe"},
		{"outcome", "application/fhir+json", `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","details":{"text":"file not in this job"}}]}`, "file not in this job", "OperationOutcome"},
		{"oauth", "application/json", `{"error":"invalid_token","error_description":"expired"}`, "invalid_token expired", "{"},
		{"text", "text/plain", "no such file", "no such file", "JSON body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			d := download.New(srv.Client(), t.TempDir(), download.WithRetry(fastRetry))
			o := export.Output{Type: "Patient", URL: srv.URL + "/f/p.ndjson", Count: 1, Checksum: "sha256:" + strings.Repeat("0", 64), FileLength: 10}
			_, err := d.Fetch(context.Background(), "job", o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.not) {
				t.Fatalf("err %v: want %q in it and not %q", err, tc.want, tc.not)
			}
		})
	}
}
