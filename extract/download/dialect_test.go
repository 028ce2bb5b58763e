package download_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/download"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/extract/sandbox"
	"github.com/dpcetl/dpcetl/extract/smartauth"
	"github.com/dpcetl/dpcetl/extract/verify"
)

// dialectEnv is a sandbox speaking another bulk API, with a client for it.
type dialectEnv struct {
	srv *dpctest.Server
	hc  *http.Client
	dir string
}

func startDialect(t *testing.T, d dpctest.Dialect, authOpts []smartauth.Option, opts ...dpctest.Option) *dialectEnv {
	t.Helper()
	base := []dpctest.Option{dpctest.WithDialect(d), dpctest.WithPatients(40), dpctest.WithJobDuration(50 * time.Millisecond),
		dpctest.WithFileResources(15), dpctest.WithJobRetryAfter(0)}
	srv := dpctest.NewServer(append(base, opts...)...)
	t.Cleanup(srv.Close)
	cfg, err := sandbox.DialectClient(srv, d)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := smartauth.NewTokenSource(cfg, append([]smartauth.Option{smartauth.WithClock(srv.Clock().Now)}, authOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &dialectEnv{srv: srv, hc: &http.Client{Transport: ts.Transport(nil)}, dir: t.TempDir()}
}

func (e *dialectEnv) export(t *testing.T, r export.Request) *export.Job {
	t.Helper()
	c := export.New(e.srv.DialectBaseURL(), e.hc, export.WithRetry(fastRetry), export.WithClock(e.srv.Clock().Now),
		export.WithPollBackoff(retry.Policy{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond}))
	job, err := c.Run(context.Background(), e.dir, r)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

func (e *dialectEnv) download(job *export.Job, events *[]extract.Event) ([]extract.File, error) {
	var mu sync.Mutex
	return download.New(e.hc, e.dir, download.WithRetry(fastRetry), download.WithProgress(func(ev extract.Event) {
		mu.Lock()
		defer mu.Unlock()
		if events != nil {
			*events = append(*events, ev)
		}
	})).Download(context.Background(), job.ID, job.Manifest.Files())
}

// Each dialect end to end: export at its levels, download every list, and each
// file says truthfully how it was verified; a rerun re-proves every file from
// disk (the saved proof for those without a checksum) without fetching it, and
// a file changed on disk is fetched again.
func TestDialectsEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name    string
		d       dpctest.Dialect
		r       func() export.Request
		by      string
		deleted bool
	}{
		{"bcda patient", dpctest.DialectBCDA, func() export.Request { return export.Request{Level: export.LevelPatient} }, extract.VerifiedStructure, false},
		{"bcda group all", dpctest.DialectBCDA, func() export.Request { return export.Request{GroupID: "all"} }, extract.VerifiedStructure, false},
		{"ab2d contract", dpctest.DialectAB2D, func() export.Request { return export.Request{GroupID: "Z0001"} }, extract.VerifiedChecksum, false},
		{"smart system since", dpctest.DialectSMART, func() export.Request {
			return export.Request{Level: export.LevelSystem, Since: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
		}, extract.VerifiedCount, true},
		{"smart group practice-1", dpctest.DialectSMART, func() export.Request {
			return export.Request{GroupID: "practice-1", Types: []string{"Patient", "ExplanationOfBenefit"}}
		}, extract.VerifiedCount, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := startDialect(t, tc.d, nil)
			job := e.export(t, tc.r())
			outs := job.Manifest.Files()
			got, err := e.download(job, nil)
			if err != nil || len(got) != len(outs) {
				t.Fatalf("%d of %d files: %v", len(got), len(outs), err)
			}
			lists := map[string]int{}
			for i, f := range got {
				b, err := os.ReadFile(f.Path)
				if err != nil {
					t.Fatal(err)
				}
				h := sha256.Sum256(b)
				if f.SHA256 != hex.EncodeToString(h[:]) || f.VerifiedBy != tc.by || f.List != outs[i].List || f.Lines != int64(bytes.Count(b, []byte("\n"))) {
					t.Fatalf("%s: %+v", f.URL, f)
				}
				if f.Count > 0 && f.List != extract.ListError && int64(f.Count) != f.Lines {
					t.Fatalf("%s: count %d, %d lines", f.URL, f.Count, f.Lines)
				}
				if f.List == extract.ListDeleted && (f.Type != "Bundle" || !bytes.Contains(b, []byte(`"method":"DELETE"`))) {
					t.Fatalf("%s: deleted file of %s without DELETEs", f.URL, f.Type)
				}
				lists[f.List]++
			}
			if lists[extract.ListOutput] == 0 || (lists[extract.ListDeleted] > 0) != tc.deleted {
				t.Fatalf("lists %v", lists)
			}
			// Rerun: every file skipped, proven from disk.
			var events []extract.Event
			again, err := e.download(job, &events)
			if err != nil || len(again) != len(got) {
				t.Fatalf("rerun: %d files, %v", len(again), err)
			}
			for i := range again {
				if again[i] != got[i] {
					t.Fatalf("rerun: %+v, first run %+v", again[i], got[i])
				}
			}
			if n := countKind(events, extract.EventFileSkipped); n != len(got) {
				t.Fatalf("rerun skipped %d of %d", n, len(got))
			}
			// Same length, other bytes: the manifest cannot tell without a checksum; the saved proof does.
			b, _ := os.ReadFile(got[0].Path)
			changed := bytes.Clone(b)
			changed[bytes.Index(b, []byte(`"id":"`))+6] ^= 1 // a letter or digit, still JSON
			if err := os.WriteFile(got[0].Path, changed, 0o600); err != nil {
				t.Fatal(err)
			}
			events = nil
			if _, err := e.download(job, &events); err != nil {
				t.Fatal(err)
			}
			if n := countKind(events, extract.EventFileSkipped); n != len(got)-1 {
				t.Fatalf("after changing one file on disk: %d skipped of %d", n, len(got))
			}
			if b2, _ := os.ReadFile(got[0].Path); !bytes.Equal(b, b2) {
				t.Fatal("the changed file was not fetched again")
			}
		})
	}
}

func countKind(evs []extract.Event, k extract.EventKind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// The bearer goes to a file URL only when the manifest says
// requiresAccessToken: true and the URL is on the FHIR server's origin (or one
// configured). The file server on another origin is a second loopback
// listener (another port) that records what reaches it and forwards to the
// sandbox.
func TestBearerRuleForFiles(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	var target *url.URL
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	defer proxy.Close()
	foreign := strings.TrimPrefix(proxy.URL, "http://")
	for _, tc := range []struct {
		name      string
		open      bool // requiresAccessToken: false
		fileHost  string
		extra     bool // the file origin configured as the API's
		wantOK    bool
		wantOwn   bool // bearer on every file request at the sandbox
		wantProxy bool // bearer reached the foreign listener
	}{
		{"own origin, token required", false, "", false, true, true, false},
		{"own origin, requiresAccessToken false", true, "", false, true, false, false},
		{"foreign origin, requiresAccessToken false", true, foreign, false, true, false, false},
		{"foreign origin, token required", false, foreign, false, false, false, false},
		{"foreign origin configured, token required", false, foreign, true, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []dpctest.Option{}
			if tc.open {
				opts = append(opts, dpctest.WithOpenFiles())
			}
			if tc.fileHost != "" {
				opts = append(opts, dpctest.WithFileHost(tc.fileHost))
			}
			var aopts []smartauth.Option
			if tc.extra {
				aopts = append(aopts, smartauth.WithExtraHosts(proxy.URL))
			}
			e := startDialect(t, dpctest.DialectSMART, aopts, opts...)
			mu.Lock()
			target, _ = url.Parse(e.srv.URL)
			seen = nil
			mu.Unlock()
			job := e.export(t, export.Request{Level: export.LevelPatient, Types: []string{"Patient"}})
			if job.Manifest.RequiresAccessToken == tc.open {
				t.Fatalf("requiresAccessToken %v", job.Manifest.RequiresAccessToken)
			}
			got, err := e.download(job, nil)
			if tc.wantOK != (err == nil) || (!tc.wantOK && !errors.Is(err, extract.ErrAuth)) {
				t.Fatalf("%d files, err = %v; want ok=%v (else an auth error)", len(got), err, tc.wantOK)
			}
			n := len(job.Manifest.Files())
			if b := e.srv.FileRequestsWithBearer(); (b > 0) != tc.wantOwn || (tc.wantOwn && tc.wantOK && b != n) {
				t.Fatalf("%d of %d file requests carried a bearer", b, n)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.fileHost != "" && len(seen) == 0 {
				t.Fatal("no file request reached the foreign listener")
			}
			for _, a := range seen {
				if (a != "") != tc.wantProxy {
					t.Fatalf("foreign listener saw Authorization %q (want bearer: %v)", a, tc.wantProxy)
				}
			}
		})
	}
}

// AB2D's checksum is checked like DPC's: a wrong one fails that file (twice
// fetched, then kept aside), the others are delivered checksum-verified.
func TestDialectAB2DBadChecksum(t *testing.T) {
	e := startDialect(t, dpctest.DialectAB2D, nil,
		dpctest.WithFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultBadChecksum, Path: "/Job/"}}}))
	job := e.export(t, export.Request{GroupID: "Z0001"})
	got, err := e.download(job, nil)
	var fe *download.FileError
	if !errors.Is(err, verify.ErrChecksum) || !errors.As(err, &fe) || fe.Bad == "" || fe.URL != job.Manifest.Output[0].URL {
		t.Fatalf("err = %v, want a checksum failure of the first output, kept aside", err)
	}
	if len(got) != len(job.Manifest.Files())-1 {
		t.Fatalf("%d of %d files delivered", len(got), len(job.Manifest.Files()))
	}
	for _, f := range got {
		if f.VerifiedBy != extract.VerifiedChecksum {
			t.Fatalf("%s verified by %q", f.URL, f.VerifiedBy)
		}
	}
}
