package download_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/download"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/verify"
)

// A hostile data server: each case answers a file request its own way. Every
// case ends with a clear error, in bounded time, memory and disk, with
// nothing written outside the job directory.
func TestHostileDataServer(t *testing.T) {
	zeros := func(n int) []byte {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		chunk := make([]byte, 1<<20)
		for i := 0; i < n>>20; i++ {
			zw.Write(chunk)
		}
		zw.Close()
		return b.Bytes()
	}
	bomb := zeros(256 << 20) // 256 MiB of zeros in about 256 KiB
	someSum := "sha256:" + strings.Repeat("ab", 32)
	cases := []struct {
		name    string
		handler http.HandlerFunc
		out     func(u string) export.Output
		opts    []download.Option
		maxDisk int64 // bytes the job directory may hold afterwards
		is      error
		want    string
	}{{
		name: "gzip bomb, file_length the gzip size",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb)
		},
		out: func(u string) export.Output {
			return export.Output{URL: u, Checksum: someSum, FileLength: int64(len(bomb))}
		},
		maxDisk: int64(len(bomb))*verify.MaxRatio + 1<<20,
		is:      verify.ErrLength,
		want:    "more than",
	}, {
		name: "gzip bomb, no file_length",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb)
		},
		out:     func(u string) export.Output { return export.Output{URL: u, Checksum: someSum} },
		opts:    []download.Option{download.WithMaxFileBytes(8 << 20)},
		maxDisk: 9 << 20,
		is:      verify.ErrLength,
	}, {
		name: "endless body, more lines than the count",
		handler: func(w http.ResponseWriter, r *http.Request) {
			line := []byte(`{"resourceType":"Patient","id":"x"}` + "\n")
			for r.Context().Err() == nil {
				if _, err := w.Write(line); err != nil {
					return
				}
			}
		},
		out:     func(u string) export.Output { return export.Output{URL: u, Checksum: someSum, Count: 10} },
		maxDisk: 1 << 20,
		is:      verify.ErrCount,
		want:    "more than 10 lines",
	}, {
		name: "endless body without newlines",
		handler: func(w http.ResponseWriter, r *http.Request) {
			b := bytes.Repeat([]byte("x"), 64<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(b); err != nil {
					return
				}
			}
		},
		out: func(u string) export.Output {
			return export.Output{URL: u, Checksum: someSum, FileLength: 4096, Count: 1}
		},
		maxDisk: 4096*verify.MaxRatio + 1<<20,
		is:      verify.ErrLength,
	}, {
		name: "slowloris before the headers",
		handler: func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		},
		out:  func(u string) export.Output { return export.Output{URL: u, Checksum: someSum} },
		opts: []download.Option{download.WithStallTimeout(100*time.Millisecond, 1)},
		is:   extract.ErrRetryable,
		want: "transfer stalled",
	}, {
		name: "slowloris body, a byte at a time",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000000")
			for r.Context().Err() == nil {
				if _, err := w.Write([]byte("{")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(20 * time.Millisecond)
			}
		},
		out:     func(u string) export.Output { return export.Output{URL: u, Checksum: someSum} },
		opts:    []download.Option{download.WithStallTimeout(100*time.Millisecond, 1<<10)},
		maxDisk: 1 << 10,
		is:      extract.ErrRetryable,
		want:    "fewer than 1024 bytes in 100ms",
	}, {
		name:    "non-UTF-8 file name",
		handler: func(w http.ResponseWriter, r *http.Request) { t.Error("a file with an unusable name was requested") },
		out: func(u string) export.Output {
			return export.Output{URL: strings.TrimSuffix(u, "f.ndjson") + "%ff%fe.ndjson", Checksum: someSum}
		},
		is:   extract.ErrUnsafeName,
		want: `file name "\xff\xfe.ndjson"`,
	}, {
		name:    "escaped slash in a file name",
		handler: func(w http.ResponseWriter, r *http.Request) { t.Error("a file with an unusable name was requested") },
		out: func(u string) export.Output {
			return export.Output{URL: strings.TrimSuffix(u, "f.ndjson") + "..%2f..%2fetc", Checksum: someSum}
		},
		is:   extract.ErrUnsafeName,
		want: `file name "../../etc"`,
	}, {
		name:    "file URL that is not http",
		handler: func(w http.ResponseWriter, r *http.Request) {},
		out:     func(u string) export.Output { return export.Output{URL: "file:///etc/passwd", Checksum: someSum} },
		is:      extract.ErrUnsafeName,
		want:    "not an http(s) URL",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			root := t.TempDir()
			dir := filepath.Join(root, "files")
			d := download.New(srv.Client(), dir, append([]download.Option{download.WithRetry(fastRetry)}, tc.opts...)...)
			start := time.Now()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := d.Download(context.Background(), "job1", []export.Output{tc.out(srv.URL + "/data/f.ndjson")})
			runtime.ReadMemStats(&after)
			// Bounded memory: what was allocated in all (client and test server) stays
			// far below what the server sent.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
				t.Errorf("%d bytes allocated", alloc)
			}
			if err == nil || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %v saying %q", err, tc.is, tc.want)
			}
			var fe *download.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FileError", err)
			}
			if el := time.Since(start); el > 20*time.Second {
				t.Fatalf("took %s", el)
			}
			var disk int64
			filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					if rel, _ := filepath.Rel(dir, p); strings.HasPrefix(rel, "..") || !strings.HasPrefix(rel, "job1"+string(filepath.Separator)) {
						t.Errorf("%s written outside the job directory", p)
					}
					info, _ := e.Info()
					disk += info.Size()
				}
				return nil
			})
			if disk > tc.maxDisk {
				t.Fatalf("%d bytes on disk, want at most %d", disk, tc.maxDisk)
			}
			t.Logf("%s: %v (%d bytes on disk)", time.Since(start).Round(time.Millisecond), err, disk)
		})
	}
}

// A 50 MB line streams to disk: it is verified without ever being held in
// memory (allocations stay a fraction of its size).
func TestFiftyMegabyteLine(t *testing.T) {
	line := append(bytes.Repeat([]byte("a"), 50<<20), '\n')
	sum := sha256.Sum256(line)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(line) }))
	defer srv.Close()
	d := download.New(srv.Client(), t.TempDir(), download.WithRetry(fastRetry), download.WithSync(false))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f, err := d.Fetch(context.Background(), "job1", export.Output{URL: srv.URL + "/data/big.ndjson", Checksum: "sha256:" + hex.EncodeToString(sum[:]), Count: 1, FileLength: int64(len(line))})
	runtime.ReadMemStats(&after)
	if err != nil || f.Bytes != int64(len(line)) || f.Lines != 1 {
		t.Fatalf("%+v %v", f, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Fatalf("%d bytes allocated for a %d-byte line: the line was buffered", alloc, len(line))
	}
	got, _ := os.ReadFile(f.Path)
	if !bytes.Equal(got, line) {
		t.Fatal("bytes on disk differ")
	}
}
