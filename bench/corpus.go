package bench

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
)

// DefaultCorpusBytes is the size of each generated corpus unless DPCETL_BENCH_MB says otherwise.
const DefaultCorpusBytes = 64 << 20

// CorpusBytes returns the corpus size: DPCETL_BENCH_MB megabytes, or DefaultCorpusBytes.
func CorpusBytes() int {
	if s := os.Getenv("DPCETL_BENCH_MB"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n << 20
		}
	}
	return DefaultCorpusBytes
}

// Version parses "STU3" or "R4".
func Version(s string) (synth.FHIRVersion, error) {
	switch s {
	case "STU3":
		return synth.STU3, nil
	case "R4":
		return synth.R4, nil
	}
	return 0, fmt.Errorf("bench: unknown FHIR version %q", s)
}

// EOBCorpus returns at least size bytes of synthetic ExplanationOfBenefit NDJSON (all eight
// claim types), the same bytes for the same version and size on every machine.
func EOBCorpus(v synth.FHIRVersion, size int) []byte {
	g := synth.New(synth.Options{Seed: 16, Version: v, Epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	buf := make([]byte, 0, size+size/8)
	for i := 0; len(buf) < size; i++ {
		buf, _ = g.AppendNDJSON(buf, g.MBI(i), synth.ResourceEOB, time.Time{}, time.Time{})
	}
	return buf
}
