package transform

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/dpcetl/dpcetl/transform/jsontree"
)

// BenchmarkEngineParseOnly measures the JSON scanner alone on the claims corpus (one core).
func BenchmarkEngineParseOnly(b *testing.B) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	data := benchCorpus(b, 32<<20)
	var d jsontree.Doc
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
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
