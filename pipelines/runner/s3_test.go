package runner_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/export"
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

// TestS3RawAndDeletedPublishWithTheRun: on S3 the raw NDJSON of a type without a view and the
// deletions are published with the run: the manifest lists the raw object with the sha256 of
// the bytes in the bucket.
func TestS3RawAndDeletedPublishWithTheRun(t *testing.T) {
	s3 := s3test.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", s3.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3.SecretKey)
	cfg := smartConfig(t)
	cfg.Destination = s3.URL("lake/smart")
	ctx := context.Background()
	tx := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	gs, err := runner.LoadFiles(ctx, cfg, "practice-1", "job-1", &export.Manifest{TransactionTime: tx}, smartJob(t).files, sink.WithS3Options(s3.Options()))
	if err != nil || gs.Deleted["ExplanationOfBenefit"] != 2 {
		t.Fatalf("%v, deleted %v", err, gs.Deleted)
	}
	snk, err := sink.Open(ctx, cfg.Destination, sink.WithS3Options(s3.Options()))
	if err != nil {
		t.Fatal(err)
	}
	defer snk.Close()
	wm, err := runner.ReadWatermark(ctx, snk, "practice-1")
	if err != nil || wm == nil || !wm.TransactionTime.Equal(tx) {
		t.Fatalf("watermark %+v (%v)", wm, err)
	}
	m, err := load.ReadManifest(ctx, snk, wm.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var raw int
	for _, f := range m.Files {
		if f.Table != "raw/Condition" {
			continue
		}
		raw++
		rc, err := snk.Get(ctx, f.Key)
		if err != nil {
			t.Fatalf("raw object %s: %v", f.Key, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != f.SHA256 || int64(len(b)) != f.Bytes {
			t.Errorf("raw object %s differs from the manifest", f.Key)
		}
	}
	if raw != 1 || m.Tables["deleted_resource"] != 3 {
		t.Fatalf("raw files %d, deleted_resource rows %d", raw, m.Tables["deleted_resource"])
	}
}
