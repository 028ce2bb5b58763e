package load_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dpcetl/dpcetl/load"
	"github.com/dpcetl/dpcetl/load/s3test"
	"github.com/dpcetl/dpcetl/load/sink"
)

func TestS3RunRoundTripAndRerun(t *testing.T) {
	srv := s3test.Start(t)
	s := srv.Sink(t, "warehouse/dpc", 0)
	write := func(id string, rows int) load.Manifest {
		o := runOptions(id)
		o.TargetFileBytes = 16 << 10
		o.RowGroupRows = 1000
		return commitClaims(t, s, o, rows, 1000)
	}
	first := write("s3run", 6000)
	if len(first.Files) < 2 {
		t.Fatalf("%d files, want rolled files", len(first.Files))
	}
	m := write("s3run", 2500) // rerun replaces
	var want []string
	next := 0
	for _, f := range m.Files {
		want = append(want, f.Key)
		n := checkRows(t, openParquet(t, readObject(t, s, f.Key)), next)
		next += n
	}
	if next != 2500 {
		t.Errorf("read %d rows back from S3, want 2500", next)
	}
	if got := readerVisible(t, s); !slices.Equal(got, want) {
		t.Errorf("visible = %q, want %q", got, want)
	}
	if !strings.HasPrefix(s.URL(m.Files[0].Key), "s3://dpcetl-test/warehouse/dpc/claims/export_date=2026-01-02/group_id=grp-0001/part-00000-s3run.parquet") {
		t.Errorf("URL = %s", s.URL(m.Files[0].Key))
	}
	if _, err := load.ReadManifest(ctxT(t), s, "s3run"); err != nil {
		t.Error(err)
	}
}

func TestS3ServerKilledMidUpload(t *testing.T) {
	srv := s3test.Start(t)
	s := srv.Sink(t, "out", sink.MinPartSize)
	key := "claims/export_date=2026-01-02/group_id=g/part-00000-x.parquet"
	w, err := s.NewWriter(ctxT(t), key)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("z"), 1<<20)
	for range 2*sink.MinPartSize/len(chunk) + 1 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	srv.Kill()
	var werr error
	for range 2 * sink.MinPartSize / len(chunk) {
		if _, werr = w.Write(chunk); werr != nil {
			break
		}
	}
	err = w.Commit()
	if err == nil {
		t.Fatal("Commit succeeded with the server dead")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "s3://dpcetl-test/out/"+key) {
		t.Errorf("error does not name the object: %v", err)
	}
	srv.Restart()
	if _, err := s.Stat(ctxT(t), key); !errors.Is(err, sink.ErrNotExist) {
		t.Errorf("after restart Stat = %v, want ErrNotExist", err)
	}
	if objs, err := s.List(ctxT(t), ""); err != nil || len(objs) != 0 {
		t.Errorf("after restart List = %v, %v; want nothing", objs, err)
	}
	_ = werr
}

func TestS3ServerKilledMidRun(t *testing.T) {
	srv := s3test.Start(t)
	s := srv.Sink(t, "lake", sink.MinPartSize)
	o := runOptions("dies")
	o.Compression = "none"
	o.RowGroupBytes = 1 << 20 // flush often so multipart parts are in flight when the server dies
	run, err := load.NewRun(s, o)
	if err != nil {
		t.Fatal(err)
	}
	write := func(start int) error {
		rec := claimsRecord(memory.DefaultAllocator, start, 20000)
		defer rec.Release()
		return run.Write(ctxT(t), "claims", rec)
	}
	for start := 0; start < 200000; start += 20000 {
		if err := write(start); err != nil {
			t.Fatal(err)
		}
	}
	srv.Kill()
	err = write(200000)
	if err == nil {
		_, err = run.Commit(ctxT(t))
	}
	if err == nil {
		t.Fatal("run succeeded with the server dead")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "s3://dpcetl-test/lake/claims/export_date=2026-01-02/group_id=grp-0001/part-00000-dies.parquet") {
		t.Errorf("error does not name the object: %v", err)
	}
	srv.Restart()
	if v := readerVisible(t, s); len(v) != 0 {
		t.Errorf("visible after the server died mid-run: %q", v)
	}
	// The next attempt of the run cleans the abandoned multipart uploads too.
	run, err = load.NewRun(s, runOptions("dies"))
	if err != nil {
		t.Fatal(err)
	}
	if err := write(0); err != nil {
		t.Fatal(err)
	}
	if _, err := run.Commit(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	ups, err := s.Client().ListMultipartUploads(ctxT(t), &s3.ListMultipartUploadsInput{Bucket: aws.String(srv.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d multipart uploads left after the rerun", len(ups.Uploads))
	}
}
