package sink_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dpcetl/dpcetl/load/loadtest"
	"github.com/dpcetl/dpcetl/load/s3test"
	"github.com/dpcetl/dpcetl/load/sink"
)

func TestS3ServerSideEncryptionHeaders(t *testing.T) {
	srv := s3test.Start(t)
	o := srv.Options()
	o.PartSize = sink.MinPartSize
	o.SSE = "AES256"
	s, err := sink.NewS3(context.Background(), srv.Bucket, "sse", o)
	if err != nil {
		t.Fatal(err)
	}
	loadtest.Put(t, s, "small", []byte("x"))
	loadtest.Put(t, s, "big", make([]byte, sink.MinPartSize+1))
	if err := s.Rename(context.Background(), "small", "moved"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"big", "moved"} {
		out, err := s.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(srv.Bucket), Key: aws.String("sse/" + k)})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: sse=%q", k, out.ServerSideEncryption)
	}
}
