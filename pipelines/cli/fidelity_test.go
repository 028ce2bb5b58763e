package cli_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/pipelines/cli"
)

// rosterHeaderFid is the roster CSV header these tests write.
const rosterHeaderFid = "practitioner_npi,practitioner_given,practitioner_family,patient_mbi,patient_given,patient_family,patient_birth_date,patient_gender\n"

// TestGroupsCreateExistingGroup: DPC answers a second group for an NPI with 403; `groups
// create` uses the existing group and exits 0 with its id.
func TestGroupsCreateExistingGroup(t *testing.T) {
	a := newAdm(t)
	a.onboard("dpcetl")
	gen := a.srv.Generator()
	npi := gen.NPI(0)
	a.ok("practitioners", "add", "--npi", npi, "--given", "Ada", "--family", "Doc")
	var mbis []string
	for i := range 3 {
		b := gen.Beneficiary(gen.MBI(i))
		a.ok("patients", "add", "--mbi", b.MBI, "--given", b.Given, "--family", b.Family, "--birth-date", b.BirthDate, "--gender", b.Gender)
		mbis = append(mbis, b.MBI)
	}
	var first, second dpc.Group
	a.json(&first, "groups", "create", "--npi", npi, "--mbi", mbis[0])
	a.json(&second, "groups", "create", "--npi", npi, "--mbi", mbis[1]+","+mbis[2])
	if first.ID == "" || second.ID != first.ID || len(second.Member) != 3 {
		t.Fatalf("second create: id %s (first %s), %d members", second.ID, first.ID, len(second.Member))
	}
	if n := a.srv.RequestsByMethod("POST", "/api/v1/Group"); n < 2 {
		t.Fatalf("the second create did not reach DPC (%d POSTs)", n)
	}
}

// TestRevokedClientToken: DPC issues access tokens for a revoked client token, so doctor
// and run make an authenticated call: both exit 4 naming the token by id, and run starts
// no export.
func TestRevokedClientToken(t *testing.T) {
	a := newAdm(t)
	a.onboard("dpcetl")
	gen := a.srv.Generator()
	npi := gen.NPI(0)
	a.ok("practitioners", "add", "--npi", npi, "--given", "Ada", "--family", "Doc")
	b := gen.Beneficiary(gen.MBI(0))
	a.ok("patients", "add", "--mbi", b.MBI, "--given", b.Given, "--family", b.Family, "--birth-date", b.BirthDate, "--gender", b.Gender)
	var g dpc.Group
	a.json(&g, "groups", "create", "--npi", npi, "--mbi", b.MBI)
	tok, _ := os.ReadFile(a.path("client-token.txt"))
	ct, err := auth.ParseClientToken(string(tok))
	if err != nil {
		t.Fatal(err)
	}
	a.ok("doctor")
	a.ok("tokens", "delete", ct.ID)

	code, out, errs := a.run("doctor")
	if code != cli.ExitAuth || !strings.Contains(out+errs, ct.ID) || !strings.Contains(out, "FAIL authenticated call") {
		t.Fatalf("doctor with a revoked token: exit %d\n%s\n%s", code, out, errs)
	}
	a.vars["DPCETL_GROUPS"] = g.ID
	a.vars["DPCETL_DESTINATION"] = a.path("out")
	a.vars["DPCETL_STATE_DIR"] = a.path("state")
	exports := a.srv.Requests("/api/v1/Group/" + g.ID + "/$export")
	code, out, errs = a.run("run")
	if code != cli.ExitAuth || !strings.Contains(errs, ct.ID) || !strings.Contains(errs, "revoked or expired") {
		t.Fatalf("run with a revoked token: exit %d\n%s\n%s", code, out, errs)
	}
	if n := a.srv.Requests("/api/v1/Group/"+g.ID+"/$export") - exports; n != 0 {
		t.Fatalf("run started %d exports with a revoked token", n)
	}
}

// TestRosterSyncOverLimit: 3× the roster limit for one practitioner: sync attributes up to
// the limit and exits non-zero naming the rows left out and why; a rerun changes nothing.
func TestRosterSyncOverLimit(t *testing.T) {
	a := newAdm(t)
	a.onboard("dpcetl")
	gen := a.srv.Generator()
	const limit = 4
	var csv strings.Builder
	csv.WriteString(rosterHeaderFid)
	for i := range 3 * limit {
		b := gen.Beneficiary(gen.MBI(i))
		fmt.Fprintf(&csv, "%s,Ada,Doc,%s,%s,%s,%s,%s\n", gen.NPI(0), b.MBI, b.Given, b.Family, b.BirthDate, b.Gender)
	}
	os.WriteFile(a.path("roster.csv"), []byte(csv.String()), 0o644)
	lim := fmt.Sprint(limit)
	wantRows := fmt.Sprintf("roster rows %d-%d: roster limit reached", limit+2, 3*limit+1)

	out := a.ok("roster", "sync", "--file", a.path("roster.csv"), "--roster-limit", lim, "--dry-run")
	if !strings.Contains(out, "not attributable") || !strings.Contains(out, fmt.Sprintf("%d to add", limit)) {
		t.Fatalf("dry run:\n%s", out)
	}
	errs := a.fails(cli.ExitRejected, wantRows, "roster", "sync", "--file", a.path("roster.csv"), "--roster-limit", lim)
	if !strings.Contains(errs, "roster rows") {
		t.Fatalf("stderr: %s", errs)
	}
	var gs []dpc.Group
	a.json(&gs, "groups", "list")
	if len(gs) != 1 || len(gs[0].Member) != limit {
		t.Fatalf("groups after sync: %+v", gs)
	}
	writes := a.srv.RequestsByMethod("POST", "/api/v1/Group") + a.srv.RequestsByMethod("POST", "/api/v1/Patient")
	a.fails(cli.ExitRejected, wantRows, "roster", "sync", "--file", a.path("roster.csv"), "--roster-limit", lim)
	if after := a.srv.RequestsByMethod("POST", "/api/v1/Group") + a.srv.RequestsByMethod("POST", "/api/v1/Patient"); after != writes {
		t.Fatalf("rerun sent %d writes", after-writes)
	}
}
