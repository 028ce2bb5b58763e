package download_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/download"
	"github.com/dpcetl/dpcetl/extract/dpctest"
)

// wireCounter counts the response body bytes of data requests as they come
// off the wire: what a resume really fetched, whatever the client reports.
type wireCounter struct {
	base  http.RoundTripper
	bytes atomic.Int64
	reqs  atomic.Int64
	full  atomic.Int64 // requests without a Range
}

func (w *wireCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.base.RoundTrip(req)
	if err == nil && strings.Contains(req.URL.Path, "/Data/") {
		w.reqs.Add(1)
		if req.Header.Get("Range") == "" {
			w.full.Add(1)
		}
		resp.Body = countingBody{resp.Body, &w.bytes}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Against the default sandbox, whose ranged answers are DPC's ("bytes
// S-E/(E-S)", a Content-Length of E-S, the body cut at end of file), a
// download killed in its last MiB and one killed in its middle both resume:
// the rerun fetches exactly the missing bytes (counted on the wire), never
// the file from zero, and the file is proven byte for byte, prefix re-hashed
// from disk.
func TestResumeWithDPCRanges(t *testing.T) {
	e := setup(t, 60, dpctest.WithFileResources(100000))
	big := e.files[0]
	for _, o := range e.files {
		if o.FileLength > big.FileLength {
			big = o
		}
	}
	for _, tc := range []struct {
		name  string
		kill  func(size int64) int64 // bytes saved before the kill
		chunk int64
	}{
		{"last MiB", func(size int64) int64 { return size - 1<<20 + 1 }, 0},
		{"middle", func(size int64) int64 { return size / 2 }, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// First run: the full file, unthrottled, to learn its size.
			probe, err := e.downloader().Fetch(context.Background(), e.job.ID, big)
			if err != nil {
				t.Fatal(err)
			}
			size := probe.Bytes
			if size < 3<<20 {
				t.Fatalf("file of %d bytes: need 3 MiB for a middle and a last MiB", size)
			}
			// The killed run: cut off once the threshold is saved. Small, slow wire chunks
			// leave the last MiB (about 100 KB of gzip) many chunks to go, so the cancel
			// lands before the body ends even on a loaded machine.
			e.sb.Srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultSlowBody, Path: "/Data/", ChunkSize: 4 << 10, Delay: 5 * time.Millisecond}}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			threshold := tc.kill(size)
			var written atomic.Int64
			killer := download.WithProgress(func(ev extract.Event) {
				if ev.Kind == extract.EventFileBytes && written.Add(ev.Bytes) >= threshold {
					cancel()
				}
			})
			d := download.New(e.hc, dir, download.WithRetry(fastRetry), killer) // gzip on the wire, decoded bytes on disk
			if _, err := d.Fetch(ctx, e.job.ID, big); !errors.Is(err, context.Canceled) {
				t.Fatalf("killed run: %v", err)
			}
			e.sb.Srv.SetFaults(dpctest.Faults{})
			parts, _ := filepath.Glob(filepath.Join(dir, e.job.ID, "*.part"))
			if len(parts) != 1 {
				t.Fatalf("part files %v", parts)
			}
			st, err := os.Stat(parts[0])
			if err != nil {
				t.Fatal(err)
			}
			saved := st.Size()
			if saved < threshold-(1<<20) || saved >= size {
				t.Fatalf("%d of %d bytes saved, killed at %d", saved, size, threshold)
			}
			// The rerun, in a new process: only what is missing crosses the wire.
			wc := &wireCounter{base: e.hc.Transport}
			opts := []download.Option{download.WithRetry(fastRetry)}
			if tc.chunk > 0 {
				opts = append(opts, download.WithRangeChunk(tc.chunk))
			}
			f, err := download.New(&http.Client{Transport: wc}, dir, opts...).Fetch(context.Background(), e.job.ID, big)
			if err != nil {
				t.Fatal(err)
			}
			e.dir = dir
			checkFiles(t, e, []extract.File{f})
			if f.Bytes != size {
				t.Fatalf("resumed file has %d bytes, want %d", f.Bytes, size)
			}
			if got, want := wc.bytes.Load(), size-saved; got != want {
				t.Fatalf("rerun fetched %d bytes, want the missing %d (of %d)", got, want, size)
			}
			chunk := tc.chunk
			if chunk == 0 {
				chunk = 8 << 20
			}
			if got, want := wc.reqs.Load(), (size-saved+chunk-1)/chunk; got != want || wc.full.Load() != 0 {
				t.Fatalf("rerun made %d range requests for %d missing bytes, want %d", got, size-saved, want)
			}
			t.Logf("killed at %d of %d bytes; rerun fetched %d bytes in %d requests", saved, size, wc.bytes.Load(), wc.reqs.Load())
		})
	}
}

// A part file whose saved bytes were damaged on disk can never match the
// checksum: DPC's answers past its end (a cut body, then 500s) tell the
// client so, and it starts the file over; the result is still verified.
func TestResumeDamagedPartWithDPCRanges(t *testing.T) {
	e := setup(t, 30, dpctest.WithFileResources(100000))
	big := e.files[0]
	for _, o := range e.files {
		if o.FileLength > big.FileLength {
			big = o
		}
	}
	d := e.downloader()
	f, err := d.Fetch(context.Background(), e.job.ID, big)
	if err != nil {
		t.Fatal(err)
	}
	// Leave the first 3/4 of it as a part file with one byte flipped.
	b, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	b = b[:len(b)*3/4]
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(f.Path+".part", b, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(f.Path)
	wc := &wireCounter{base: e.hc.Transport}
	got, err := download.New(&http.Client{Transport: wc}, e.dir, download.WithRetry(fastRetry)).Fetch(context.Background(), e.job.ID, big)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, e, []extract.File{got})
	if wc.full.Load() != 1 {
		t.Fatalf("%d full downloads after the damaged prefix, want 1 (start over once)", wc.full.Load())
	}
	t.Logf("damaged part: %d requests, %d bytes fetched for a %d-byte file", wc.reqs.Load(), wc.bytes.Load(), got.Bytes)
}
