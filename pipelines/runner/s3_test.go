package runner_test

import (
	"context"
	"testing"

	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/load/s3test"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// TestS3DestinationTwoGroups writes two groups to one bucket (a real S3 server): each group
// commits its own run and keeps its own watermark object beside the output.
func TestS3DestinationTwoGroups(t *testing.T) {
	s3 := s3test.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", s3.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3.SecretKey)
	f := newFixtureN(t, 10, 2)
	cfg := f.cfg
	cfg.Destination = s3.URL("lake/dpc")
	sum, err := f.run(t, cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(sum.Groups) != 2 {
		t.Fatalf("groups: %d", len(sum.Groups))
	}
	ctx := context.Background()
	snk, err := sink.Open(ctx, cfg.Destination, sink.WithS3Options(s3.Options()))
	if err != nil {
		t.Fatal(err)
	}
	defer snk.Close()
	runs, err := load.CommittedRuns(ctx, snk)
	if err != nil || len(runs) != 2 {
		t.Fatalf("committed runs %v (%v), want 2", runs, err)
	}
	for _, g := range sum.Groups {
		wm, err := runner.ReadWatermark(ctx, snk, g.Group)
		if err != nil || wm == nil || wm.TransactionTime.Format("2006-01-02T15:04:05.999999999Z07:00") != g.TransactionTime {
			t.Fatalf("group %s watermark %+v (%v), want %s", g.Group, wm, err, g.TransactionTime)
		}
		m, err := load.ReadManifest(ctx, snk, wm.RunID)
		if err != nil || m.Group != g.Group || int64(m.Tables["eob"]) != g.Rows["eob"] {
			t.Fatalf("manifest of %s: %+v (%v)", wm.RunID, m, err)
		}
	}
}
