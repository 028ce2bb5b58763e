package schemas

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
	"github.com/dpcetl/dpcetl/transform"
)

const (
	bulkDir      = "../testdata/bulk"
	claimTypeSys = "http://terminology.hl7.org/CodeSystem/claim-type"
)

func typedSource(name, typ string, b []byte) transform.Source {
	return transform.Source{Name: name, Type: typ, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

func readBulk(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bulkDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCARINClaims flattens CARIN-shaped EOBs from a non-CMS R4 payer (testdata/bulk/carin-eob.ndjson):
// detected R4, claim type from the HL7 claim-type coding, dateTimes in date columns keep the date
// as written with the instant beside it, and float-artifact money quarantines nothing under
// round_half_even (every rounding counted) while strict still refuses it.
func TestCARINClaims(t *testing.T) {
	in := readBulk(t, "carin-eob.ndjson")
	if v, decided, err := DetectVersion(bytes.NewReader(in)); err != nil || !decided || v != R4 {
		t.Fatalf("DetectVersion = %s %v %v, want R4", v, decided, err)
	}
	views, err := Views(R4)
	if err != nil {
		t.Fatal(err)
	}
	src := typedSource("carin-eob.ndjson", "ExplanationOfBenefit", in)
	out, st := runSources(t, views, []transform.Source{src}, transform.WithMoneyPolicy(transform.MoneyRoundHalfEven))
	if st.Quarantined != 0 || st.Resources != 7 {
		t.Fatalf("stats %+v, want 7 resources and none quarantined", st)
	}
	if st.Rounded["eob.payment_amount"] != 2 || len(st.Rounded) != 1 {
		t.Errorf("Rounded = %v, want eob.payment_amount: 2 (112.41600000000001 and 12.345)", st.Rounded)
	}
	eob := out[TableEOB]
	want := []struct{ id, typ, raw, sys, start, startTS, end, endTS, paid string }{
		{"inp-1", "INPATIENT", "institutional", claimTypeSys, "2021-03-05", "2021-03-05T15:00:00.000000Z", "2021-03-09", "2021-03-10T04:30:00.000000Z", "112.42"},
		{"out-1", "OUTPATIENT", "institutional", claimTypeSys, "2020-09-29", "<null>", "2020-09-29", "<null>", "75.50"},
		{"inst-1", "INSTITUTIONAL", "institutional", claimTypeSys, "2020-10-01", "<null>", "2020-10-02", "<null>", "10.00"},
		{"prof-1", "CARRIER", "professional", claimTypeSys, "2020-08-04", "2020-08-04T09:30:00.000000Z", "2020-08-04", "2020-08-04T09:30:00.000000Z", "58.30"},
		{"rx-1", "PDE", "pharmacy", claimTypeSys, "2020-06-01", "<null>", "2020-06-01", "<null>", "12.34"},
		{"oral-1", "ORAL", "oral", claimTypeSys, "2021-01-12", "<null>", "2021-01-12", "<null>", "80.00"},
		{"own-1", "<null>", "DENTAL-X", "https://payer.example.org/claim-type", "2021-02-01", "<null>", "2021-02-01", "<null>", "5.00"},
	}
	if len(eob.rows) != len(want) {
		t.Fatalf("%d eob rows, want %d", len(eob.rows), len(want))
	}
	for i, w := range want {
		r := eob.rows[i]
		got := []string{str(eob.get(t, r, "eob_id")), str(eob.get(t, r, "claim_type")), str(eob.get(t, r, "claim_type_raw")), str(eob.get(t, r, "claim_type_system")),
			str(eob.get(t, r, "billable_period_start")), str(eob.get(t, r, "billable_period_start_ts")),
			str(eob.get(t, r, "billable_period_end")), str(eob.get(t, r, "billable_period_end_ts")), str(eob.get(t, r, "payment_amount"))}
		exp := []string{w.id, w.typ, w.raw, w.sys, w.start, w.startTS, w.end, w.endTS, w.paid}
		if strings.Join(got, " ") != strings.Join(exp, " ") {
			t.Errorf("eob row %d:\n got %v\nwant %v", i, got, exp)
		}
	}
	// Child tables carry the same claim type.
	for _, r := range out[TableEOBLine].rows {
		if id, ct := str(out[TableEOBLine].get(t, r, "eob_id")), str(out[TableEOBLine].get(t, r, "claim_type")); id == "rx-1" && ct != "PDE" {
			t.Errorf("eob_line %s claim_type %s", id, ct)
		}
	}
	// Only the payer-local type is unknown to the checker.
	chk, _ := checkRun(t, R4, in, transform.WithMoneyPolicy(transform.MoneyRoundHalfEven))
	if got := chk.Count(TableEOB, WarnUnknownClaimType); got != 1 {
		t.Errorf("unknown_claim_type %d, want 1 (own-1): %v", got, chk.Warnings())
	}
	// strict refuses the two amounts with digits beyond the cents.
	_, st = runSources(t, views, []transform.Source{src}, transform.WithQuarantine(transform.QuarantineFunc(func(_ context.Context, r transform.QuarantineRecord) error {
		if !strings.Contains(r.Err, `column "payment_amount" (decimal(15,2))`) || !strings.Contains(r.Err, "more than 2 decimal places") {
			t.Errorf("strict quarantine %s line %d: %s", r.File, r.Line, r.Err)
		}
		return nil
	})), transform.WithThreshold(-1, -1))
	if st.Quarantined != 2 {
		t.Errorf("strict quarantined %d, want 2", st.Quarantined)
	}
	// exact keeps every digit.
	out, st = runSources(t, views, []transform.Source{src}, transform.WithMoneyPolicy(transform.MoneyExact))
	if got := str(out[TableEOB].get(t, out[TableEOB].rows[0], "payment_amount")); st.Quarantined != 0 || got != "112.416000000000010000" {
		t.Errorf("exact: payment_amount %s, %d quarantined", got, st.Quarantined)
	}
}

// TestDialectFilesByVersionAndType takes the files a BCDA or AB2D (R4) export delivers, as the
// sandbox's dialects serve them (synth R4 claims, Patient and Coverage, OperationOutcome error
// files) plus a bulk deleted[] file: the claims are detected R4 from their shape, and each file,
// typed by its manifest entry, lands in its tables with nothing quarantined.
func TestDialectFilesByVersionAndType(t *testing.T) {
	g := synth.New(synth.Options{Seed: 15, Version: synth.R4, Epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	files := map[string][]byte{}
	resources := 0
	for i := range 40 {
		for _, rt := range []string{synth.ResourcePatient, synth.ResourceCoverage, synth.ResourceEOB} {
			var n int
			files[rt], n = g.AppendNDJSON(files[rt], g.MBI(i), rt, time.Time{}, time.Time{})
			resources += n
		}
	}
	for _, rt := range []string{synth.ResourceCoverage, synth.ResourceEOB} {
		if v, decided, err := DetectVersion(bytes.NewReader(files[rt])); err != nil || !decided || v != R4 {
			t.Errorf("%s: DetectVersion = %s %v %v, want R4", rt, v, decided, err)
		}
	}
	errs := ndjsonLines(t, filepath.Join(bfdDir, "dpc", "operationoutcome.ndjson"))
	deleted := readBulk(t, "deleted.ndjson")
	for name, b := range map[string][]byte{"errors": errs, "deleted": deleted} {
		if _, decided, err := DetectVersion(bytes.NewReader(b)); err != nil || decided {
			t.Errorf("%s file decided a version (%v): it must follow the claims", name, err)
		}
	}
	views, err := Views(R4)
	if err != nil {
		t.Fatal(err)
	}
	srcs := []transform.Source{typedSource("eob.ndjson", "ExplanationOfBenefit", files[synth.ResourceEOB]),
		typedSource("patient.ndjson", "Patient", files[synth.ResourcePatient]), typedSource("coverage.ndjson", "Coverage", files[synth.ResourceCoverage]),
		typedSource("error.ndjson", "OperationOutcome", errs), typedSource("deleted.ndjson", "Bundle", deleted)}
	out, st := runSources(t, views, srcs)
	if st.Quarantined != 0 || st.Skipped != 0 {
		t.Fatalf("stats %+v: nothing may be quarantined or skipped", st)
	}
	if want := int64(resources + bytes.Count(errs, []byte("\n")) + 2); st.Resources != want {
		t.Errorf("%d resources, want %d", st.Resources, want)
	}
	bySource := func(table string) map[string]int {
		m := map[string]int{}
		for _, r := range out[table].rows {
			m[r.source]++
		}
		return m
	}
	for table, want := range map[string]string{TableEOB: "eob.ndjson", TablePatient: "patient.ndjson", TableCoverage: "coverage.ndjson",
		TableExportError: "error.ndjson", TableDeletedResource: "deleted.ndjson"} {
		got := bySource(table)
		if len(got) != 1 || got[want] == 0 {
			t.Errorf("%s rows by file %v, want only %s", table, got, want)
		}
	}
	if n := len(out[TableDeletedResource].rows); n != 5 {
		t.Errorf("%d deleted_resource rows, want 5", n)
	}
	for _, r := range out[TableEOB].rows {
		if ct := out[TableEOB].get(t, r, "claim_type"); ct == nil {
			t.Errorf("%s: null claim_type", str(out[TableEOB].get(t, r, "eob_id")))
		}
	}
	// A file typed OperationOutcome holding something else is quarantined, not guessed at.
	_, st = runSources(t, views, []transform.Source{typedSource("error.ndjson", "OperationOutcome", deleted)}, transform.WithQuarantine(transform.QuarantineFunc(
		func(context.Context, transform.QuarantineRecord) error { return nil })), transform.WithThreshold(-1, -1))
	if st.Quarantined != 2 {
		t.Errorf("Bundles in an OperationOutcome file: %d quarantined, want 2", st.Quarantined)
	}
}

// TestUserViewForCondition reads a generic SMART server's Condition file through a views_dir
// view (non-claims types have no built-in table): its dateTime onset lands in a DATE column.
func TestUserViewForCondition(t *testing.T) {
	dir := t.TempDir()
	cond := `{"resourceType":"ViewDefinition","name":"condition","resource":"Condition","status":"active","select":[{"column":[
	  {"name":"condition_id","path":"id","type":"id"},
	  {"name":"patient_id","path":"subject.getReferenceKey(Patient)","type":"string"},
	  {"name":"clinical_status","path":"clinicalStatus.coding.code.first()","type":"code"},
	  {"name":"icd10_code","path":"code.coding.where(system = 'http://hl7.org/fhir/sid/icd-10-cm').code.first()","type":"code"},
	  {"name":"onset_date","path":"onsetDateTime","type":"date","tag":[{"name":"ansi/type","value":"DATE"}]},
	  {"name":"recorded_at","path":"recordedDate","type":"dateTime","tag":[{"name":"ansi/type","value":"TIMESTAMP"}]}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "condition.json"), []byte(cond), 0o644); err != nil {
		t.Fatal(err)
	}
	vs, err := AllViews(R4, dir)
	if err != nil {
		t.Fatal(err)
	}
	data := `{"resourceType":"Condition","id":"c-1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E11.9"}]},"subject":{"reference":"Patient/p-1"},"onsetDateTime":"2019-06-30T22:00:00-07:00","recordedDate":"2019-07-01T08:15:00-04:00"}
{"resourceType":"Condition","id":"c-2","code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]},"subject":{"reference":"Patient/p-2"},"onsetDateTime":"2020-02"}
`
	out, st := runSources(t, vs, []transform.Source{typedSource("Condition.ndjson", "Condition", []byte(data))})
	if st.Quarantined != 0 {
		t.Fatalf("%d quarantined", st.Quarantined)
	}
	tr := out["condition"]
	var got []string
	for _, r := range tr.rows {
		var cells []string
		for _, c := range []string{"condition_id", "patient_id", "clinical_status", "icd10_code", "onset_date", "recorded_at"} {
			cells = append(cells, str(tr.get(t, r, c)))
		}
		got = append(got, strings.Join(cells, "|"))
	}
	want := "c-1|p-1|active|E11.9|2019-06-30|2019-07-01T12:15:00.000000Z;c-2|p-2|<null>|<null>|2020-02-01|<null>"
	if strings.Join(got, ";") != want {
		t.Errorf("condition rows\n got %s\nwant %s", strings.Join(got, ";"), want)
	}
	for _, table := range Tables() {
		if len(out[table].rows) != 0 {
			t.Errorf("built-in %s got rows from a Condition file", table)
		}
	}
}
