package schemas

import (
	"bytes"
	"context"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

func benchEOB(b *testing.B, v synth.FHIRVersion, benes int) []byte {
	b.Helper()
	g := synth.New(synth.Options{Seed: 3, Version: v})
	buf := make([]byte, 0, 64<<20)
	for i := range benes {
		buf, _ = g.AppendNDJSON(buf, g.MBI(i), synth.ResourceEOB, time.Time{}, time.Time{})
	}
	return buf
}

func benchRun(b *testing.B, views []*view.View, data []byte) {
	b.Helper()
	eng, err := transform.New(views)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	var rows int64
	c0 := cpuTime()
	for range b.N {
		src := transform.Source{Name: "eob.ndjson", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
		st, err := eng.Run(context.Background(), []transform.Source{src}, func(bt transform.Batch) error {
			bt.Record.Release()
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range st.Rows {
			rows += n
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	// Process CPU time (all threads, GC included) is the per-core figure on a shared machine;
	// run with GOMAXPROCS=1.
	if cpu := cpuTime() - c0; cpu > 0 {
		b.ReportMetric(float64(len(data))*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkClaimsViews measures the five EOB tables over synthetic claims (one goroutine).
func BenchmarkClaimsViews(b *testing.B) {
	for _, v := range []synth.FHIRVersion{synth.STU3, synth.R4} {
		b.Run(v.String(), func(b *testing.B) {
			data := benchEOB(b, v, 200)
			views, err := Views(v.String())
			if err != nil {
				b.Fatal(err)
			}
			benchRun(b, views, data)
		})
	}
}

// BenchmarkRenderingLookup compares eob_line with and without the rendering_npi care-team
// lookup (%resource.careTeam.where(sequence = %context...)), to show what resolving the link costs.
func BenchmarkRenderingLookup(b *testing.B) {
	data := benchEOB(b, synth.STU3, 200)
	raw, err := ViewJSON(STU3)
	if err != nil {
		b.Fatal(err)
	}
	full, err := view.Parse("eob_line", raw[TableEOBLine])
	if err != nil {
		b.Fatal(err)
	}
	// Same view with the lookup replaced by a constant empty path.
	start := bytes.Index(raw[TableEOBLine], []byte(`"%resource.careTeam.where(sequence = %context.careTeamLinkId`))
	end := bytes.Index(raw[TableEOBLine][start:], []byte(`",`))
	if start < 0 || end < 0 {
		b.Fatal("lookup not found")
	}
	cut := append(append(append([]byte(nil), raw[TableEOBLine][:start]...), []byte(`"{}`)...), raw[TableEOBLine][start+end:]...)
	bare, err := view.Parse("eob_line_bare", cut)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("with_lookup", func(b *testing.B) { benchRun(b, []*view.View{full}, data) })
	b.Run("without_lookup", func(b *testing.B) { benchRun(b, []*view.View{bare}, data) })
}
