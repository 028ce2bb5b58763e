package load_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/load"
	lparquet "github.com/dpcetl/dpcetl/load/parquet"
	"github.com/dpcetl/dpcetl/load/s3test"
	"github.com/dpcetl/dpcetl/load/sink"
)

// wideClaimsSchema is a claims-line-like table: 45 columns of ids, codes, dates and money.
func wideClaimsSchema() *arrow.Schema {
	dict := arrow.NewMetadata([]string{lparquet.DictionaryKey}, []string{"true"})
	var f []arrow.Field
	for i := range 10 {
		f = append(f, arrow.Field{Name: fmt.Sprintf("id_%d", i), Type: arrow.BinaryTypes.String})
	}
	for i := range 8 {
		f = append(f, arrow.Field{Name: fmt.Sprintf("code_%d", i), Type: arrow.BinaryTypes.String, Nullable: true, Metadata: dict})
	}
	for i := range 8 {
		f = append(f, arrow.Field{Name: fmt.Sprintf("date_%d", i), Type: arrow.FixedWidthTypes.Date32, Nullable: true})
	}
	for i := range 14 {
		f = append(f, arrow.Field{Name: fmt.Sprintf("amount_%d", i), Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true})
	}
	for i := range 4 {
		f = append(f, arrow.Field{Name: fmt.Sprintf("qty_%d", i), Type: arrow.PrimitiveTypes.Int64})
	}
	f = append(f, arrow.Field{Name: "ingested_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}})
	return arrow.NewSchema(f, nil)
}

func wideClaimsBatch(mem memory.Allocator, seed uint64, rows int) arrow.RecordBatch {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := array.NewRecordBuilder(mem, wideClaimsSchema())
	defer b.Release()
	codes := []string{"00123", "99213", "G0438", "J1100", "0450", "A4253", "E1390", "80053"}
	col := 0
	for range 10 {
		sb := b.Field(col).(*array.StringBuilder)
		for range rows {
			sb.Append(strconv.FormatUint(rng.Uint64()%1e15, 36) + "-" + strconv.Itoa(rng.IntN(1e6)))
		}
		col++
	}
	for range 8 {
		sb := b.Field(col).(*array.StringBuilder)
		for range rows {
			if rng.IntN(10) == 0 {
				sb.AppendNull()
			} else {
				sb.Append(codes[rng.IntN(len(codes))])
			}
		}
		col++
	}
	for range 8 {
		db := b.Field(col).(*array.Date32Builder)
		for range rows {
			db.Append(arrow.Date32(18000 + rng.IntN(2000)))
		}
		col++
	}
	for range 14 {
		nb := b.Field(col).(*array.Decimal128Builder)
		for range rows {
			if rng.IntN(8) == 0 {
				nb.AppendNull()
			} else {
				nb.Append(decimal128.FromI64(rng.Int64N(10_000_000)))
			}
		}
		col++
	}
	for range 4 {
		ib := b.Field(col).(*array.Int64Builder)
		for range rows {
			ib.Append(rng.Int64N(100))
		}
		col++
	}
	tb := b.Field(col).(*array.TimestampBuilder)
	for range rows {
		tb.Append(arrow.Timestamp(1767225600000000 + rng.Int64N(1e12)))
	}
	return b.NewRecordBatch()
}

// peakMem samples the Go heap in use and reads the process RSS high-water mark.
type peakMem struct {
	stop chan struct{}
	wg   sync.WaitGroup
	heap uint64
	base uint64 // live heap at the start (the benchmark's own input batches)
}

func startPeak() *peakMem {
	runtime.GC()
	// Reset VmHWM to the current RSS (Linux >= 4.0); harmless elsewhere.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p := &peakMem{stop: make(chan struct{}), base: ms.HeapAlloc}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if h := sample[0].Value.Uint64() + sample[1].Value.Uint64(); h > p.heap {
				p.heap = h
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakMem) done() (heapMB, baseMB, hwmMB float64) {
	close(p.stop)
	p.wg.Wait()
	hwm := 0.0
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
				hwm = kb / 1024
			}
		}
	}
	return float64(p.heap) / (1 << 20), float64(p.base) / (1 << 20), hwm
}

// benchSizes returns the output sizes in MB to write (DPCETL_BENCH_MB, default "200,1000").
func benchSizes() []int {
	v := os.Getenv("DPCETL_BENCH_MB")
	if v == "" {
		v = "200,1000"
	}
	var out []int
	for _, s := range strings.Split(v, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// BenchmarkWriteClaims writes one Parquet file of each size to local disk and to versitygw,
// reporting output MB/s, peak Go heap and peak RSS: memory must not grow with file size.
func BenchmarkWriteClaims(b *testing.B) {
	const rows = 16384
	batches := make([]arrow.RecordBatch, 8)
	var inputBytes int64
	for i := range batches {
		batches[i] = wideClaimsBatch(memory.DefaultAllocator, uint64(i), rows)
		for _, c := range batches[i].Columns() {
			for _, buf := range c.Data().Buffers() {
				if buf != nil {
					inputBytes += int64(buf.Len())
				}
			}
		}
	}
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	srv := s3test.Start(b)
	targets := []struct {
		name string
		open func(b *testing.B) sink.Sink
	}{
		{"file", func(b *testing.B) sink.Sink {
			s, err := sink.NewFile(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"s3", func(b *testing.B) sink.Sink { return srv.Sink(b, "bench", sink.DefaultPartSize) }},
	}
	for _, tgt := range targets {
		for _, mb := range benchSizes() {
			b.Run(fmt.Sprintf("%s/%dMB", tgt.name, mb), func(b *testing.B) {
				want := int64(mb) << 20
				for i := 0; i < b.N; i++ {
					s := tgt.open(b)
					run, err := load.NewRun(s, load.RunOptions{
						RunID: fmt.Sprintf("bench-%d", i), ExportDate: exportDate, Group: "g", JobID: "j",
						TargetFileBytes: 1 << 40, // one file: memory must not depend on its size
					})
					if err != nil {
						b.Fatal(err)
					}
					peak := startPeak()
					cpu0 := cpuSeconds()
					start := time.Now()
					var written int64
					ctx := context.Background()
					for n := 0; ; n++ {
						if err := run.Write(ctx, "claim_line", batches[n%len(batches)]); err != nil {
							b.Fatal(err)
						}
						written += inputBytes / int64(len(batches))
						if written >= want*3 { // claims compress ~3x; the manifest gives the real size
							break
						}
					}
					m, err := run.Commit(ctx)
					if err != nil {
						b.Fatal(err)
					}
					el := time.Since(start)
					cpu := cpuSeconds() - cpu0
					heapMB, baseMB, hwmMB := peak.done()
					out := m.Files[0].Bytes
					b.ReportMetric(float64(out)/(1<<20), "out_MB")
					b.ReportMetric(float64(out)/(1<<20)/el.Seconds(), "out_MB/s")
					b.ReportMetric(float64(written)/(1<<20)/el.Seconds(), "arrow_MB/s")
					// The machine is shared: MB per CPU-second of this process is the steadier figure.
					b.ReportMetric(float64(out)/(1<<20)/cpu, "out_MB/cpu_s")
					b.ReportMetric(heapMB, "peak_heap_MB")
					b.ReportMetric(baseMB, "input_heap_MB") // the benchmark's own batches, live throughout
					b.ReportMetric(hwmMB, "peak_RSS_MB")
					if d, ok := s.(*sink.File); ok {
						_ = os.RemoveAll(d.Root())
					} else {
						_ = s.DeletePrefix(ctx, "claim_line/")
					}
				}
			})
		}
	}
}

// cpuSeconds is the user+system CPU time of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
