package roster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/roster"
	"github.com/dpcetl/dpcetl/extract/sandbox"
)

// A roster with 3× the roster limit for one practitioner: sync attributes up to the limit,
// reports exactly the rows left out and why, and a rerun changes nothing on DPC.
func TestSyncStaysUnderRosterLimit(t *testing.T) {
	const limit = 5
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(1024), dpctest.WithRosterLimit(limit))
	t.Cleanup(srv.Close)
	sb, err := sandbox.Provision(context.Background(), srv.URL, sandbox.Options{
		Key: testKey(), Practitioners: 1, Patients: 1, Now: srv.Clock().Now})
	if err != nil {
		t.Fatal(err)
	}
	c := sb.Client()
	gen := srv.Generator()
	npi := sb.NPIs[0]
	var csv strings.Builder
	csv.WriteString(header)
	for i := range 3 * limit { // MBI 0 is the provisioned member
		csv.WriteString(line(npi, gen.MBI(i)))
	}
	ros := mustParse(t, csv.String())
	opts := roster.Options{Now: srv.Clock().Now(), RosterLimit: limit}

	plan, err := roster.MakePlan(context.Background(), c, ros, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Add) != limit-1 || len(plan.OverLimit) != 2*limit || plan.Unchanged != 1 || len(plan.CreatePatients) != limit-1 {
		t.Fatalf("plan: %d add, %d over limit, %d unchanged, %d patients to create", len(plan.Add), len(plan.OverLimit), plan.Unchanged, len(plan.CreatePatients))
	}
	rep, err := roster.Apply(context.Background(), c, plan)
	if !errors.Is(err, roster.ErrPartial) || !errors.Is(err, dpc.ErrInvalid) {
		t.Fatalf("Apply: %v, want ErrPartial and ErrInvalid", err)
	}
	// Rows 2..16 are the CSV lines of MBIs 0..14; MBI 0 is a member, 1..4 fit, 5..14 do not.
	wantRows := fmt.Sprintf("roster rows %d-%d: roster limit reached", limit+2, 3*limit+1)
	if !strings.Contains(err.Error(), wantRows) {
		t.Fatalf("error %q does not name %q", err, wantRows)
	}
	if len(rep.Added) != limit-1 || len(rep.Failed) != 2*limit {
		t.Fatalf("report: %d added, %d failed", len(rep.Added), len(rep.Failed))
	}
	for i, f := range rep.Failed {
		if len(f.Lines) != 1 || f.Lines[0] != limit+2+i || f.MBI != gen.MBI(limit+i) || !strings.Contains(f.Error, "roster limit") {
			t.Fatalf("failure %d: %+v", i, f)
		}
	}
	g, err := c.Group(context.Background(), sb.GroupIDs[0])
	if err != nil || len(g.Member) != limit {
		t.Fatalf("group has %d members (%v), want %d", len(g.Member), err, limit)
	}

	// The rerun sends no change and fails the same way.
	writes := srv.RequestsByMethod("POST", "/api/v1/") + srv.RequestsByMethod("PUT", "/api/v1/") - srv.RequestsByMethod("POST", "/api/v1/Token/auth")
	plan2, err := roster.MakePlan(context.Background(), c, ros, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !plan2.Empty() || len(plan2.OverLimit) != 2*limit {
		t.Fatalf("rerun plan: empty=%v, %d over limit", plan2.Empty(), len(plan2.OverLimit))
	}
	_, err = roster.Apply(context.Background(), c, plan2)
	if !errors.Is(err, roster.ErrPartial) || !strings.Contains(err.Error(), wantRows) {
		t.Fatalf("rerun: %v", err)
	}
	if after := srv.RequestsByMethod("POST", "/api/v1/") + srv.RequestsByMethod("PUT", "/api/v1/") - srv.RequestsByMethod("POST", "/api/v1/Token/auth"); after != writes {
		t.Fatalf("rerun sent %d writes", after-writes)
	}
	if n, _ := c.Patients(context.Background()); len(n) != limit {
		t.Fatalf("%d patients registered, want only the %d attributed", len(n), limit)
	}
}

// When DPC's limit is lower than the client assumed, the 400 "Roster limit reached" is
// reported per row as a roster-limit failure, not a crash.
func TestSyncServerRosterLimit(t *testing.T) {
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(1024), dpctest.WithRosterLimit(2))
	t.Cleanup(srv.Close)
	sb, err := sandbox.Provision(context.Background(), srv.URL, sandbox.Options{
		Key: testKey(), Practitioners: 1, Patients: 1, Now: srv.Clock().Now})
	if err != nil {
		t.Fatal(err)
	}
	gen := srv.Generator()
	var csv strings.Builder
	csv.WriteString(header)
	for i := range 4 {
		csv.WriteString(line(sb.NPIs[0], gen.MBI(i)))
	}
	c := sb.Client()
	plan, err := roster.MakePlan(context.Background(), c, mustParse(t, csv.String()), roster.Options{Now: srv.Clock().Now(), RosterLimit: 10})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := roster.Apply(context.Background(), c, plan)
	if !errors.Is(err, dpc.ErrInvalid) || !strings.Contains(err.Error(), "roster limit reached") || len(rep.Failed) != 3 {
		t.Fatalf("Apply: %v (%d failed)", err, len(rep.Failed))
	}
	for _, f := range rep.Failed {
		if !strings.Contains(f.Error, "Roster limit reached") {
			t.Fatalf("failure %+v", f)
		}
	}
}

// A second group for a practitioner is DPC's 403; CreateGroup turns it into the existing
// group (with the new members added), never an auth error.
func TestCreateGroupIdempotent(t *testing.T) {
	srv, sb, c := setup(t)
	npi := sb.NPIs[0]
	att, _, err := c.AttestationFor(context.Background(), npi)
	if err != nil {
		t.Fatal(err)
	}
	extra := sb.PatientIDs[sb.MBIs[1]] // a member of the other practitioner's group
	g, existed, err := c.EnsureGroup(context.Background(), npi, []string{extra}, att)
	if err != nil || !existed || g.ID != sb.GroupByNPI[npi] {
		t.Fatalf("EnsureGroup: %+v existed=%v err=%v", g.ID, existed, err)
	}
	found := false
	for _, m := range g.Member {
		found = found || m.PatientID() == extra
	}
	if !found {
		t.Fatal("the new member was not added to the existing group")
	}
	if n := srv.RequestsByMethod("POST", "/api/v1/Group/"+g.ID+"/$add"); n != 1 {
		t.Fatalf("%d $add calls", n)
	}
}

// Past DPC's practitioner limit (422 "Provider limit reached") the new practitioner's rows
// are reported with that reason; the other practitioner's rows still apply.
func TestSyncPractitionerLimit(t *testing.T) {
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(1024), dpctest.WithPractitionerLimit(1))
	t.Cleanup(srv.Close)
	sb, err := sandbox.Provision(context.Background(), srv.URL, sandbox.Options{
		Key: testKey(), Practitioners: 1, Patients: 1, Now: srv.Clock().Now})
	if err != nil {
		t.Fatal(err)
	}
	gen := srv.Generator()
	csv := header + line(sb.NPIs[0], gen.MBI(1)) + line(gen.NPI(7), gen.MBI(2)) + line(gen.NPI(7), gen.MBI(3))
	c := sb.Client()
	plan, err := roster.MakePlan(context.Background(), c, mustParse(t, csv), roster.Options{Now: srv.Clock().Now()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := roster.Apply(context.Background(), c, plan)
	if !errors.Is(err, roster.ErrPartial) || !strings.Contains(err.Error(), "roster rows 3-4") || !strings.Contains(err.Error(), "Provider limit reached") {
		t.Fatalf("Apply: %v", err)
	}
	if len(rep.Added) != 1 || rep.Added[0].Line != 2 {
		t.Fatalf("added %+v", rep.Added)
	}
}

// At the limit, with members the roster no longer lists: $add cannot make room (inactive
// members count), so sync replaces the membership with one PUT of the listed rows, up to
// the limit; the rest are reported, and a rerun changes nothing.
func TestSyncCompactsWithPut(t *testing.T) {
	const limit = 4
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(1024), dpctest.WithRosterLimit(limit))
	t.Cleanup(srv.Close)
	sb, err := sandbox.Provision(context.Background(), srv.URL, sandbox.Options{
		Key: testKey(), Practitioners: 1, Patients: limit, Now: srv.Clock().Now})
	if err != nil {
		t.Fatal(err)
	}
	gen := srv.Generator()
	npi := sb.NPIs[0]
	csv := header + line(npi, gen.MBI(0)) + line(npi, gen.MBI(1)) + line(npi, gen.MBI(10)) + line(npi, gen.MBI(11)) + line(npi, gen.MBI(12))
	ros := mustParse(t, csv)
	c := sb.Client()
	opts := roster.Options{Now: srv.Clock().Now(), RosterLimit: limit}
	plan, err := roster.MakePlan(context.Background(), c, ros, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Replace) != limit || len(plan.OverLimit) != 1 || plan.OverLimit[0].Line != 6 || len(plan.Add) != 0 || len(plan.Remove) != 2 {
		t.Fatalf("plan: %d replace, %+v over, %d add, %d remove", len(plan.Replace), plan.OverLimit, len(plan.Add), len(plan.Remove))
	}
	rep, err := roster.Apply(context.Background(), c, plan)
	if !errors.Is(err, roster.ErrPartial) || !strings.Contains(err.Error(), "roster rows 6: roster limit reached") {
		t.Fatalf("Apply: %v", err)
	}
	if len(rep.Added) != 2 || len(rep.Renewed) != 2 || len(rep.Removed) != 2 || len(rep.Failed) != 1 {
		t.Fatalf("report: %d added, %d renewed, %d removed, %d failed", len(rep.Added), len(rep.Renewed), len(rep.Removed), len(rep.Failed))
	}
	g, err := c.Group(context.Background(), sb.GroupIDs[0])
	if err != nil || len(g.Member) != limit {
		t.Fatalf("group: %d members, %v", len(g.Member), err)
	}
	if n := srv.RequestsByMethod("PUT", "/api/v1/Group/"); n != 1 {
		t.Fatalf("%d PUTs, want 1", n)
	}
	writes := srv.RequestsByMethod("PUT", "/api/v1/") + srv.RequestsByMethod("POST", "/api/v1/") - srv.RequestsByMethod("POST", "/api/v1/Token/auth")
	plan2, err := roster.MakePlan(context.Background(), c, ros, opts)
	if err != nil || !plan2.Empty() || len(plan2.OverLimit) != 1 {
		t.Fatalf("rerun plan: %+v %v", plan2, err)
	}
	if _, err := roster.Apply(context.Background(), c, plan2); !errors.Is(err, roster.ErrPartial) {
		t.Fatalf("rerun: %v", err)
	}
	if after := srv.RequestsByMethod("PUT", "/api/v1/") + srv.RequestsByMethod("POST", "/api/v1/") - srv.RequestsByMethod("POST", "/api/v1/Token/auth"); after != writes {
		t.Fatalf("rerun sent %d writes", after-writes)
	}
}
