package transform

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/transform/jsontree"
)

// BenchmarkEngineParseOnly measures the JSON scanner alone on the claims corpus (one core).
func BenchmarkEngineParseOnly(b *testing.B) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	data := benchCorpus(b, 32<<20)
	for _, filtered := range []bool{false, true} {
		var d jsontree.Doc
		if filtered {
			d.Filter = benchEngine(b, memory.NewGoAllocator()).keys
		}
		b.Run(map[bool]string{false: "all", true: "filtered"}[filtered], func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			c0 := cpuTime()
			parseAll(b, &d, data)
			b.ReportMetric(float64(len(data))*float64(b.N)/(cpuTime()-c0).Seconds()/1e6, "MB/cpu-s")
		})
	}
}

func parseAll(b *testing.B, d *jsontree.Doc, data []byte) {
	for i := 0; i < b.N; i++ {
		rest := data
		for len(rest) > 0 {
			nl := bytes.IndexByte(rest, '\n')
			if nl < 0 {
				nl = len(rest)
			}
			if err := d.Parse(rest[:nl]); err != nil {
				b.Fatal(err)
			}
			rest = rest[min(nl+1, len(rest)):]
		}
	}
}
