package roster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/internal/sandboxtest"
	"github.com/dpcetl/dpcetl/extract/roster"
	"github.com/dpcetl/dpcetl/extract/sandbox"
)

var testKey = sandboxtest.Key

// After the sandbox clock jumps, tests take a new client: the sandbox stamps responses with the
// real time in Date while checking JWTs against its moved clock, and a token source that has
// measured that "skew" would correct its next assertion into the past.
func setup(t *testing.T) (*dpctest.Server, *sandbox.Sandbox, *dpc.Client) {
	t.Helper()
	srv, sb := sandboxtest.Provisioned(t)
	return srv, sb, sb.Client()
}

const header = "practitioner_npi,practitioner_given,practitioner_family,patient_mbi,patient_given,patient_family,patient_birth_date,patient_gender\n"

func line(npi, mbi string) string {
	return fmt.Sprintf("%s,Pat,Doc,%s,Ann,Lee,1950-03-04,female\n", npi, mbi)
}

func mustParse(t *testing.T, csv string) roster.Roster {
	t.Helper()
	r, err := roster.Parse(strings.NewReader(csv))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return r
}

func TestParseErrorsNameRowAndColumn(t *testing.T) {
	tests := []struct {
		name, csv string
		want      []string
	}{
		{"missing column", "practitioner_npi,patient_mbi\n", []string{"row 1, column patient_given: required column is missing"}},
		{"bad cells", header +
			"1234567890,A,B,1EG4TE5MK73,Ann,Lee,1950-03-04,female\n" +
			"1234567893,A,B,1SG4TE5MK73,Ann,Lee,1950-02-30,F\n",
			[]string{"row 2, column practitioner_npi: NPI \"1234567890\": check digit",
				"row 3, column patient_mbi", "row 3, column patient_birth_date", "row 3, column patient_gender"}},
		{"short row", header + "1234567893,A,B,1EG4TE5MK73\n", []string{"row 2: has 4 fields, the header has 8"}},
		{"duplicate", header + line("1234567893", "1EG4TE5MK73") + line("1234567893", "1EG4TE5MK73"), []string{"row 3: repeats row 2"}},
		{"conflicting patient", header + line("1234567893", "1EG4TE5MK73") +
			"1234329724,A,B,1EG4TE5MK73,Bob,Lee,1950-03-04,male\n", []string{"row 3, column patient_mbi: patient 1EG4TE5MK73 has different"}},
		{"empty", "", []string{"empty file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := roster.Parse(strings.NewReader(tt.csv))
			if err == nil || !errors.Is(err, dpc.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
	r := mustParse(t, "NPI,MBI,given,family,birth_date,gender\n1234567893,1eg4te5mk73,Ann,Lee,1950-03-04,Female\n")
	if r.Rows[0].MBI != "1EG4TE5MK73" || r.Rows[0].Gender != "female" || r.Rows[0].Line != 2 {
		t.Errorf("aliases/normalisation: %+v", r.Rows[0])
	}
}

func TestSyncPlanApplyRerun(t *testing.T) {
	srv, sb, c := setup(t)
	ctx := context.Background()
	gen := srv.Generator()
	npi0, npiNew := sb.NPIs[0], gen.NPI(5)
	// Practitioner 0 keeps MBIs 0 and 2, drops 4, gains new patient 100; a new practitioner
	// gets new patient 101 and existing patient 0. Practitioner 1 is not in the file: untouched.
	csv := header + line(npi0, sb.MBIs[0]) + line(npi0, sb.MBIs[2]) + line(npi0, gen.MBI(100)) +
		line(npiNew, gen.MBI(101)) + line(npiNew, sb.MBIs[0])
	ros := mustParse(t, csv)
	opts := roster.Options{Now: srv.Clock().Now()}
	plan, err := roster.MakePlan(ctx, c, ros, opts)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("practs=%d pats=%d groups=%v add=%d renew=%d remove=%d unchanged=%d",
		len(plan.CreatePractitioners), len(plan.CreatePatients), plan.CreateGroups, len(plan.Add), len(plan.Renew), len(plan.Remove), plan.Unchanged)
	want := fmt.Sprintf("practs=1 pats=2 groups=[%s] add=3 renew=0 remove=1 unchanged=2", npiNew)
	if got != want {
		t.Fatalf("plan: %s\nwant  %s", got, want)
	}
	if plan.Remove[0].MBI != sb.MBIs[4] {
		t.Errorf("remove %+v, want MBI %s", plan.Remove[0], sb.MBIs[4])
	}
	rep, err := roster.Apply(ctx, c, plan)
	if err != nil {
		t.Fatalf("Apply: %v (%+v)", err, rep.Failed)
	}
	if len(rep.Added) != 3 || len(rep.Removed) != 1 || len(rep.CreatedGroups) != 1 || len(rep.CreatedPatients) != 2 || len(rep.CreatedPractitioners) != 1 {
		t.Fatalf("report: %+v", rep)
	}
	for _, a := range rep.Added {
		if a.End.Sub(srv.Clock().Now()) < 89*24*time.Hour {
			t.Errorf("added %s lapses at %v, want ~90 days on", a.MBI, a.End)
		}
	}
	// The second run finds nothing to do.
	plan2, err := roster.MakePlan(ctx, c, ros, roster.Options{Now: srv.Clock().Now()})
	if err != nil {
		t.Fatal(err)
	}
	if !plan2.Empty() || plan2.Unchanged != 5 {
		t.Fatalf("rerun plan not empty: %+v", plan2)
	}
	// Practitioner 1's group is untouched.
	g1, err := c.Group(ctx, sb.GroupByNPI[sb.NPIs[1]])
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range g1.Member {
		if !m.Active(srv.Clock().Now()) {
			t.Errorf("practitioner 1's member %s was changed", m.PatientID())
		}
	}

	// 80 days on, every attribution lapses within 14 days: sync renews all five.
	srv.Clock().Advance(80 * 24 * time.Hour)
	c = sb.Client() // see freshClient
	now := srv.Clock().Now()
	exp, err := roster.Expiring(ctx, c, now, roster.DefaultRenewWindow, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp) != 8 { // 5 from the roster + practitioner 1's 3
		t.Fatalf("Expiring = %d, want 8: %+v", len(exp), exp)
	}
	plan3, err := roster.MakePlan(ctx, c, ros, roster.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan3.Renew) != 5 || len(plan3.Add) != 0 {
		t.Fatalf("plan after 80 days: renew=%d add=%d", len(plan3.Renew), len(plan3.Add))
	}
	rep3, err := roster.Apply(ctx, c, plan3)
	if err != nil || len(rep3.Renewed) != 5 {
		t.Fatalf("renew: %v %+v", err, rep3)
	}
	for _, a := range rep3.Renewed {
		if a.End.Sub(now) < 89*24*time.Hour {
			t.Errorf("renewed %s still lapses at %v", a.MBI, a.End)
		}
	}
	exp, _ = roster.Expiring(ctx, c, srv.Clock().Now(), roster.DefaultRenewWindow, false)
	if len(exp) != 3 {
		t.Errorf("after renewal %d expiring, want practitioner 1's 3", len(exp))
	}

	// 20 more days: practitioner 1's attributions (not in the roster) have lapsed, and so has
	// the period of the member removed above (DPC's Group cannot tell the two apart).
	srv.Clock().Advance(20 * 24 * time.Hour)
	c = sb.Client()
	lapsed, err := roster.Expiring(ctx, c, srv.Clock().Now(), roster.DefaultRenewWindow, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(lapsed) != 4 || lapsed[0].Status != "expired" {
		t.Errorf("lapsed = %+v", lapsed)
	}
}

func TestSyncLapsedAreReAdded(t *testing.T) {
	srv, sb, _ := setup(t)
	ctx := context.Background()
	ros := mustParse(t, header+line(sb.NPIs[0], sb.MBIs[0])+line(sb.NPIs[0], sb.MBIs[2])+line(sb.NPIs[0], sb.MBIs[4]))
	srv.Clock().Advance(91 * 24 * time.Hour)
	c := sb.Client()
	plan, err := roster.MakePlan(ctx, c, ros, roster.Options{Now: srv.Clock().Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Add) != 3 || plan.Add[0].Status != "expired" {
		t.Fatalf("plan: %+v", plan.Add)
	}
	rep, err := roster.Apply(ctx, c, plan)
	if err != nil || len(rep.Added) != 3 {
		t.Fatalf("Apply: %v %+v", err, rep)
	}
	g, _ := c.Group(ctx, sb.GroupIDs[0])
	for _, m := range g.Member {
		if !m.Active(srv.Clock().Now()) {
			t.Errorf("member %s still inactive", m.PatientID())
		}
	}
}

func TestSyncPartialFailureNamesRowsAndRerunFinishes(t *testing.T) {
	srv, sb, c := setup(t)
	ctx := context.Background()
	gen := srv.Generator()
	csv := header + line(sb.NPIs[0], gen.MBI(200)) + line(sb.NPIs[1], gen.MBI(201)) + line(sb.NPIs[1], gen.MBI(202))
	ros := mustParse(t, csv)
	// Practitioner 1's group refuses additions (a server error, retryable).
	gid := sb.GroupByNPI[sb.NPIs[1]]
	srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultServerError, Path: "/Group/" + gid + "/$add"}}})
	plan, err := roster.MakePlan(ctx, c, ros, roster.Options{Now: srv.Clock().Now()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := roster.Apply(ctx, c, plan)
	if !errors.Is(err, roster.ErrPartial) || !errors.Is(err, extract.ErrRetryable) {
		t.Fatalf("err = %v, want ErrPartial and ErrRetryable", err)
	}
	var failedRows []int
	for _, f := range rep.Failed {
		failedRows = append(failedRows, f.Lines...)
	}
	if fmt.Sprint(failedRows) != "[3 4]" || len(rep.Added) != 1 || rep.Added[0].Line != 2 {
		t.Fatalf("failed rows %v, added %+v", failedRows, rep.Added)
	}
	srv.SetFaults(dpctest.Faults{})
	plan2, err := roster.MakePlan(ctx, c, ros, roster.Options{Now: srv.Clock().Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan2.Add) != 2 || len(plan2.CreatePatients) != 0 || plan2.Add[0].Line != 3 {
		t.Fatalf("rerun plan: %+v", plan2)
	}
	rep2, err := roster.Apply(ctx, c, plan2)
	if err != nil || len(rep2.Added) != 2 {
		t.Fatalf("rerun: %v %+v", err, rep2)
	}
}

func TestPlanNeedsNamesForNewPractitioner(t *testing.T) {
	srv, _, c := setup(t)
	ros := mustParse(t, "practitioner_npi,patient_mbi,patient_given,patient_family,patient_birth_date,patient_gender\n"+
		srv.Generator().NPI(9)+",1EG4TE5MK73,Ann,Lee,1950-03-04,female\n")
	_, err := roster.MakePlan(context.Background(), c, ros, roster.Options{})
	if !errors.Is(err, dpc.ErrInvalid) || !strings.Contains(err.Error(), "row 2, column practitioner_family") {
		t.Fatalf("err = %v", err)
	}
}

// A failed $submit falls back to one-by-one creation, so exactly the bad row is reported.
func TestSyncSubmitFailureIsolatesRow(t *testing.T) {
	srv, sb, c := setup(t)
	ctx := context.Background()
	gen := srv.Generator()
	ros := mustParse(t, header+line(sb.NPIs[0], gen.MBI(300))+line(sb.NPIs[0], gen.MBI(301)))
	// $submit fails; then the single create of the second patient fails too.
	srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{
		{Kind: dpctest.FaultServerError, Path: "/Patient/$submit"},
		{Kind: dpctest.FaultServerError, Path: "/Patient", Method: "POST", Skip: 1, Count: 1},
	}})
	plan, err := roster.MakePlan(ctx, c, ros, roster.Options{Now: srv.Clock().Now()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := roster.Apply(ctx, c, plan)
	if !errors.Is(err, roster.ErrPartial) {
		t.Fatalf("err = %v", err)
	}
	if len(rep.Failed) != 2 || rep.Failed[0].Action != "create patient" || fmt.Sprint(rep.Failed[0].Lines) != "[3]" ||
		rep.Failed[1].Action != "attribute" || len(rep.Added) != 1 || rep.Added[0].Line != 2 {
		t.Fatalf("report: %+v", rep)
	}
}

func TestParseSyntheticMBIOnlyWhenAllowed(t *testing.T) {
	csv := header + line("1234567893", "1S00E00AA02")
	if _, err := roster.Parse(strings.NewReader(csv)); err == nil || !strings.Contains(err.Error(), "row 2, column patient_mbi") {
		t.Fatalf("strict Parse: %v", err)
	}
	r, err := roster.ParseWith(strings.NewReader(csv), roster.ParseOptions{AllowSyntheticMBI: true})
	if err != nil || r.Rows[0].MBI != "1S00E00AA02" {
		t.Fatalf("ParseWith synthetic: %+v %v", r, err)
	}
}
