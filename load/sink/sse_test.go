package sink_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/dpcetl/dpcetl/load/loadtest"
	"github.com/dpcetl/dpcetl/load/s3test"
	"github.com/dpcetl/dpcetl/load/sink"
)

// TestS3ServerSideEncryptionHeaders checks, through a recording proxy in front of versitygw,
// that every request creating an object asks for the configured encryption.
func TestS3ServerSideEncryptionHeaders(t *testing.T) {
	srv := s3test.Start(t)
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string][2]string{} // operation → (sse, kms key id)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Method
		switch q := r.URL.Query(); {
		case q.Has("uploads"):
			op = "CreateMultipartUpload"
		case q.Has("partNumber"):
			op = "UploadPart"
		case q.Has("uploadId") && r.Method == http.MethodPost:
			op = "CompleteMultipartUpload"
		case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
			op = "CopyObject"
		case r.Method == http.MethodPut:
			op = "PutObject"
		}
		mu.Lock()
		seen[op] = [2]string{r.Header.Get("X-Amz-Server-Side-Encryption"), r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")}
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	o := srv.Options()
	o.Endpoint = front.URL
	o.PartSize = sink.MinPartSize
	o.SSE = "aws:kms"
	o.KMSKeyID = "arn:aws:kms:us-east-1:111122223333:key/test"
	s, err := sink.NewS3(context.Background(), srv.Bucket, "sse", o)
	if err != nil {
		t.Fatal(err)
	}
	loadtest.Put(t, s, "small", []byte("x"))
	loadtest.Put(t, s, "big", make([]byte, sink.MinPartSize+1))
	if err := s.Rename(context.Background(), "small", "moved"); err != nil {
		t.Fatal(err)
	}
	want := [2]string{"aws:kms", o.KMSKeyID}
	for _, op := range []string{"PutObject", "CreateMultipartUpload", "CopyObject"} {
		if got := seen[op]; got != want {
			t.Errorf("%s sent SSE headers %q, want %q", op, got, want)
		}
	}
	if got := loadtest.ReadAll(t, s, "moved"); string(got) != "x" {
		t.Errorf("moved = %q", got)
	}
}
