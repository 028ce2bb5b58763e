package sink_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/load/s3test"
	"github.com/dpcetl/dpcetl/load/sink"
)

// Every way a destination can be wrong is classified, so the CLI's exit code says what to do
// (README, "Exit codes"): the store refused us, the configuration is wrong, or retry later.
func TestS3ProbeClassifiesFailures(t *testing.T) {
	srv := s3test.Start(t)
	// The standard chain must find nothing of this machine's own AWS setup.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	slowDown := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`))
	}))
	defer slowDown.Close()
	stopped := s3test.Start(t)
	stopped.Kill()

	tests := []struct {
		name   string
		bucket string
		opts   func(o *sink.S3Options)
		env    map[string]string
		want   error
		cause  string // what the error must name
	}{
		{"wrong secret", srv.Bucket, func(o *sink.S3Options) { o.SecretAccessKey = "wrong" }, nil, sink.ErrAccessDenied, "SignatureDoesNotMatch"},
		{"unknown access key", srv.Bucket, func(o *sink.S3Options) { o.AccessKeyID = "nobody" }, nil, sink.ErrAccessDenied, "access key"},
		{"missing bucket", "no-such-bucket", nil, nil, sink.ErrMisconfigured, "NoSuchBucket"},
		{"wrong region", srv.Bucket, func(o *sink.S3Options) { o.Region = "eu-west-3" }, nil, sink.ErrMisconfigured, "region"},
		{"no credentials", srv.Bucket, func(o *sink.S3Options) { o.AccessKeyID, o.SecretAccessKey = "", "" }, nil, sink.ErrMisconfigured, "no usable AWS credentials"},
		{"unknown profile", srv.Bucket, func(o *sink.S3Options) { o.AccessKeyID, o.SecretAccessKey = "", "" }, map[string]string{"AWS_PROFILE": "ghost"}, sink.ErrMisconfigured, "ghost"},
		{"stopped server", stopped.Bucket, func(o *sink.S3Options) { o.Endpoint = stopped.Endpoint }, nil, sink.ErrUnavailable, "connection refused"},
		{"throttled", srv.Bucket, func(o *sink.S3Options) { o.Endpoint = slowDown.URL }, nil, sink.ErrUnavailable, "SlowDown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			o := srv.Options()
			o.MaxAttempts = 1
			if tc.opts != nil {
				tc.opts(&o)
			}
			s, err := sink.NewS3(context.Background(), tc.bucket, "probe", o)
			if err == nil {
				err = s.Probe(context.Background())
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			for _, other := range []error{sink.ErrAccessDenied, sink.ErrMisconfigured, sink.ErrUnavailable} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("error is also %v: %v", other, err)
				}
			}
			if !strings.Contains(err.Error(), tc.cause) {
				t.Errorf("error does not name the cause %q: %v", tc.cause, err)
			}
			if strings.Contains(err.Error(), srv.SecretKey) {
				t.Error("the secret appears in the error")
			}
		})
	}
	// The working configuration probes fine and leaves nothing (the conformance suite checks more).
	if err := srv.Sink(t, "probe", 0).Probe(context.Background()); err != nil {
		t.Fatalf("Probe with the right credentials: %v", err)
	}
}

func TestFileProbeUnwritableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		// root writes anywhere; make the directory a file's child instead, which fails for everyone
		dir := t.TempDir()
		s, err := sink.NewFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "_dpcetl_probe"), []byte("in the way"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.Probe(context.Background()); err == nil || !strings.Contains(err.Error(), "_dpcetl_probe") {
			t.Fatalf("Probe with its directory blocked = %v, want an error naming the probe path", err)
		}
		return
	}
	dir := t.TempDir()
	s, err := sink.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if err := s.Probe(context.Background()); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("Probe of a read-only directory = %v, want a permission error", err)
	}
}
