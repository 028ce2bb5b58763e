package load_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/load"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/load")

// TestManifestGolden pins the _manifest.json format readers depend on (and, through the
// sha256, that the Parquet bytes are deterministic for the same input).
func TestManifestGolden(t *testing.T) {
	s, _ := fileSink(t)
	o := runOptions("golden-run")
	o.Now = func() time.Time { return time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC) }
	o.TargetFileBytes = 16 << 10
	o.RowGroupRows = 500
	run, err := load.NewRun(s, o)
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < 3000; start += 500 {
		rec := claimsRecord(memory.DefaultAllocator, start, 500)
		err := run.Write(ctxT(t), "claims", rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	rec := claimsRecord(memory.DefaultAllocator, 0, 3)
	defer rec.Release()
	if err := run.Write(ctxT(t), "patient", rec); err != nil {
		t.Fatal(err)
	}
	if _, err := run.Commit(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	got := readObject(t, s, load.RunDir("golden-run")+"/"+load.ManifestName)
	golden := filepath.Join("..", "testdata", "load", "manifest.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("manifest differs from %s (run with -update if intended):\n%s", golden, got)
	}
}
