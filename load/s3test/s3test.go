// Package s3test runs a real S3-compatible server (versitygw) on 127.0.0.1 for tests.
// A missing binary fails the test with the install command; it is never skipped.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dpcetl/dpcetl/load/sink"
)

// InstallCommand installs the server binary the tests need.
const InstallCommand = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// Binary returns the path of versitygw: on PATH, else in $(go env GOPATH)/bin.
// A missing binary is an error that says how to install it.
func Binary() (string, error) {
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	return findBinary(exec.LookPath, gopath)
}

func findBinary(lookPath func(string) (string, error), gopath string) (string, error) {
	if p, err := lookPath("versitygw"); err == nil {
		return p, nil
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "versitygw")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found on PATH or in GOPATH/bin; install it with: %s", InstallCommand)
}

// Server is a running versitygw with one bucket.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	Dir       string // posix backend root

	tb   testing.TB
	bin  string
	addr string
	log  *lockedBuf

	mu     sync.Mutex
	cmd    *exec.Cmd
	waitCh chan error
}

// Start launches versitygw on a free 127.0.0.1 port with a temp directory, creates a bucket,
// and stops the server when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	for _, d := range []string{"data", "meta"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	s := &Server{
		Bucket:    "dpcetl-test",
		Region:    "us-east-1",
		AccessKey: "dpcetltestaccess",
		SecretKey: "dpcetltestsecret" + randHex(8),
		Dir:       filepath.Join(dir, "data"),
		tb:        tb,
		bin:       bin,
		log:       &lockedBuf{b: &bytes.Buffer{}},
	}
	s.addr = freeAddr(tb)
	s.Endpoint = "http://" + s.addr
	tb.Cleanup(s.Kill)
	s.Restart()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.client(tb).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)}); err != nil {
		tb.Fatalf("s3test: create bucket: %v\nversitygw output:\n%s", err, s.output())
	}
	return s
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freeAddr(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("s3test: find free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

type lockedBuf struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (s *Server) output() string {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return s.log.b.String()
}

// Restart starts the server again (same port, same data) after Kill; it waits until it answers.
func (s *Server) Restart() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.tb.Fatal("s3test: Restart while running")
	}
	cmd := exec.Command(s.bin, "--port", s.addr, "--quiet", "posix", "--sidecar", filepath.Join(filepath.Dir(s.Dir), "meta"), s.Dir)
	cmd.Env = append(os.Environ(),
		"ROOT_ACCESS_KEY="+s.AccessKey,
		"ROOT_SECRET_KEY="+s.SecretKey,
		"VGW_REGION="+s.Region,
	)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("s3test: start %s: %v", s.bin, err)
	}
	s.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			s.cmd = nil
			s.tb.Fatalf("s3test: versitygw exited: %v\n%s", err, s.output())
		default:
		}
		resp, err := http.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("s3test: versitygw did not answer on %s: %v\n%s", s.addr, err, s.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.waitCh = exited
}

// Kill stops the server with SIGKILL (as a crash would) and waits for it to exit. Idempotent.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.waitCh
	s.cmd = nil
}

// client returns an S3 client with the root credentials.
func (s *Server) client(tb testing.TB) *s3.Client {
	snk, err := sink.NewS3(context.Background(), s.Bucket, "", s.Options())
	if err != nil {
		tb.Fatal(err)
	}
	return snk.Client()
}

// Options returns S3 sink options that reach this server.
func (s *Server) Options() sink.S3Options {
	return sink.S3Options{
		Region:          s.Region,
		Endpoint:        s.Endpoint,
		PathStyle:       true,
		AccessKeyID:     s.AccessKey,
		SecretAccessKey: s.SecretKey,
		MaxAttempts:     2,
	}
}

// Sink returns an S3 sink for s3://bucket/prefix on this server with the given part size (0 = minimum).
func (s *Server) Sink(tb testing.TB, prefix string, partSize int64) *sink.S3 {
	tb.Helper()
	o := s.Options()
	o.PartSize = partSize
	if o.PartSize == 0 {
		o.PartSize = sink.MinPartSize
	}
	snk, err := sink.NewS3(context.Background(), s.Bucket, prefix, o)
	if err != nil {
		tb.Fatal(err)
	}
	return snk
}

// URL returns an s3:// sink URL for prefix on this server (credentials must come from Options or env).
func (s *Server) URL(prefix string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s&path_style=true&region=%s", s.Bucket, prefix, s.Endpoint, s.Region)
}

var errNotRunning = errors.New("s3test: server not running")

// Pid returns the server's process id.
func (s *Server) Pid() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0, errNotRunning
	}
	return s.cmd.Process.Pid, nil
}
