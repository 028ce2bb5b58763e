package runner_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/smartauth"
	"github.com/dpcetl/dpcetl/pipelines/cli"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// readmeConfig is the README's copy-paste config of a source (the yaml block after its
// "source-config" marker), written to a file: what a new user starts from.
func readmeConfig(t *testing.T, source string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- source-config: " + source + " [^>]*-->\n```yaml\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatalf("README has no source-config block for %s", source)
	}
	p := filepath.Join(t.TempDir(), source+".yaml")
	if err := os.WriteFile(p, m[1], 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// dialect is a dpctest server speaking a source's API with a registered client, and the
// flags that point the README's config at it.
type dialect struct {
	srv    *dpctest.Server
	oauth  smartauth.Config // a client of the same server, for the independent export
	flags  []string
	dir    string
	secret string // BCDA, AB2D: must never be printed
}

func newDialect(t *testing.T, d dpctest.Dialect, opts ...dpctest.Option) *dialect {
	t.Helper()
	return newDialectOn(t, "127.0.0.1:0", d, opts...)
}

func newDialectOn(t *testing.T, addr string, d dpctest.Dialect, opts ...dpctest.Option) *dialect {
	t.Helper()
	base := []dpctest.Option{dpctest.WithDialect(d), dpctest.WithPatients(24), dpctest.WithJobDuration(50 * time.Millisecond),
		dpctest.WithSuppressedShare(0.2)} // error[] entries in every export
	srv, err := dpctest.Listen(addr, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	x := &dialect{srv: srv, dir: dir, flags: []string{"--api", srv.DialectBaseURL(), "--out", filepath.Join(dir, "out"),
		"--state-dir", filepath.Join(dir, "state"), "--poll-interval", "20ms", "--max-attempts", "2"}}
	switch d {
	case dpctest.DialectBCDA, dpctest.DialectAB2D:
		id, secret := srv.NewSecretClient()
		x.secret = secret
		x.flags = append(x.flags, "--client-id", id, "--client-secret-file", write("secret", []byte(secret+"\n")))
		x.oauth = smartauth.BCDA(srv.DialectBaseURL(), id, secret)
		if d == dpctest.DialectAB2D {
			x.flags = append(x.flags, "--token-url", srv.DialectTokenURL())
			x.oauth = smartauth.AB2D(srv.DialectBaseURL(), srv.DialectTokenURL(), id, secret)
		}
	case dpctest.DialectSMART:
		// An EC P-384 key (ES384) under a kid that is no UUID, for a group id that is no UUID.
		key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		const kid = "dpcetl-e2e.key-1"
		jwks, err := smartauth.PublicJWKS(key, kid)
		if err != nil {
			t.Fatal(err)
		}
		id, err := srv.RegisterJWKS(jwks)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		pemFile := write("private.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		x.flags = append(x.flags, "--client-id", id, "--private-key-file", pemFile, "--key-id", kid, "--groups", srv.DialectGroups()[0])
		x.oauth = smartauth.SMART(srv.DialectBaseURL(), id, kid, key)
	}
	return x
}

// dpcetl runs the CLI in-process and returns its exit code and the JSON summary line.
func dpcetl(t *testing.T, now func() time.Time, args ...string) (int, *runner.Summary, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := cli.Main(ctx, args, cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: now})
	var sum runner.Summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil && code == 0 && args[0] == "run" {
		t.Fatalf("dpcetl %s: summary: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return code, &sum, out.String() + errb.String()
}

// Every failure of these sources exits with the code the README's table documents: refused
// credentials 4, a request the server rejects 6, a config error 3 naming its key, a server
// that is gone 10 — never 1.
func TestSourcesExitCodes(t *testing.T) {
	bcda := newDialect(t, dpctest.DialectBCDA)
	ab2d := newDialect(t, dpctest.DialectAB2D)
	smart := newDialect(t, dpctest.DialectSMART)
	gone := newDialect(t, dpctest.DialectBCDA)
	gone.srv.Close()
	wrongSecret := filepath.Join(bcda.dir, "wrong")
	if err := os.WriteFile(wrongSecret, []byte("not-the-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		x      *dialect
		source string
		extra  []string
		code   int
		say    string
	}{
		{"bcda wrong secret", bcda, "bcda", []string{"--client-secret-file", wrongSecret}, cli.ExitAuth, "401"},
		{"bcda unknown group", bcda, "bcda", []string{"--groups", "nope"}, cli.ExitRejected, "Invalid group ID"},
		{"bcda _elements", bcda, "bcda", []string{"--elements", "Patient.id"}, cli.ExitRejected, "_elements"},
		{"ab2d Patient type", ab2d, "ab2d", []string{"--types", "Patient"}, cli.ExitRejected, "_type must be ExplanationOfBenefit"},
		{"ab2d no token url", ab2d, "ab2d", []string{"--token-url", ""}, cli.ExitConfig, "credentials.token_url"},
		{"smart unknown kid", smart, "smart", []string{"--key-id", "someone-else"}, cli.ExitAuth, "kid"},
		{"smart unknown group", smart, "smart", []string{"--groups", "practice-99"}, cli.ExitRejected, "404"},
		{"smart group and level", smart, "smart", []string{"--level", "system"}, cli.ExitConfig, "export.level"},
		{"dpc takes UUID groups only", smart, "dpc", []string{"--groups", "practice-1"}, cli.ExitConfig, "groups.ids"},
		{"server gone", gone, "bcda", nil, cli.ExitRetryable, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"run", "--config", readmeConfig(t, tc.source)}, tc.x.flags...), tc.extra...)
			code, _, stderr := dpcetl(t, tc.x.srv.Clock().Now, args...)
			if code != tc.code || !strings.Contains(stderr, tc.say) {
				t.Fatalf("exit %d (want %d), stderr should say %q:\n%s", code, tc.code, tc.say, stderr)
			}
			if tc.x.secret != "" && strings.Contains(stderr, tc.x.secret) || strings.Contains(stderr, "not-the-secret") {
				t.Fatalf("the client secret was printed:\n%s", stderr)
			}
		})
	}
}

// doctor runs the checks of the configured source against its server: the README config
// passes; a FHIR version the server does not speak, scopes that do not cover the types and
// a key file others can read each fail with their documented exit code.
func TestSourcesDoctor(t *testing.T) {
	bcda, smart := newDialect(t, dpctest.DialectBCDA), newDialect(t, dpctest.DialectSMART)
	for _, tc := range []struct {
		name  string
		x     *dialect
		extra []string
		code  int
		say   string
	}{
		{"bcda", bcda, nil, cli.ExitOK, "ok   token exchange"},
		{"smart", smart, nil, cli.ExitOK, "ok   scopes: the granted scope covers Patient, Coverage, ExplanationOfBenefit"},
		{"bcda STU3", bcda, []string{"--fhir-version", "STU3"}, cli.ExitConfig, "FAIL metadata: the server speaks FHIR 4.0.1, fhir_version is STU3"},
		{"smart narrow scope", smart, []string{"--scopes", "system/Patient.read"}, cli.ExitAuth, "FAIL scopes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := map[*dialect]string{bcda: "bcda", smart: "smart"}[tc.x]
			args := append(append([]string{"doctor", "--config", readmeConfig(t, src)}, tc.x.flags...), tc.extra...)
			code, _, out := dpcetl(t, tc.x.srv.Clock().Now, args...)
			if code != tc.code || !strings.Contains(out, tc.say) || strings.Contains(out, "Token/validate") {
				t.Fatalf("exit %d (want %d), want %q:\n%s", code, tc.code, tc.say, out)
			}
		})
	}
	if err := os.Chmod(filepath.Join(smart.dir, "private.pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, out := dpcetl(t, smart.srv.Clock().Now, append([]string{"doctor", "--config", readmeConfig(t, "smart")}, smart.flags...)...)
	if code != cli.ExitConfig || !strings.Contains(out, "FAIL private key file") {
		t.Fatalf("readable key: exit %d\n%s", code, out)
	}
}

// `export start` of a patient-level BCDA export saves the level with the job, so a second
// call rejoins it instead of kicking off again (which BCDA would refuse with 429).
func TestSourcesExportStartIsIdempotent(t *testing.T) {
	x := newDialect(t, dpctest.DialectBCDA)
	// The README's BCDA config exports group "all"; without groups it is Patient/$export.
	p := readmeConfig(t, "bcda")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, regexp.MustCompile(`(?m)^groups:\n  ids: \[all\].*\n`).ReplaceAll(b, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if code, _, out := dpcetl(t, x.srv.Clock().Now, append([]string{"export", "start", "--config", p}, x.flags...)...); code != cli.ExitOK {
			t.Fatalf("export start #%d: exit %d\n%s", i+1, code, out)
		}
	}
	if n := x.srv.RequestsByMethod("GET", "/api/v2/Patient/$export"); n != 1 {
		t.Fatalf("%d kick-offs, want 1", n)
	}
}

// The bearer goes to a file URL only when the manifest requires it and the file is on the
// API's own origin, or on one the config lists in bearer_hosts.
func TestSourcesBearerOnlyWhereAllowed(t *testing.T) {
	for _, tc := range []struct {
		name       string
		open       bool // requiresAccessToken: false
		allow      bool // bearer_hosts names the file host
		code       int
		withBearer bool
	}{
		{"files on another origin", false, false, cli.ExitAuth, false},
		{"another origin in bearer_hosts", false, true, cli.ExitOK, true},
		{"requiresAccessToken false", true, true, cli.ExitOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
			l.Close()
			opts := []dpctest.Option{dpctest.WithFileHost("localhost:" + port)}
			if tc.open {
				opts = append(opts, dpctest.WithOpenFiles())
			}
			x := newDialectOn(t, "127.0.0.1:"+port, dpctest.DialectSMART, opts...)
			args := append([]string{"run", "--config", readmeConfig(t, "smart")}, x.flags...)
			if tc.allow {
				args = append(args, "--bearer-hosts", "http://localhost:"+port)
			}
			code, _, stderr := dpcetl(t, x.srv.Clock().Now, args...)
			if code != tc.code || (x.srv.FileRequestsWithBearer() > 0) != tc.withBearer {
				t.Fatalf("exit %d (want %d), %d file requests with a bearer (want some: %v)\n%s", code, tc.code, x.srv.FileRequestsWithBearer(), tc.withBearer, stderr)
			}
		})
	}
}
