package runner_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dpcetl/dpcetl/extract/sandbox"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// BenchmarkRunEmbedded is the whole pipeline on the embedded sandbox (what `make demo` runs),
// with 1000 patients; it reports NDJSON MB/s through export, download, transform and load.
func BenchmarkRunEmbedded(b *testing.B) {
	var bytes int64
	for i := 0; i < b.N; i++ {
		cfg := config.Default()
		cfg.API = config.Embedded
		cfg.Destination = filepath.Join(b.TempDir(), "out")
		e, err := sandbox.Start(context.Background(), sandbox.EmbeddedOptions{Provision: sandbox.Options{Patients: 1000, Practitioners: 4}})
		if err != nil {
			b.Fatal(err)
		}
		r, err := runner.New(context.Background(), runner.Options{Config: cfg, Credentials: e.Credentials, Groups: e.GroupIDs})
		if err != nil {
			b.Fatal(err)
		}
		sum, err := r.Run(context.Background())
		r.Close()
		e.Close()
		if err != nil {
			b.Fatal(err)
		}
		bytes += sum.Bytes
		b.Logf("files %d, bytes %d, rows %v, stage seconds (summed over groups) %v", sum.Files, sum.Bytes, sum.Rows, sum.Durations)
	}
	b.SetBytes(bytes / int64(b.N))
}
