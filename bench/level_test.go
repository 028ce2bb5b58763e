package bench

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	lparquet "github.com/dpcetl/dpcetl/load/parquet"
)

// BenchmarkZstdLevel compares the zstd levels of the Parquet writer on the full EOB set (one
// core, alternating): go test ./bench -run '^$' -bench ZstdLevel -benchtime 3x
func BenchmarkZstdLevel(b *testing.B) {
	path := corpusFile(b, "R4")
	st, _ := os.Stat(path)
	views := eobViews(b, "R4", nil)
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	levels := []int{0, 1}
	cpu := make([]float64, len(levels))
	size := make([]int64, len(levels))
	for range b.N {
		for i, l := range levels {
			srcs, _ := Sources(path, 1)
			runtime.GC()
			c0 := cpuTime()
			mem := memory.NewGoAllocator()
			r, err := runParquetWith(context.Background(), srcs, views, mem, 1, lparquet.Options{Allocator: mem, CompressionLevel: l})
			if err != nil {
				b.Fatal(err)
			}
			cpu[i] += (cpuTime() - c0).Seconds()
			size[i] = r.ParquetBytes
		}
	}
	for i, l := range levels {
		b.ReportMetric(float64(st.Size())*float64(b.N)/1e6/cpu[i], "MB/cpu-s-level"+itoa(l))
		b.ReportMetric(float64(size[i]), "bytes-level"+itoa(l))
	}
}
