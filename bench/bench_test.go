package bench

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/transform/view"
)

func eobViews(tb testing.TB, version string, names []string) []*view.View {
	tb.Helper()
	vs, err := EOBViews(version, names)
	if err != nil {
		tb.Fatal(err)
	}
	return vs
}

// corpusFile writes the version's corpus under DPCETL_BENCH_DIR (or a temporary directory)
// once and returns its path: dpcetl and DuckDB read the same file.
func corpusFile(tb testing.TB, version string) string {
	tb.Helper()
	dir := os.Getenv("DPCETL_BENCH_DIR")
	if dir == "" {
		dir = tb.TempDir()
	}
	size := CorpusBytes()
	path := filepath.Join(dir, "eob-"+version+"-"+itoa(size>>20)+"MB.ndjson")
	if st, err := os.Stat(path); err == nil && st.Size() >= int64(size) {
		return path
	}
	v, err := Version(version)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, EOBCorpus(v, size), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	return path
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// cpuTime is the process's user + system CPU time (all threads, GC included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runParquet(tb testing.TB, path string, views []*view.View, mem memory.Allocator, workers int) (rows, out int64) {
	tb.Helper()
	srcs, err := Sources(path, workers)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := RunParquet(context.Background(), srcs, views, mem, workers)
	if err != nil {
		tb.Fatal(err)
	}
	return r.Rows, r.ParquetBytes
}

func scanOnly(tb testing.TB, path string) int64 {
	tb.Helper()
	n, err := ScanOnly(path)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkEOBParquet measures, on one core and on the generated corpus of each FHIR
// version, the full EOB table set NDJSON → Parquet zstd, DuckDB's job (header + lines) and
// the JSON-scan-only floor, alternating the three in every iteration so that a busy machine
// slows them alike. It reports the medians of the iterations in MB of NDJSON per CPU second
// and the ratios to the floor.
// Run: go test ./bench -run '^$' -bench EOBParquet -benchtime 5x
func BenchmarkEOBParquet(b *testing.B) {
	for _, version := range []string{"R4", "STU3"} {
		b.Run(version, func(b *testing.B) {
			path := corpusFile(b, version)
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			mb := float64(st.Size()) / 1e6
			full := eobViews(b, version, nil)
			duck := eobViews(b, version, DuckJob)
			prev := runtime.GOMAXPROCS(1)
			defer runtime.GOMAXPROCS(prev)
			mem := memory.NewGoAllocator()
			var fullR, duckR, scanR []float64
			var rows int64
			b.ResetTimer()
			for range b.N {
				runtime.GC()
				c0 := cpuTime()
				scanOnly(b, path)
				scanR = append(scanR, mb/(cpuTime()-c0).Seconds())
				runtime.GC()
				c0 = cpuTime()
				rows, _ = runParquet(b, path, full, mem, 1)
				fullR = append(fullR, mb/(cpuTime()-c0).Seconds())
				runtime.GC()
				c0 = cpuTime()
				runParquet(b, path, duck, mem, 1)
				duckR = append(duckR, mb/(cpuTime()-c0).Seconds())
			}
			b.ReportMetric(mb, "corpus-MB")
			b.ReportMetric(float64(len(full)), "tables")
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(median(fullR), "full-MB/cpu-s")
			b.ReportMetric(median(duckR), "duckjob-MB/cpu-s")
			b.ReportMetric(median(scanR), "scan-MB/cpu-s")
			b.ReportMetric(median(fullR)/median(scanR), "full/scan")
		})
	}
}

// BenchmarkEOBFull is the full EOB table set alone (one core), for CPU profiles:
// go test ./bench -run '^$' -bench 'EOBFull/R4' -benchtime 3x -cpuprofile /tmp/cpu.out
func BenchmarkEOBFull(b *testing.B) {
	for _, version := range []string{"R4", "STU3"} {
		b.Run(version, func(b *testing.B) {
			path := corpusFile(b, version)
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			views := eobViews(b, version, nil)
			prev := runtime.GOMAXPROCS(1)
			defer runtime.GOMAXPROCS(prev)
			mem := memory.NewGoAllocator()
			b.SetBytes(st.Size())
			b.ResetTimer()
			c0 := cpuTime()
			for range b.N {
				runParquet(b, path, views, mem, 1)
			}
			b.ReportMetric(float64(st.Size())*float64(b.N)/1e6/(cpuTime()-c0).Seconds(), "MB/cpu-s")
		})
	}
}

// TestParquetRunWritesEveryTable checks the benchmark's work is real: every EOB table gets
// rows from a small corpus and the Parquet output is not empty, with a checked allocator.
func TestParquetRunWritesEveryTable(t *testing.T) {
	t.Setenv("DPCETL_BENCH_MB", "1")
	t.Setenv("DPCETL_BENCH_DIR", t.TempDir())
	for _, version := range []string{"R4", "STU3"} {
		path := corpusFile(t, version)
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		rows, out := runParquet(t, path, eobViews(t, version, nil), mem, 2)
		mem.AssertSize(t, 0)
		if rows < 1000 || out < 10000 {
			t.Fatalf("%s: %d rows, %d Parquet bytes", version, rows, out)
		}
		if n := scanOnly(t, path); n < rows {
			t.Fatalf("%s: scan saw %d nodes for %d rows", version, n, rows)
		}
	}
}

// TestSourcesSplitAtLineBoundaries checks that the parts of a file are whole lines that put
// together give the file back, for any number of parts (also more parts than lines).
func TestSourcesSplitAtLineBoundaries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.ndjson")
	data := []byte("{\"a\":1}\n{\"b\":22}\n\n{\"c\":333}\n{\"d\":4444}")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 5, 40} {
		srcs, err := Sources(path, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(srcs) < 1 || len(srcs) > n {
			t.Fatalf("%d parts: got %d sources", n, len(srcs))
		}
		var all []byte
		for i, s := range srcs {
			rc, err := s.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if i < len(srcs)-1 && (len(b) == 0 || b[len(b)-1] != '\n') {
				t.Fatalf("%d parts: part %d %q does not end a line", n, i, b)
			}
			all = append(all, b...)
		}
		if string(all) != string(data) {
			t.Fatalf("%d parts: reassembled %q", n, all)
		}
	}
}
