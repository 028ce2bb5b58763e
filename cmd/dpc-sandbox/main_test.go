package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStartErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"invalid port", []string{"--addr", "127.0.0.1:99999"}, 1, "cannot listen on 127.0.0.1:99999"},
		{"port in use", []string{"--addr", busy.Addr().String()}, 1, "cannot listen on " + busy.Addr().String()},
		{"bad faults", []string{"--faults", "418@/Data/"}, 2, "--faults"},
		// corrupt and --job-retry-after are accepted: the run gets as far as listening.
		{"corrupt fault accepted", []string{"--addr", busy.Addr().String(), "--faults", "corrupt@/Data/:count=1:after=100", "--job-retry-after", "2s"}, 1, "cannot listen"},
		{"bad job retry-after", []string{"--job-retry-after", "soon"}, 2, "job-retry-after"},
		{"bad fhir version", []string{"--addr", "127.0.0.1:0", "--fhir-version", "DSTU2"}, 1, "FHIR version"},
		{"credentials without patients", []string{"--credentials-dir", t.TempDir()}, 2, "needs --patients"},
		{"unknown flag", []string{"--nope"}, 2, "unknown flag: --nope"},
		{"unknown dialect", []string{"--dialect", "epic"}, 2, "--dialect"},
		{"dialect without patients", []string{"--dialect", "bcda"}, 2, "--dialect needs --patients"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errb)
			if code != tc.code || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errb.String(), tc.want)
			}
			if tc.code == 1 && strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
				t.Errorf("start errors must be one line: %q", errb.String())
			}
		})
	}
}

// startInProcess runs the command in-process and returns its base URL and a stop function.
func startInProcess(t *testing.T, args ...string) (root string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	var errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), out, &errb) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s := out.String(); strings.Contains(s, "listening on ") {
			line := strings.SplitN(strings.SplitN(s, "listening on ", 2)[1], "\n", 2)[0]
			var once sync.Once
			code := 0
			return line, func() int {
				once.Do(func() { cancel(); code = <-done })
				return code
			}
		}
		select {
		case code := <-done:
			t.Fatalf("exited %d: %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatal("sandbox did not start")
	return "", nil
}

func TestSeededCredentialsDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "creds")
	root, stop := startInProcess(t, "--patients", "30", "--practitioners", "2", "--credentials-dir", dir,
		"--min-key-bits", "1024", "--job-duration", "100ms")
	defer stop()
	st, err := os.Stat(filepath.Join(dir, "private.pem"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private.pem: %v %v", st, err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	base := read("base_url")
	if base != root+"/api/v1" {
		t.Fatalf("base_url %q, root %q", base, root)
	}
	block, _ := pem.Decode([]byte(read("private.pem")))
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ct := read("client_token")
	tok := jwt.NewWithClaims(jwt.SigningMethodRS384, jwt.MapClaims{"iss": ct, "sub": ct, "aud": base + "/Token/auth",
		"exp": time.Now().Add(4 * time.Minute).Unix(), "jti": "creds-test"})
	tok.Header["kid"] = read("key_id")
	assertion, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(base+"/Token/auth", url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.*"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}})
	if err != nil {
		t.Fatal(err)
	}
	var at struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&at)
	resp.Body.Close()
	if resp.StatusCode != 200 || at.AccessToken == "" {
		t.Fatalf("token/auth %d", resp.StatusCode)
	}
	var groups []struct {
		GroupID  string
		Patients int
	}
	if err := json.Unmarshal([]byte(read("groups.json")), &groups); err != nil || len(groups) != 2 || groups[0].Patients+groups[1].Patients != 30 {
		t.Fatalf("groups.json: %v %+v", err, groups)
	}
	req, _ := http.NewRequest("GET", base+"/Group/"+groups[0].GroupID+"/$export", nil)
	req.Header.Set("Authorization", "Bearer "+at.AccessToken)
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("Prefer", "respond-async")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("export %d", resp.StatusCode)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d after stop", code)
	}
}

// TestGuideWalkAgainstBinary builds dpc-sandbox, starts it as a subprocess and runs the
// API guide's curl sequence (extract/dpctest/testdata/guide_walk.sh) against it.
func TestGuideWalkAgainstBinary(t *testing.T) {
	for _, tool := range []string{"go", "bash", "curl", "openssl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("this test needs %s on PATH", tool)
		}
	}
	bin := filepath.Join(t.TempDir(), "dpc-sandbox")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--min-key-bits", "1024", "--job-duration", "300ms", "--batch-size", "2")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	defer func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "dpc-sandbox listening on ") {
		t.Fatalf("first line %q", sc.Text())
	}
	root := strings.TrimPrefix(sc.Text(), "dpc-sandbox listening on ")
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	walk := exec.Command("bash", "../../extract/dpctest/testdata/guide_walk.sh")
	walk.Env = append(os.Environ(), "DPC_ROOT="+root, "KEY_BITS=1024", "WORKDIR="+t.TempDir())
	out, err := walk.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "guide walk: OK") {
		t.Fatalf("guide walk: %v\n%s", err, out)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("dpc-sandbox did not exit cleanly on SIGINT: %v", err)
	}
}
