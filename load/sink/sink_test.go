package sink_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dpcetl/dpcetl/load/loadtest"
	"github.com/dpcetl/dpcetl/load/s3test"
	"github.com/dpcetl/dpcetl/load/sink"
)

func TestFileConformance(t *testing.T) {
	loadtest.RunConformance(t, func(t *testing.T) sink.Sink {
		s, err := sink.NewFile(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestS3Conformance(t *testing.T) {
	srv := s3test.Start(t)
	loadtest.RunConformance(t, func(t *testing.T) sink.Sink {
		// A fresh prefix per subtest keeps them independent on one server.
		return srv.Sink(t, "conf/"+strings.ReplaceAll(t.Name(), "/", "_"), sink.MinPartSize)
	})
}

func TestFileLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := sink.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, _ := s.NewWriter(ctx, "a/b")
	_, _ = w.Write([]byte("x"))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	w, _ = s.NewWriter(ctx, "a/c")
	_, _ = w.Write([]byte("x"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	var names []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if !d.IsDir() {
			names = append(names, filepath.Base(p))
		}
		return nil
	})
	if len(names) != 1 || names[0] != "c" {
		t.Errorf("files on disk = %q, want only c", names)
	}
	if st, err := os.Stat(filepath.Join(dir, "a", "c")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("committed file mode = %v, %v; want 0644 so engines can read it", st.Mode(), err)
	}
}

func TestOpenURLs(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for _, u := range []string{dir, "file://" + filepath.ToSlash(dir)} {
		s, err := sink.Open(ctx, u)
		if err != nil {
			t.Fatalf("Open(%q): %v", u, err)
		}
		if fs, ok := s.(*sink.File); !ok || fs.Root() != dir {
			t.Errorf("Open(%q) = %T %v, want file sink at %s", u, s, s, dir)
		}
	}
	bad := []string{"", "gs://bucket/x", "file://host/x", "s3:///prefix", "s3://b/p?sse=bogus", "s3://b/p?part_size=100", "s3://b/p?nope=1", "s3://b/p?kms_key_id=k"}
	for _, u := range bad {
		if _, err := sink.Open(ctx, u); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
	s, err := sink.Open(ctx, "s3://bkt/some/prefix?region=eu-west-1&endpoint=http://127.0.0.1:1&path_style=true&sse=aws:kms&kms_key_id=arn:k&part_size=6291456&concurrency=3&max_attempts=2")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.URL("t/x.parquet"); got != "s3://bkt/some/prefix/t/x.parquet" {
		t.Errorf("URL = %q", got)
	}
}

func TestS3RenameLargeObjectUsesMultipartCopy(t *testing.T) {
	srv := s3test.Start(t)
	o := srv.Options()
	o.PartSize = sink.MinPartSize
	o.CopyThreshold = 6 << 20 // pretend the CopyObject limit is 6 MiB
	o.CopyPartSize = sink.MinPartSize
	s, err := sink.NewS3(context.Background(), srv.Bucket, "mp", o)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 2*sink.MinPartSize+777)
	for i := range data {
		data[i] = byte(i * 7)
	}
	loadtest.Put(t, s, "_staging/r/big", data)
	if err := s.Rename(context.Background(), "_staging/r/big", "t/export_date=2026-01-01/big"); err != nil {
		t.Fatal(err)
	}
	got := loadtest.ReadAll(t, s, "t/export_date=2026-01-01/big")
	if !bytes.Equal(got, data) {
		t.Fatalf("multipart copy: %d bytes, equal=%v", len(got), bytes.Equal(got, data))
	}
	loadtest.AssertMissing(t, s, "_staging/r/big")
}

func TestOpenS3URLUsesStandardCredentialChain(t *testing.T) {
	srv := s3test.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s, err := sink.Open(context.Background(), srv.URL("via-url")+"&part_size=5242880&max_attempts=2")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	loadtest.Put(t, s, "k", []byte("v"))
	if got := loadtest.ReadAll(t, s, "k"); string(got) != "v" {
		t.Errorf("Get = %q", got)
	}
	if got := s.URL("k"); got != "s3://"+srv.Bucket+"/via-url/k" {
		t.Errorf("URL = %q", got)
	}
	// Wrong credentials from the chain are refused by the server.
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	bad, err := sink.Open(context.Background(), srv.URL("via-url")+"&max_attempts=1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Stat(context.Background(), "k"); err == nil {
		t.Error("Stat with a wrong secret succeeded")
	}
}

// An aborted or cancelled multi-part write leaves no incomplete upload behind (they are
// invisible to readers but cost storage), and the part memory per writer is what the options say.
func TestS3AbortAndCancelLeaveNoUploads(t *testing.T) {
	srv := s3test.Start(t)
	s := srv.Sink(t, "mpu", sink.MinPartSize)
	if got, want := s.MemoryPerWriter(), int64(sink.MinPartSize*4); got != want {
		t.Errorf("MemoryPerWriter = %d, want %d (part size × (concurrency 2 + 2))", got, want)
	}
	big := bytes.Repeat([]byte("m"), 2*sink.MinPartSize+1)
	uploads := func() int {
		out, err := s.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(srv.Bucket)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Uploads)
	}
	w, err := s.NewWriter(context.Background(), "aborted")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	if n := uploads(); n != 1 {
		t.Fatalf("%d multipart uploads in flight, want 1 (the write should have started one)", n)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if n := uploads(); n != 0 {
		t.Errorf("%d multipart uploads left after Abort", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err = s.NewWriter(ctx, "cancelled")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := w.Commit(); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit after cancel = %v, want context.Canceled", err)
	}
	if n := uploads(); n != 0 {
		t.Errorf("%d multipart uploads left after cancellation", n)
	}
	loadtest.AssertMissing(t, s, "aborted")
	loadtest.AssertMissing(t, s, "cancelled")
}
