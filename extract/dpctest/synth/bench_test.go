package synth_test

import (
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
)

// BenchmarkAppendNDJSON generates the full Patient + Coverage + EOB data of
// one beneficiary per iteration; b.SetBytes makes `go test -bench` report MB/s.
func BenchmarkAppendNDJSON(b *testing.B) {
	for _, v := range []synth.FHIRVersion{synth.STU3, synth.R4} {
		b.Run(v.String(), func(b *testing.B) {
			g := synth.New(synth.Options{Seed: 1, Version: v})
			// bytes per beneficiary varies; measure over a fixed set of 1024 MBIs.
			mbis := make([]string, 1024)
			var total int
			buf := make([]byte, 0, 1<<20)
			for i := range mbis {
				mbis[i] = g.MBI(i)
				for _, rt := range resourceTypes {
					out, _ := g.AppendNDJSON(buf[:0], mbis[i], rt, time.Time{}, time.Time{})
					total += len(out)
				}
			}
			b.SetBytes(int64(total / len(mbis)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				m := mbis[i%len(mbis)]
				for _, rt := range resourceTypes {
					buf, _ = g.AppendNDJSON(buf[:0], m, rt, time.Time{}, time.Time{})
				}
			}
		})
	}
}
