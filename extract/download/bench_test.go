package download_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/download"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/internal/sandboxtest"
)

// BenchmarkDownload downloads one large export from the sandbox on loopback,
// in the same run and interleaved: plain copies of the same bytes (no
// verification) and the verified download. Throughput is in decoded MB/s, the
// ratios compare verified with plain, rss-MB is the peak resident memory of the
// process (client and in-process sandbox) during the timed loop and
// rss-before-MB the same just before it: the difference is what downloading
// adds. DPCETL_BENCH_MB sets the decoded size of the export (default 256;
// extract/README.md quotes 1024 and 5120).
//
// Sync policy: the plain copies never fsync; "verified" fsyncs each file, its
// done marker and the directory (the default), "verified-nosync" does not. So
// verified-nosync/plain-* compares the same work on disk, and verified/plain-*
// includes the price of durability. *-cpu-s is the process's CPU seconds per
// run; cpu:plain-gunzip/verified-nosync is the best wall ratio possible when
// the machine's cores, not waiting, limit both.
func BenchmarkDownload(b *testing.B) {
	mb := 256
	if v, err := strconv.Atoi(os.Getenv("DPCETL_BENCH_MB")); err == nil && v > 0 {
		mb = v
	}
	// About 180 KB of decoded NDJSON per synthetic patient (all three types).
	patients := max(10, mb*1000/180)
	sb := sandboxtest.Start(b, patients, dpctest.WithJobDuration(10*time.Millisecond))
	ts := auth.NewTokenSource(sb.Cred)
	hc := &http.Client{Transport: ts.Transport(&http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true})}
	state := b.TempDir()
	t0 := time.Now()
	job, err := export.New(sb.Srv.BaseURL(), hc).Run(context.Background(), state, export.Request{GroupID: sb.GroupID})
	if err != nil {
		b.Fatal(err)
	}
	files := job.Manifest.Files()
	gen := time.Since(t0)
	// Learn the decoded size with one verified download.
	got, err := download.New(hc, filepath.Join(state, "probe")).Download(context.Background(), job.ID, files)
	if err != nil {
		b.Fatal(err)
	}
	var decoded, gz int64
	for _, f := range got {
		decoded += f.Bytes
	}
	for _, o := range files {
		gz += o.FileLength
	}
	os.RemoveAll(filepath.Join(state, "probe"))
	b.Logf("export: %d patients, %d files, %.1f MB decoded, %.1f MB gzip, generated in %s", patients, len(files), float64(decoded)/1e6, float64(gz)/1e6, gen.Round(time.Millisecond))

	variants := []struct {
		name string
		fn   func(dir string) error
	}{
		// The server decodes, the client copies: no gzip, no hash.
		{"plain-identity", func(dir string) error { return plainCopy(hc, dir, files, false) }},
		// The client gunzips and copies: no hash.
		{"plain-gunzip", func(dir string) error { return plainCopy(hc, dir, files, true) }},
		{"verified", func(dir string) error {
			_, err := download.New(hc, dir).Download(context.Background(), job.ID, files)
			return err
		}},
		{"verified-nosync", func(dir string) error {
			_, err := download.New(hc, dir, download.WithSync(false)).Download(context.Background(), job.ID, files)
			return err
		}},
	}
	only := os.Getenv("DPCETL_BENCH_ONLY") // profile one variant: its name
	wall := make([]time.Duration, len(variants))
	cpu := make([]time.Duration, len(variants))
	runtime.GC()
	base := rss() // the sandbox's data and the manifest are in memory already
	peak := watchRSS()
	n := 0
	for i := 0; b.Loop(); i++ {
		n++
		// Rotate the order each iteration and start every variant from a clean
		// page cache (sync, untimed), so that no variant pays for another's
		// dirty pages or drift in the machine's load.
		for k := range variants {
			vi := (i + k) % len(variants)
			if only != "" && variants[vi].name != only {
				continue
			}
			dir := filepath.Join(state, fmt.Sprintf("run-%d-%d", i, vi))
			b.StopTimer()
			syscall.Sync()
			b.StartTimer()
			c0, t0 := cpuTime(), time.Now()
			if err := variants[vi].fn(dir); err != nil {
				b.Fatal(err)
			}
			wall[vi] += time.Since(t0)
			cpu[vi] += cpuTime() - c0
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	}
	b.ReportMetric(peak()/1e6, "rss-MB")
	b.ReportMetric(float64(base)/1e6, "rss-before-MB")
	if only != "" {
		return
	}
	mbps := func(k int) float64 { return float64(decoded) * float64(n) / 1e6 / wall[k].Seconds() }
	for k, v := range variants {
		b.ReportMetric(mbps(k), v.name+"-MB/s")
		// CPU seconds of the whole process (client and in-process sandbox) per
		// run: unlike wall-clock time, hardly skewed by other load on the machine.
		b.ReportMetric(cpu[k].Seconds()/float64(n), v.name+"-cpu-s")
	}
	b.ReportMetric(mbps(2)/mbps(1), "verified/plain-gunzip")
	b.ReportMetric(mbps(2)/mbps(0), "verified/plain-identity")
	b.ReportMetric(mbps(3)/mbps(1), "nosync/plain-gunzip") // kept for older logs; same as the next
	b.ReportMetric(mbps(3)/mbps(1), "verified-nosync/plain-gunzip")
	b.ReportMetric(mbps(3)/mbps(0), "verified-nosync/plain-identity")
	b.ReportMetric(cpu[1].Seconds()/cpu[3].Seconds(), "cpu:plain-gunzip/verified-nosync")
}

// plainCopy is what a client that does not verify does: GET each file (four
// at a time, like the downloader) and io.Copy the NDJSON to a file, with no
// fsync.
func plainCopy(hc *http.Client, dir string, files []export.Output, gz bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var g errgroup.Group
	g.SetLimit(4)
	for i, o := range files {
		g.Go(func() error {
			req, _ := http.NewRequest(http.MethodGet, o.URL, nil)
			if gz {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var src io.Reader = resp.Body
			if resp.Header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					return err
				}
				src = zr
			}
			f, err := os.Create(filepath.Join(dir, strconv.Itoa(i)))
			if err != nil {
				return err
			}
			_, err = io.Copy(f, src)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		})
	}
	return g.Wait()
}

// watchRSS samples the process's resident memory every 20ms until the
// returned function is called, which gives the peak in bytes.
func watchRSS() func() float64 {
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rss(); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	return func() float64 { close(stop); wg.Wait(); return float64(peak.Load()) }
}

// cpuTime is the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
