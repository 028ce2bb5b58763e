package load_test

import (
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	lparquet "github.com/dpcetl/dpcetl/load/parquet"
)

func BenchmarkExp(b *testing.B) {
	batches := make([]arrow.RecordBatch, 8)
	for i := range batches {
		batches[i] = wideClaimsBatch(memory.DefaultAllocator, uint64(i), 16384)
	}
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			w, _ := lparquet.NewWriter(io.Discard, wideClaimsSchema(), lparquet.Options{})
			for j := range 16 {
				if err := w.Write(batches[j%8]); err != nil {
					b.Fatal(err)
				}
			}
			w.Close()
		}
	})
	b.Run("unbuffered", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			props := pq.NewWriterProperties(pq.WithCompression(compress.Codecs.Zstd), pq.WithDictionaryDefault(false), pq.WithStoreDecimalAsInteger(true))
			fw, _ := pqarrow.NewFileWriter(wideClaimsSchema(), io.Discard, props, pqarrow.NewArrowWriterProperties(pqarrow.WithCoerceTimestamps(arrow.Microsecond)))
			for j := range 16 {
				if err := fw.Write(batches[j%8]); err != nil {
					b.Fatal(err)
				}
			}
			fw.Close()
		}
	})
	b.Run("snappy", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			w, _ := lparquet.NewWriter(io.Discard, wideClaimsSchema(), lparquet.Options{Compression: "snappy"})
			for j := range 16 {
				if err := w.Write(batches[j%8]); err != nil {
					b.Fatal(err)
				}
			}
			w.Close()
		}
	})
}
