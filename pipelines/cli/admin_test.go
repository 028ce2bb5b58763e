package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/pipelines/cli"
)

// adm is one user's shell: a sandbox, a working directory and DPCETL_* variables.
type adm struct {
	t       *testing.T
	srv     *dpctest.Server
	dir     string
	vars    map[string]string
	stdin   string
	secrets []string // values that must never reach stdout/stderr of ordinary commands
}

func newAdm(t *testing.T) *adm {
	t.Helper()
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(1024))
	t.Cleanup(srv.Close)
	return &adm{t: t, srv: srv, dir: t.TempDir(), vars: map[string]string{"DPCETL_API": srv.BaseURL()}}
}

func (a *adm) path(name string) string { return filepath.Join(a.dir, name) }

// run executes a dpcetl command in-process and returns its exit code and output.
func (a *adm) run(args ...string) (int, string, string) {
	a.t.Helper()
	var out, errb bytes.Buffer
	env := cli.Env{
		Stdin: strings.NewReader(a.stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return a.vars[k] },
		Now:    a.srv.Clock().Now,
	}
	a.stdin = ""
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := cli.Main(ctx, args, env)
	if args[0] != "token" && args[0] != "jwt" {
		for _, s := range a.secrets {
			if s != "" && (strings.Contains(out.String(), s) || strings.Contains(errb.String(), s)) {
				a.t.Errorf("dpcetl %s printed a secret", strings.Join(args, " "))
			}
		}
	}
	return code, out.String(), errb.String()
}

// ok runs a command that must succeed.
func (a *adm) ok(args ...string) string {
	a.t.Helper()
	code, out, errs := a.run(args...)
	if code != 0 {
		a.t.Fatalf("dpcetl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// fails runs a command that must exit with code and mention want on stderr.
func (a *adm) fails(code int, want string, args ...string) string {
	a.t.Helper()
	got, out, errs := a.run(args...)
	if got != code || !strings.Contains(errs, want) {
		a.t.Fatalf("dpcetl %s: exit %d (want %d)\nstdout: %s\nstderr: %s\n(want stderr to contain %q)", strings.Join(args, " "), got, code, out, errs, want)
	}
	return errs
}

func (a *adm) json(v any, args ...string) {
	a.t.Helper()
	out := a.ok(append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		a.t.Fatalf("dpcetl %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (a *adm) openssl(args ...string) {
	a.t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = a.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		a.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// onboard takes a new user from nothing to working credentials, with the key made by dpcetl or
// by openssl exactly as the DPC guide says.
func (a *adm) onboard(keySource string) {
	a.t.Helper()
	var org struct{ ID string }
	a.json(&org, "org", "create", "--name", "Test Clinic", "--npi", "1234567893")
	if org.ID == "" {
		a.t.Fatal("org create returned no id")
	}
	var up struct{ ID string }
	switch keySource {
	case "dpcetl":
		a.ok("keys", "generate", "--bits", "1024", "--dir", a.dir)
		st, err := os.Stat(a.path("private.pem"))
		if err != nil || st.Mode().Perm() != 0o600 {
			a.t.Fatalf("private.pem: %v mode %v, want 0600", err, st.Mode().Perm())
		}
		a.json(&up, "keys", "upload", "--org-id", org.ID, "--public-key-file", a.path("public.pem"),
			"--private-key-file", a.path("private.pem"), "--label", "first key")
	case "openssl", "openssl-pkcs1":
		gen := []string{"genrsa", "-out", "private.pem", "1024"}
		if keySource == "openssl-pkcs1" {
			gen = []string{"genrsa", "-traditional", "-out", "private.pem", "1024"}
		}
		a.openssl(gen...)
		a.openssl("rsa", "-in", "private.pem", "-outform", "PEM", "-pubout", "-out", "public.pem")
		if err := os.WriteFile(a.path("snippet.txt"), []byte(dpc.Snippet), 0o644); err != nil {
			a.t.Fatal(err)
		}
		a.openssl("dgst", "-sign", "private.pem", "-sha256", "-out", "snippet.txt.sig", "snippet.txt")
		a.openssl("base64", "-in", "snippet.txt.sig", "-out", "signature.txt")
		a.json(&up, "keys", "upload", "--org-id", org.ID, "--public-key-file", a.path("public.pem"),
			"--signature-file", a.path("signature.txt"), "--label", "first key")
	}
	if up.ID == "" {
		a.t.Fatal("keys upload returned no id")
	}
	out := a.ok("tokens", "create", "--org-id", org.ID, "--label", "first", "--out", a.path("client-token.txt"))
	tok, err := os.ReadFile(a.path("client-token.txt"))
	if err != nil {
		a.t.Fatal(err)
	}
	st, _ := os.Stat(a.path("client-token.txt"))
	if st.Mode().Perm() != 0o600 || !strings.HasPrefix(string(tok), "W3sid") {
		a.t.Fatalf("client-token.txt mode %v, starts %.5q", st.Mode().Perm(), tok)
	}
	if strings.Contains(out, strings.TrimSpace(string(tok))) {
		a.t.Fatal("tokens create printed the token")
	}
	a.secrets = append(a.secrets, strings.TrimSpace(string(tok)))
	a.vars["DPCETL_CLIENT_TOKEN_FILE"] = a.path("client-token.txt")
	a.vars["DPCETL_PRIVATE_KEY_FILE"] = a.path("private.pem")
	a.vars["DPCETL_KEY_ID"] = up.ID
}

func TestAdminKeysSignSnippetVerifiesWithOpenSSL(t *testing.T) {
	a := newAdm(t)
	a.ok("keys", "generate", "--bits", "1024", "--dir", a.dir)
	out := a.ok("keys", "sign-snippet", "--private-key-file", a.path("private.pem"),
		"--write-snippet", a.path("snippet.txt"), "--sig-out", a.path("sig.bin"), "--out", a.path("signature.txt"))
	cmd := exec.Command("openssl", "dgst", "-sha256", "-verify", "public.pem", "-signature", "sig.bin", "snippet.txt")
	cmd.Dir = a.dir
	res, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(res), "Verified OK") {
		t.Fatalf("openssl verify: %v %s", err, res)
	}
	// The base64 printed is the base64 of the raw signature, as `openssl base64` makes it.
	a.openssl("base64", "-A", "-in", "sig.bin", "-out", "sig.b64")
	want, _ := os.ReadFile(a.path("sig.b64"))
	if strings.TrimSpace(out) != strings.TrimSpace(string(want)) {
		t.Errorf("printed %q, openssl base64 %q", out, want)
	}
	// Signing openssl's own snippet file gives the same signature bytes (PKCS#1 v1.5 is deterministic).
	a.openssl("dgst", "-sign", "private.pem", "-sha256", "-out", "openssl.sig", "snippet.txt")
	ours, _ := os.ReadFile(a.path("sig.bin"))
	theirs, _ := os.ReadFile(a.path("openssl.sig"))
	if !bytes.Equal(ours, theirs) {
		t.Error("signature differs from openssl dgst -sign")
	}
	// Refuses to overwrite a key pair.
	a.fails(cli.ExitUsage, "exists", "keys", "generate", "--bits", "1024", "--dir", a.dir)
	a.fails(cli.ExitUsage, "--bits 512", "keys", "generate", "--bits", "512", "--dir", a.dir)
	a.fails(cli.ExitConfig, "private-key-file", "keys", "sign-snippet", "--private-key-file", a.path("nope.pem"))
}

// TestAdminEveryCommand walks every admin command, with keys from dpcetl and from openssl.
func TestAdminEveryCommand(t *testing.T) {
	for _, src := range []string{"dpcetl", "openssl", "openssl-pkcs1"} {
		t.Run(src, func(t *testing.T) {
			a := newAdm(t)
			a.onboard(src)
			a.everyCommand()
		})
	}
}

func (a *adm) everyCommand() {
	t := a.t
	gen := a.srv.Generator()

	// Organization.
	var org dpc.Organization
	a.json(&org, "org", "show")
	if org.ID == "" || org.NPI() != "1234567893" {
		t.Fatalf("org show: %+v", org)
	}
	if out := a.ok("org", "show"); !strings.Contains(out, org.ID) || !strings.Contains(out, "ORGANIZATION ID") {
		t.Errorf("org show table: %s", out)
	}

	// JWT, validate, access token.
	jwt := strings.TrimSpace(a.ok("jwt"))
	if strings.Count(jwt, ".") != 2 {
		t.Fatalf("jwt: %q", jwt)
	}
	a.ok("token", "validate")
	a.stdin = jwt
	a.ok("token", "validate", "--jwt-file", "-")
	a.stdin = "not-a-jwt"
	a.fails(cli.ExitRejected, "400", "token", "validate", "--jwt-file", "-")
	access := strings.TrimSpace(a.ok("token", "get"))
	req, _ := http.NewRequest("GET", a.srv.BaseURL()+"/Organization", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token get's token does not work: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}

	// Keys through the API.
	var keys []dpc.Key
	a.json(&keys, "keys", "list")
	if len(keys) != 1 {
		t.Fatalf("keys list: %+v", keys)
	}
	k2dir := filepath.Join(a.dir, "k2")
	os.Mkdir(k2dir, 0o700)
	a.ok("keys", "generate", "--bits", "1024", "--dir", k2dir)
	var k2 dpc.Key
	a.json(&k2, "keys", "upload", "--public-key-file", filepath.Join(k2dir, "public.pem"), "--sign-key-file", filepath.Join(k2dir, "private.pem"), "--label", "second")
	a.fails(cli.ExitUsage, "--sign-key-file", "keys", "upload", "--public-key-file", filepath.Join(k2dir, "public.pem"))
	// A key signed by another key's private half is refused by DPC.
	a.fails(cli.ExitRejected, "verified", "keys", "upload", "--public-key-file", filepath.Join(k2dir, "public.pem"), "--sign-key-file", a.path("private.pem"))
	var got dpc.Key
	a.json(&got, "keys", "get", k2.ID)
	if got.ID != k2.ID || !strings.Contains(got.PublicKey, "PUBLIC KEY") {
		t.Fatalf("keys get: %+v", got)
	}
	a.ok("keys", "delete", k2.ID)
	a.fails(cli.ExitRejected, "404", "keys", "get", k2.ID)
	a.fails(cli.ExitUsage, "KEY_ID", "keys", "get")
	a.fails(cli.ExitUsage, "25 characters", "keys", "upload", "--label", strings.Repeat("x", 30), "--public-key-file", a.path("public.pem"), "--sign-key-file", a.path("private.pem"))

	// Client tokens through the API.
	var tok struct{ ID, File string }
	a.json(&tok, "tokens", "create", "--label", "vendor", "--expiration", "30d", "--out", a.path("t2.txt"))
	t2, _ := os.ReadFile(a.path("t2.txt"))
	a.secrets = append(a.secrets, strings.TrimSpace(string(t2)))
	a.fails(cli.ExitUsage, "exists", "tokens", "create", "--out", a.path("t2.txt"))
	a.fails(cli.ExitUsage, "--expiration", "tokens", "create", "--expiration", "soon", "--out", a.path("t3.txt"))
	var toks []dpc.Token
	a.json(&toks, "tokens", "list")
	if len(toks) != 2 {
		t.Fatalf("tokens list: %+v", toks)
	}
	a.ok("tokens", "delete", tok.ID)
	a.json(&toks, "tokens", "list")
	if len(toks) != 1 {
		t.Fatalf("tokens list after delete: %+v", toks)
	}

	// Practitioners.
	npi1, npi2, npi3 := gen.NPI(1), gen.NPI(2), gen.NPI(3)
	before := a.srv.Requests("/api/v1/")
	a.fails(cli.ExitUsage, "check digit", "practitioners", "add", "--npi", "1234567890", "--given", "A", "--family", "B")
	if a.srv.Requests("/api/v1/") != before {
		t.Error("an invalid NPI reached the server")
	}
	a.ok("practitioners", "add", "--npi", npi1, "--given", "Ada", "--family", "Lovelace")
	bundle := fmt.Sprintf(`{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Bundle","type":"collection","entry":[
	 {"resource":{"resourceType":"Practitioner","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"%s"}],"name":[{"family":"Curie","given":["Marie"]}]}},
	 {"resource":{"resourceType":"Practitioner","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"%s"}],"name":[{"family":"Hopper","given":["Grace"]}]}}]}}]}`, npi2, npi3)
	os.WriteFile(a.path("practitioners.json"), []byte(bundle), 0o644)
	a.ok("practitioners", "submit", "--file", a.path("practitioners.json"))
	var ps []dpc.Practitioner
	a.json(&ps, "practitioners", "list")
	if len(ps) != 3 {
		t.Fatalf("practitioners list: %d", len(ps))
	}
	var p dpc.Practitioner
	a.json(&p, "practitioners", "get", "--npi", npi2)
	if p.NPI() != npi2 {
		t.Fatalf("practitioners get: %+v", p)
	}
	a.json(&p, "practitioners", "get", p.ID)
	a.fails(cli.ExitRejected, "not found", "practitioners", "get", "--npi", gen.NPI(40))
	a.fails(cli.ExitUsage, "--npi", "practitioners", "get")

	// Patients.
	mbis := []string{gen.MBI(1), gen.MBI(2), gen.MBI(3), gen.MBI(4)}
	b := gen.Beneficiary(mbis[0])
	a.ok("patients", "add", "--mbi", b.MBI, "--given", b.Given, "--family", b.Family, "--birth-date", b.BirthDate, "--gender", b.Gender)
	errs := a.fails(cli.ExitUsage, "--mbi", "patients", "add", "--mbi", "1SG4TE5MK73", "--given", "A", "--family", "B", "--birth-date", "1950-13-01", "--gender", "F")
	if !strings.Contains(errs, "--birth-date") || !strings.Contains(errs, "--gender") {
		t.Errorf("patients add reports only some problems: %s", errs)
	}
	// The DPC sandbox's own synthetic MBIs (S in position 2) are accepted when the API is not production.
	a.ok("patients", "add", "--mbi", "1S00E00AA02", "--given", "Syn", "--family", "Thetic", "--birth-date", "1950-01-01", "--gender", "male")
	a.fails(cli.ExitUsage, "--mbi", "patients", "get", "--mbi", "1S00E00AA02", "--api", "production")
	var entries []string
	for _, m := range mbis[1:] {
		b := gen.Beneficiary(m)
		entries = append(entries, fmt.Sprintf(`{"resourceType":"Patient","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"%s"}],"name":[{"family":"%s","given":["%s"]}],"birthDate":"%s","gender":"%s"}`,
			m, b.Family, b.Given, b.BirthDate, b.Gender))
	}
	os.WriteFile(a.path("patients.json"), []byte("["+strings.Join(entries, ",")+"]"), 0o644)
	a.ok("patients", "submit", "--file", a.path("patients.json"))
	os.WriteFile(a.path("bad.json"), []byte(`[{"resourceType":"Practitioner"}]`), 0o644)
	a.fails(cli.ExitUsage, "not a Patient", "patients", "submit", "--file", a.path("bad.json"))
	var pats []dpc.Patient
	a.json(&pats, "patients", "list")
	if len(pats) != 5 {
		t.Fatalf("patients list: %d", len(pats))
	}
	var pt dpc.Patient
	a.json(&pt, "patients", "get", "--mbi", strings.ToLower(mbis[2]))
	if pt.MBI() != mbis[2] {
		t.Fatalf("patients get: %+v", pt)
	}
	if out := a.ok("patients", "list"); strings.Count(out, "\n") != 6 || !strings.Contains(out, "BIRTH DATE") {
		t.Errorf("patients list table:\n%s", out)
	}

	// Groups, attested for the user.
	var g dpc.Group
	a.json(&g, "groups", "create", "--npi", npi1, "--mbi", mbis[0]+","+mbis[1])
	if g.ID == "" || len(g.Member) != 2 || g.NPI() != npi1 {
		t.Fatalf("groups create: %+v", g)
	}
	var gs []dpc.Group
	a.json(&gs, "groups", "find", "--npi", npi1)
	if len(gs) != 1 || gs[0].ID != g.ID {
		t.Fatalf("groups find: %+v", gs)
	}
	a.fails(cli.ExitRejected, "no group", "groups", "find", "--npi", npi3)
	a.json(&g, "groups", "add", "--npi", npi1, "--mbi", mbis[2])
	if activeCount(g, a.srv.Clock().Now()) != 3 {
		t.Fatalf("groups add: %+v", g)
	}
	a.json(&g, "groups", "remove", "--npi", npi1, "--mbi", mbis[0])
	if activeCount(g, a.srv.Clock().Now()) != 2 {
		t.Fatalf("groups remove: %+v", g)
	}
	a.json(&g, "groups", "replace", "--npi", npi1, "--mbi", mbis[3])
	if activeCount(g, a.srv.Clock().Now()) != 1 {
		t.Fatalf("groups replace: %+v", g)
	}
	if out := a.ok("groups", "show", g.ID); !strings.Contains(out, "LAPSES") || !strings.Contains(out, npi1) {
		t.Errorf("groups show table:\n%s", out)
	}
	a.json(&gs, "groups", "list")
	if len(gs) != 1 {
		t.Fatalf("groups list: %d", len(gs))
	}
	a.fails(cli.ExitRejected, "not registered", "groups", "add", "--npi", npi1, "--mbi", gen.MBI(77))
	a.fails(cli.ExitUsage, "--mbi", "groups", "add", "--npi", npi1)
	a.fails(cli.ExitRejected, "404 Cannot find group", "groups", "show", "0e0e0e0e-0000-4000-8000-000000000000")

	// Transient failures are retried (GET: always safe).
	a.srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultUnavailable, Path: "/Organization", Count: 1}}})
	a.ok("org", "show")
	a.srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultServerError, Path: "/Organization"}}})
	a.fails(cli.ExitRetryable, "500", "org", "show", "--max-attempts", "1")
	a.srv.SetFaults(dpctest.Faults{})

	// Many MBIs are resolved with one listing, not one search each.
	var many []string
	for i := 0; i < 25; i++ {
		many = append(many, gen.MBI(300+i))
	}
	a.fails(cli.ExitRejected, "not registered", "groups", "add", "--npi", npi1, "--mbi", strings.Join(many, ","))

	// Credentials missing or wrong.
	saved := a.vars["DPCETL_KEY_ID"]
	delete(a.vars, "DPCETL_KEY_ID")
	a.fails(cli.ExitConfig, "--key-id", "org", "show")
	a.fails(cli.ExitAuth, "", "org", "show", "--key-id", "0e0e0e0e-0000-4000-8000-000000000000")
	a.vars["DPCETL_KEY_ID"] = saved
	api := a.vars["DPCETL_API"]
	delete(a.vars, "DPCETL_API")
	a.fails(cli.ExitConfig, "--api", "org", "show")
	a.ok("org", "show", "--api", api)
	a.vars["DPCETL_API"] = api
}

func activeCount(g dpc.Group, now time.Time) int {
	n := 0
	for _, m := range g.Member {
		if m.Active(now) {
			n++
		}
	}
	return n
}

const rosterHeader = "practitioner_npi,practitioner_given,practitioner_family,patient_mbi,patient_given,patient_family,patient_birth_date,patient_gender\n"

func TestAdminRoster(t *testing.T) {
	a := newAdm(t)
	a.onboard("dpcetl")
	gen := a.srv.Generator()
	var csv strings.Builder
	csv.WriteString(rosterHeader)
	for i := range 6 {
		m := gen.MBI(i)
		b := gen.Beneficiary(m)
		fmt.Fprintf(&csv, "%s,Doc,Tor%d,%s,%s,%s,%s,%s\n", gen.NPI(i%2), i%2, m, b.Given, b.Family, b.BirthDate, b.Gender)
	}
	os.WriteFile(a.path("roster.csv"), []byte(csv.String()), 0o644)

	// Dry run: a plan, nothing changed.
	before := a.srv.Requests("/api/v1/Group")
	out := a.ok("roster", "sync", "--file", a.path("roster.csv"), "--dry-run")
	if !strings.Contains(out, "2 practitioners and 6 patients to register, 2 groups to create, 6 to add") {
		t.Fatalf("dry run:\n%s", out)
	}
	var gs []dpc.Group
	a.json(&gs, "groups", "list")
	if len(gs) != 0 {
		t.Fatal("dry run changed DPC")
	}
	_ = before

	var rep struct {
		Added   []struct{ Row int }
		Renewed []struct{ Row int }
		Failed  []struct{ Rows []int }
	}
	a.json(&rep, "roster", "sync", "--file", a.path("roster.csv"))
	if len(rep.Added) != 6 || len(rep.Failed) != 0 {
		t.Fatalf("sync: %+v", rep)
	}
	out = a.ok("roster", "sync", "--file", a.path("roster.csv"))
	if !strings.Contains(out, "0 added, 0 renewed, 0 removed, 6 unchanged, 0 failed") {
		t.Fatalf("second sync:\n%s", out)
	}
	var exp []map[string]any
	a.json(&exp, "roster", "expiring", "--within", "14d")
	if len(exp) != 0 {
		t.Fatalf("expiring right after sync: %v", exp)
	}

	// 80 days later every attribution lapses within 14 days; the scheduled sync renews them.
	a.srv.Clock().Advance(80 * 24 * time.Hour)
	a.json(&exp, "roster", "expiring", "--within", "14d")
	if len(exp) != 6 {
		t.Fatalf("expiring after 80 days: %d", len(exp))
	}
	if out := a.ok("roster", "expiring"); !strings.Contains(out, "expiring") || !strings.Contains(out, "LAPSES") {
		t.Errorf("expiring table:\n%s", out)
	}
	a.json(&rep, "roster", "sync", "--file", a.path("roster.csv"))
	if len(rep.Renewed) != 6 || len(rep.Added) != 0 {
		t.Fatalf("renewal sync: %+v", rep)
	}
	a.json(&exp, "roster", "expiring", "--within", "14d")
	if len(exp) != 0 {
		t.Fatalf("still expiring after renewal: %d", len(exp))
	}

	// A patient dropped from the file is removed.
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	os.WriteFile(a.path("roster2.csv"), []byte(strings.Join(lines[:len(lines)-1], "\n")+"\n"), 0o644)
	out = a.ok("roster", "sync", "--file", a.path("roster2.csv"))
	if !strings.Contains(out, "1 removed") {
		t.Fatalf("removal sync:\n%s", out)
	}

	// Bad CSV: every problem named by row and column, nothing sent.
	os.WriteFile(a.path("bad.csv"), []byte(rosterHeader+"123,A,B,1EG4TE5MK73,Ann,Lee,1950-03-04,female\n"+
		gen.NPI(0)+",A,B,1EG4TE5MK7O,Ann,Lee,1950-03-04,female\n"), 0o644)
	errs := a.fails(cli.ExitUsage, "row 2, column practitioner_npi", "roster", "sync", "--file", a.path("bad.csv"))
	if !strings.Contains(errs, "row 3, column patient_mbi") {
		t.Errorf("second problem not reported: %s", errs)
	}
	a.fails(cli.ExitUsage, "--file", "roster", "sync")
	a.fails(cli.ExitUsage, "--within", "roster", "expiring", "--within", "two weeks")

	// Partial failure: one practitioner's group refuses additions; the rows are named, the exit
	// code says retry, and the rerun applies only those rows.
	var more strings.Builder
	more.WriteString(csv.String())
	for i := 10; i < 12; i++ {
		m := gen.MBI(i)
		b := gen.Beneficiary(m)
		fmt.Fprintf(&more, "%s,Doc,Tor%d,%s,%s,%s,%s,%s\n", gen.NPI(i%2), i%2, m, b.Given, b.Family, b.BirthDate, b.Gender)
	}
	os.WriteFile(a.path("roster3.csv"), []byte(more.String()), 0o644)
	a.json(&gs, "groups", "find", "--npi", gen.NPI(1))
	a.srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultServerError, Path: "/Group/" + gs[0].ID + "/$add"}}})
	code, out, errOut := a.run("roster", "sync", "--file", a.path("roster3.csv"), "--max-attempts", "1")
	if code != cli.ExitRetryable || !strings.Contains(out, "FAILED attribute") || !strings.Contains(errOut, "rerun") {
		t.Fatalf("partial failure: exit %d\n%s\n%s", code, out, errOut)
	}
	// Rows 7 (the re-listed patient 5) and 9 (patient 11) belong to practitioner 1.
	if !strings.Contains(out, "1 added") || !regexpRow(out, "7") || !regexpRow(out, "9") {
		t.Fatalf("partial failure report:\n%s", out)
	}
	a.srv.SetFaults(dpctest.Faults{})
	a.json(&rep, "roster", "sync", "--file", a.path("roster3.csv"))
	if len(rep.Added) != 2 || len(rep.Failed) != 0 {
		t.Fatalf("rerun: %+v", rep)
	}
}

func regexpRow(out, row string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && f[0] == "FAILED" && f[2] == row {
			return true
		}
	}
	return false
}

// The README's sample roster applies cleanly on a fresh organization.
func TestAdminSampleRoster(t *testing.T) {
	a := newAdm(t)
	a.onboard("dpcetl")
	file := filepath.Join("..", "..", "testdata", "admin", "roster.csv")
	out := a.ok("roster", "sync", "--file", file, "--dry-run")
	if !strings.Contains(out, "2 practitioners and 6 patients to register, 2 groups to create, 6 to add") {
		t.Fatalf("dry run:\n%s", out)
	}
	out = a.ok("roster", "sync", "--file", file)
	if !strings.Contains(out, "6 added, 0 renewed, 0 removed, 0 unchanged, 0 failed") {
		t.Fatalf("sync:\n%s", out)
	}
	var gs []dpc.Group
	a.json(&gs, "groups", "list")
	if len(gs) != 2 || len(gs[0].Member) != 3 {
		t.Fatalf("groups: %+v", gs)
	}
}

func TestAdminHelpListsFlags(t *testing.T) {
	a := newAdm(t)
	out := a.ok("help", "keys", "upload")
	for _, want := range []string{"--sign-key-file", "--signature-file", "--org-id", "--client-token-file", "--output"} {
		if !strings.Contains(out, strings.TrimPrefix(want, "-")) {
			t.Errorf("help keys upload lacks %s:\n%s", want, out)
		}
	}
	a.fails(cli.ExitUsage, "unknown flag", "keys", "list", "--nope")
	a.fails(cli.ExitUsage, "--output", "keys", "list", "--output", "yaml")
}

// TestAdminReadmeWalk runs the README's "From nothing to a first export" walk as written (default file names in the working
// directory), with a small key only because the test sandbox allows it.
func TestAdminReadmeWalk(t *testing.T) {
	a := newAdm(t)
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "admin", "roster.csv"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(a.dir)
	var org struct{ ID string }
	a.json(&org, "org", "create", "--name", "Happy Healthcare", "--npi", "1234567893")
	a.ok("keys", "generate", "--bits", "1024")
	var key struct{ ID string }
	a.json(&key, "keys", "upload", "--org-id", org.ID, "--label", "laptop")
	out := a.ok("tokens", "create", "--org-id", org.ID, "--label", "laptop")
	if !strings.Contains(out, "client-token.txt") {
		t.Fatalf("tokens create:\n%s", out)
	}
	tok, _ := os.ReadFile("client-token.txt")
	a.secrets = append(a.secrets, strings.TrimSpace(string(tok)))
	a.vars["DPCETL_CLIENT_TOKEN_FILE"] = filepath.Join(a.dir, "client-token.txt")
	a.vars["DPCETL_PRIVATE_KEY_FILE"] = filepath.Join(a.dir, "private.pem")
	a.vars["DPCETL_KEY_ID"] = key.ID
	if out := a.ok("token", "validate"); !strings.Contains(out, "yes") {
		t.Fatalf("token validate:\n%s", out)
	}
	a.ok("org", "show")
	os.WriteFile("roster.csv", sample, 0o644)
	a.ok("roster", "sync", "--file", "roster.csv", "--dry-run")
	a.ok("roster", "sync", "--file", "roster.csv")
	var gs []dpc.Group
	a.json(&gs, "groups", "list")
	if len(gs) != 2 {
		t.Fatalf("groups: %d", len(gs))
	}
	a.ok("roster", "expiring", "--within", "14d")
}

// TestAdminErrorPaths: each command's failure modes, with the exit code a scheduler acts on.
func TestAdminErrorPaths(t *testing.T) {
	a := newAdm(t)
	a.onboard("dpcetl")
	gen := a.srv.Generator()
	a.ok("practitioners", "add", "--npi", gen.NPI(1), "--given", "A", "--family", "B")
	b := gen.Beneficiary(gen.MBI(1))
	a.ok("patients", "add", "--mbi", b.MBI, "--given", b.Given, "--family", b.Family, "--birth-date", b.BirthDate, "--gender", b.Gender)
	unknown := "0e0e0e0e-0000-4000-8000-000000000000"
	os.WriteFile(a.path("badnpi.json"), []byte(`[{"resourceType":"Practitioner","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567890"}],"name":[{"family":"X","given":["Y"]}]}]`), 0o644)
	os.WriteFile(a.path("notjson.json"), []byte(`{{{`), 0o644)
	tests := []struct {
		code int
		want string
		args []string
	}{
		{cli.ExitRejected, "404", []string{"keys", "delete", unknown}},
		{cli.ExitRejected, "404", []string{"tokens", "delete", unknown}},
		{cli.ExitUsage, "TOKEN_ID", []string{"tokens", "delete"}},
		{cli.ExitUsage, "entry 1", []string{"practitioners", "submit", "--file", a.path("badnpi.json")}},
		{cli.ExitUsage, "not JSON", []string{"practitioners", "submit", "--file", a.path("notjson.json")}},
		{cli.ExitConfig, "--file", []string{"patients", "submit", "--file", a.path("missing.json")}},
		{cli.ExitUsage, "--file is required", []string{"practitioners", "submit"}},
		{cli.ExitUsage, "--given is required", []string{"practitioners", "add", "--npi", gen.NPI(2)}},
		{cli.ExitRejected, "not found", []string{"patients", "get", "--mbi", gen.MBI(50)}},
		{cli.ExitRejected, "404", []string{"patients", "get", unknown}},
		{cli.ExitRejected, "not found", []string{"groups", "create", "--npi", gen.NPI(3), "--mbi", gen.MBI(1)}},
		{cli.ExitRejected, "no group", []string{"groups", "replace", "--npi", gen.NPI(1), "--mbi", gen.MBI(1)}},
		{cli.ExitUsage, "--npi", []string{"groups", "find", "--npi", "12345"}},
		{cli.ExitUsage, "GROUP_ID", []string{"groups", "show"}},
		{cli.ExitUsage, "--name is required", []string{"org", "create"}},
		{cli.ExitUsage, "--npi", []string{"org", "create", "--name", "x", "--npi", "1111111111"}},
		{cli.ExitConfig, "jwt-file", []string{"token", "validate", "--jwt-file", a.path("nope.jwt")}},
		{cli.ExitUsage, "expected no arguments", []string{"org", "show", "extra"}},
	}
	for _, tt := range tests {
		a.fails(tt.code, tt.want, tt.args...)
	}
	// Credentials that DPC refuses: auth exit code for every API command, no secret in the output.
	os.WriteFile(a.path("revoked.txt"), []byte("W3sidiI6MiwibCI6Imh0dHA6Ly9leGFtcGxlIn1d\n"), 0o600)
	a.secrets = append(a.secrets, "W3sidiI6MiwibCI6Imh0dHA6Ly9leGFtcGxlIn1d")
	for _, args := range [][]string{{"org", "show"}, {"token", "get"}, {"keys", "list"}, {"roster", "expiring"}} {
		a.fails(cli.ExitAuth, "", append(args, "--client-token-file", a.path("revoked.txt"))...)
	}
	// No credentials at all: a config error naming what is missing.
	delete(a.vars, "DPCETL_CLIENT_TOKEN_FILE")
	a.fails(cli.ExitConfig, "--client-token-file", "jwt")
}

func TestAdminSandboxServe(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"sandbox", "serve", "--sandbox-addr", "127.0.0.1:0", "--min-key-bits", "1024", "--output", "json"},
			cli.Env{Stdout: pw, Getenv: func(string) string { return "" }})
		pw.Close()
	}()
	var info struct{ URL, API string }
	if err := json.NewDecoder(pr).Decode(&info); err != nil {
		t.Fatalf("sandbox serve output: %v", err)
	}
	go io.Copy(io.Discard, pr)
	resp, err := http.Post(info.URL+"/portal/Organization", "application/json", strings.NewReader(`{"name":"x"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("portal on the served sandbox: %v %v", err, resp)
	}
	resp.Body.Close()
	if !strings.HasSuffix(info.API, "/api/v1") {
		t.Errorf("api = %q", info.API)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after interrupt", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox serve did not stop on cancel")
	}
	// The port is free again.
	if _, err := http.Get(info.URL + "/portal/Organization"); err == nil {
		t.Error("sandbox still answering after stop")
	}
}
