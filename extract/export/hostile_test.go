package export_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/retry"
)

// Hostile export endpoints: unsafe job ids at kick-off and in a saved state,
// a job status that never answers, an unsafe group id. Each is a clear error
// in bounded time; no file appears outside the state directory.
func TestHostileExportServer(t *testing.T) {
	status := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/$export"):
			w.Header().Set("Content-Location", r.URL.Query().Get("loc"))
			if loc := r.Header.Get("X-Test-Location"); loc != "" {
				w.Header().Set("Content-Location", loc)
			}
			w.WriteHeader(http.StatusAccepted)
		default:
			status(w, r)
		}
	}))
	defer srv.Close()
	fast := retry.Policy{MaxAttempts: 3, Base: 5 * time.Millisecond, Max: 10 * time.Millisecond}
	hc := func(loc string) *http.Client {
		return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
			r.Header.Set("X-Test-Location", loc)
			return http.DefaultTransport.RoundTrip(r)
		})}
	}
	for _, loc := range []string{"/api/v1/Jobs/%2e%2e", "/api/v1/Jobs/..%2fx", "/api/v1/Jobs/", "/api/v1/Jobs/%00"} {
		dir := t.TempDir()
		c := export.New(srv.URL+"/api/v1", hc(loc), export.WithRetry(fast))
		_, err := c.Run(context.Background(), dir, export.Request{GroupID: "g1"})
		if !errors.Is(err, extract.ErrUnsafeName) || !errors.Is(err, extract.ErrRetryable) || !strings.Contains(err.Error(), "job id") {
			t.Errorf("Content-Location %s: err = %v, want an unsafe job id", loc, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("Content-Location %s: state dir holds %v", loc, ents)
		}
	}
	// A saved state whose job id is unsafe (written by an older version) is refused.
	dir := t.TempDir()
	if err := export.SaveState(dir, &export.State{JobURL: srv.URL + "/api/v1/Jobs/%2e%2e", GroupID: "g1"}); err != nil {
		t.Fatal(err)
	}
	c := export.New(srv.URL+"/api/v1", hc("/api/v1/Jobs/1"), export.WithRetry(fast))
	if _, err := c.Run(context.Background(), dir, export.Request{GroupID: "g1"}); !errors.Is(err, extract.ErrUnsafeName) {
		t.Errorf("saved unsafe job: err = %v", err)
	}
	for _, g := range []string{"..", "a/b", "", "g\x00"} {
		if _, err := c.Run(context.Background(), t.TempDir(), export.Request{GroupID: g}); !errors.Is(err, extract.ErrUnsafeName) {
			t.Errorf("group id %q: err = %v", g, err)
		}
	}
	// A job status that never answers: each try ends at the request timeout.
	status = func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	c = export.New(srv.URL+"/api/v1", hc("/api/v1/Jobs/1"), export.WithRetry(fast), export.WithRequestTimeout(100*time.Millisecond))
	start := time.Now()
	_, err := c.Run(context.Background(), t.TempDir(), export.Request{GroupID: "g1"})
	if err == nil || !errors.Is(err, extract.ErrRetryable) || time.Since(start) > 5*time.Second {
		t.Errorf("hanging status: err = %v after %s", err, time.Since(start))
	}
	if ents, _ := os.ReadDir(filepath.Dir(dir)); len(ents) == 0 {
		t.Error("temp dirs vanished")
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
