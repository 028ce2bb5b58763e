package bench

import (
	"context"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

// BenchmarkEOBPerView runs each EOB view alone without Parquet (one core), to show which
// views cost the most: go test ./bench -run '^$' -bench EOBPerView -benchtime 1x
func BenchmarkEOBPerView(b *testing.B) {
	for _, version := range []string{"R4", "STU3"} {
		path := corpusFile(b, version)
		st, _ := os.Stat(path)
		for _, v := range eobViews(b, version, nil) {
			b.Run(version+"/"+v.Name, func(b *testing.B) {
				prev := runtime.GOMAXPROCS(1)
				defer runtime.GOMAXPROCS(prev)
				eng, err := transform.New([]*view.View{v})
				if err != nil {
					b.Fatal(err)
				}
				c0 := cpuTime()
				for range b.N {
					src := transform.Source{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
					if _, err := eng.Run(context.Background(), []transform.Source{src}, func(bt transform.Batch) error { bt.Record.Release(); return nil }); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(st.Size())*float64(b.N)/1e6/(cpuTime()-c0).Seconds(), "MB/cpu-s")
			})
		}
	}
}
