package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/sandbox"
	"github.com/dpcetl/dpcetl/load/s3test"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// dpcetlBin builds this command once per test binary.
func dpcetlBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dpcetl-dest-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "dpcetl")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// destFixture is a provisioned DPC sandbox and a versitygw, and a config file for the
// subprocess that reaches both with real credentials.
type destFixture struct {
	dpc    *dpctest.Server
	sb     *sandbox.Sandbox
	s3     *s3test.Server
	dir    string
	config string
}

func newDestFixture(t *testing.T) *destFixture {
	t.Helper()
	key, err := dpc.GenerateKey(1024)
	if err != nil {
		t.Fatal(err)
	}
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(1024), dpctest.WithJobDuration(50*time.Millisecond))
	t.Cleanup(srv.Close)
	sb, err := sandbox.Provision(context.Background(), srv.URL, sandbox.Options{Key: key, Patients: 4, Practitioners: 1})
	if err != nil {
		t.Fatal(err)
	}
	f := &destFixture{dpc: srv, sb: sb, s3: s3test.Start(t), dir: t.TempDir()}
	f.config = filepath.Join(f.dir, "dpcetl.yaml")
	for name, data := range map[string][]byte{"client_token": []byte(sb.Credentials.ClientToken + "\n"), "private.pem": sb.PrivateKeyPEM} {
		if err := os.WriteFile(filepath.Join(f.dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *destFixture) writeConfig(t *testing.T, endpoint, bucket string) {
	t.Helper()
	dest := fmt.Sprintf("s3://%s/lake?endpoint=%s&path_style=true&region=%s&max_attempts=2", bucket, endpoint, f.s3.Region)
	y := fmt.Sprintf(`api: %s
credentials:
  client_token_file: %s
  private_key_file: %s
  key_id: %s
groups:
  ids: [%s]
destination: %q
state_dir: %s
poll_interval: 20ms
max_attempts: 1
`, f.dpc.BaseURL(), filepath.Join(f.dir, "client_token"), filepath.Join(f.dir, "private.pem"), f.sb.KeyID,
		f.sb.GroupIDs[0], dest, filepath.Join(f.dir, "state"))
	if err := os.WriteFile(f.config, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
}

type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// run runs dpcetl with the S3 root access key and secret ("-" for no AWS credentials at all).
func (f *destFixture) run(t *testing.T, secret string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dpcetlBin(t), append(args, "--config", f.config)...)
	cmd.Dir = f.dir
	cmd.Env = []string{
		"HOME=" + f.dir, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir(),
		"AWS_CONFIG_FILE=" + filepath.Join(f.dir, "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(f.dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true", // never reach for a metadata service off this machine
	}
	if secret != "-" {
		cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+f.s3.AccessKey, "AWS_SECRET_ACCESS_KEY="+secret)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("dpcetl %v: %v", args, err)
	}
	return r
}

// doctor and run check the destination before anything else, with exit codes that say
// what to do (README, "Exit codes"), naming the cause, within seconds, exporting nothing.
func TestDestinationPreflightExitCodes(t *testing.T) {
	f := newDestFixture(t)
	stopped := s3test.Start(t)
	stopped.Kill()
	tests := []struct {
		name, cmd string
		bucket    string
		secret    string
		stopped   bool
		code      int
		cause     string
	}{
		{"doctor missing bucket", "doctor", "no-such-bucket", "", false, 3, "NoSuchBucket"},
		{"doctor wrong secret", "doctor", "", "wrong-secret", false, 4, "SignatureDoesNotMatch"},
		{"doctor stopped server", "doctor", "", "", true, 10, "connection refused"},
		{"run missing bucket", "run", "no-such-bucket", "", false, 3, "NoSuchBucket"},
		{"run wrong secret", "run", "", "wrong-secret", false, 4, "SignatureDoesNotMatch"},
		{"run stopped server", "run", "", "", true, 10, "connection refused"},
		{"run no AWS credentials", "run", "", "-", false, 3, "no usable AWS credentials"},
		{"export start missing bucket", "export start", "no-such-bucket", "", false, 3, "NoSuchBucket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			endpoint := f.s3.Endpoint
			if tc.stopped {
				endpoint = stopped.Endpoint // a server that was there and is gone: the port refuses connections
			}
			f.writeConfig(t, endpoint, cmpOr(tc.bucket, f.s3.Bucket))
			secret := cmpOr(tc.secret, f.s3.SecretKey)
			exportsBefore := f.dpc.Requests("/api/v1/Group/" + f.sb.GroupIDs[0] + "/$export")
			r := f.run(t, secret, strings.Fields(tc.cmd)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			t.Logf("exit %d in %s; stdout:\n%s", r.code, r.took.Round(time.Millisecond), r.stdout)
			if r.took > 10*time.Second {
				t.Errorf("took %s, want under 10 s", r.took)
			}
			if !strings.Contains(r.stdout+r.stderr, tc.cause) {
				t.Errorf("output does not name the cause %q:\nstdout:\n%s\nstderr:\n%s", tc.cause, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, f.s3.SecretKey) {
				t.Error("the S3 secret appears in the output")
			}
			if n := f.dpc.Requests("/api/v1/Group/"+f.sb.GroupIDs[0]+"/$export") - exportsBefore; n != 0 {
				t.Errorf("%d export requests reached DPC: the destination must be checked first", n)
			}
			if tc.cmd == "doctor" && !strings.Contains(r.stdout, "FAIL destination") {
				t.Errorf("doctor does not report the destination check:\n%s", r.stdout)
			}
		})
	}
	t.Run("doctor healthy destination", func(t *testing.T) {
		f.writeConfig(t, f.s3.Endpoint, f.s3.Bucket)
		r := f.run(t, f.s3.SecretKey, "doctor")
		if r.code != 0 || !strings.Contains(r.stdout, "ok   destination") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
