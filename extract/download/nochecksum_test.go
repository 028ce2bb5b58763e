package download_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/download"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/verify"
)

// Files without a checksum, from a server that gives none: what is delivered,
// what fails, and a cut transfer starting over rather than resuming.
func TestFilesWithoutChecksum(t *testing.T) {
	good := strings.Repeat(`{"resourceType":"OperationOutcome","issue":[{"severity":"error"}]}`+"\n", 3)
	var mu sync.Mutex
	var ranges []string
	cuts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		switch r.URL.Path {
		case "/bad.ndjson":
			w.Write([]byte(good[:len(good)-1] + `{"x":1}` + "\n"))
		case "/cut.ndjson":
			mu.Lock()
			cut := cuts == 0
			cuts++
			mu.Unlock()
			w.Header().Set("Content-Length", strconv.Itoa(len(good)))
			if cut {
				w.Write([]byte(good[:40])) // the handler returns early: the client sees a cut body
				return
			}
			w.Write([]byte(good))
		default:
			w.Write([]byte(good))
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		o    export.Output
		by   string
		err  error
	}{
		{"error file, count disagrees: delivered", export.Output{List: extract.ListError, URL: srv.URL + "/e.ndjson", Count: 5}, extract.VerifiedStructure, nil},
		{"output, count disagrees: failed", export.Output{List: extract.ListOutput, URL: srv.URL + "/o.ndjson", Count: 5}, "", verify.ErrCount},
		{"output, count agrees", export.Output{List: extract.ListOutput, URL: srv.URL + "/o2.ndjson", Count: 3}, extract.VerifiedCount, nil},
		{"decoded length agrees", export.Output{List: extract.ListOutput, URL: srv.URL + "/l.ndjson", FileLength: int64(len(good))}, extract.VerifiedLength, nil},
		{"not JSON per line", export.Output{List: extract.ListOutput, URL: srv.URL + "/bad.ndjson"}, "", verify.ErrStructure},
		{"cut, then whole", export.Output{List: extract.ListOutput, URL: srv.URL + "/cut.ndjson"}, extract.VerifiedStructure, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			ranges = nil
			mu.Unlock()
			d := download.New(srv.Client(), t.TempDir(), download.WithRetry(fastRetry))
			f, err := d.Fetch(context.Background(), "job", tc.o)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				var fe *download.FileError
				if tc.err == verify.ErrStructure && (!errors.As(err, &fe) || fe.Bad == "" || !strings.Contains(err.Error(), "line 3: more than one JSON value")) {
					t.Fatalf("malformed file not kept aside: %v", err)
				}
				return
			}
			if f.VerifiedBy != tc.by || f.Lines != 3 || f.Count != tc.o.Count || f.List != tc.o.List {
				t.Fatalf("file %+v", f)
			}
			if _, err := os.Stat(verify.ProofPath(f.Path)); err != nil {
				t.Fatalf("no saved proof: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, r := range ranges {
				if r != "" {
					t.Fatalf("a file without a checksum was resumed with Range %q", r)
				}
			}
		})
	}
	if cuts != 2 {
		t.Fatalf("cut file fetched %d times, want 2", cuts)
	}
}
