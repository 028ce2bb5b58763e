package synth_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/synth/golden")

// TestGolden pins the exact bytes generated for one beneficiary (seed 1,
// Epoch 2026-01-01) in both versions, so any change to the output is a
// visible diff in review. Regenerate with: go test ./extract/dpctest/synth -run TestGolden -update
func TestGolden(t *testing.T) {
	for _, v := range []synth.FHIRVersion{synth.STU3, synth.R4} {
		g := gen(v, 1)
		var b []byte
		for i := range 1 {
			for _, rt := range resourceTypes {
				b, _ = g.AppendNDJSON(b, g.MBI(i), rt, time.Time{}, time.Time{})
			}
		}
		path := filepath.Join("..", "..", "..", "testdata", "synth", "golden", v.String()+".ndjson")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if !bytes.Equal(b, want) {
			t.Errorf("%v output differs from %s (run with -update if the change is intended)", v, path)
		}
	}
}
