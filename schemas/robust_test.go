package schemas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/transform"
)

// checkRun runs the views over one NDJSON input, feeding every batch to a Checker.
func checkRun(t *testing.T, version string, ndjson []byte, opts ...transform.Option) (*Checker, transform.Stats) {
	t.Helper()
	views, err := Views(version)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := transform.New(views, opts...)
	if err != nil {
		t.Fatal(err)
	}
	chk := NewChecker()
	src := transform.Source{Name: "in.ndjson", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(ndjson)), nil }}
	batches := 0
	st, err := eng.Run(context.Background(), []transform.Source{src}, chk.Wrap(func(b transform.Batch) error {
		defer b.Record.Release()
		batches++
		return nil
	}))
	if batches == 0 {
		t.Error("Wrap passed no batch on")
	}
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return chk, st
}

func oneSource(ndjson []byte) ([]string, map[string][]byte) {
	return []string{"in.ndjson"}, map[string][]byte{"in.ndjson": ndjson}
}

func TestMissingOptionalFieldsGiveNulls(t *testing.T) {
	for _, version := range []string{STU3, R4} {
		t.Run(version, func(t *testing.T) {
			in := []byte(`{"resourceType":"ExplanationOfBenefit","id":"carrier-1","type":{"coding":[{"system":"https://bluebutton.cms.gov/resources/codesystem/eob-type","code":"CARRIER"}]},"item":[{"sequence":1}],"diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"code":"E11.65"}]}}]}
{"resourceType":"Coverage","id":"part-a-1"}
{"resourceType":"Patient","id":"1"}
{"resourceType":"OperationOutcome"}
`)
			out, _ := runEngine(t, version, []string{"in.ndjson"}, map[string][]byte{"in.ndjson": in})
			want := map[string]int{TableEOB: 1, TableEOBAmount: 0, TableEOBLineAmount: 0, TableEOBLine: 1, TableEOBDiagnosis: 1, TableEOBProcedure: 0, TableEOBCareTeam: 0,
				TableCoverage: 1, TableCoverageMonth: 12, TablePatient: 1, TableExportError: 1}
			set := map[string]map[string]string{
				TableEOB:           {"eob_id": "carrier-1", "claim_type": "CARRIER", "claim_type_raw": "CARRIER", "claim_type_system": "https://bluebutton.cms.gov/resources/codesystem/eob-type"},
				TableEOBLine:       {"eob_id": "carrier-1", "claim_type": "CARRIER", "line_number": "1"},
				TableEOBDiagnosis:  {"eob_id": "carrier-1", "claim_type": "CARRIER", "sequence": "1", "code": "E1165", "is_principal": "false"},
				TableCoverage:      {"coverage_id": "part-a-1"},
				TableCoverageMonth: {"coverage_id": "part-a-1", "month": "*"},
				TablePatient:       {"patient_id": "1"},
			}
			for table, n := range want {
				tr := out[table]
				if len(tr.rows) != n {
					t.Fatalf("%s: %d rows, want %d", table, len(tr.rows), n)
				}
				for _, r := range tr.rows {
					for i, c := range tr.cols {
						exp, has := set[table][c]
						got := r.vals[i]
						switch {
						case has && exp == "*":
							if got == nil {
								t.Errorf("%s.%s is null", table, c)
							}
						case has:
							if got == nil || *got != exp {
								t.Errorf("%s.%s = %s, want %s", table, c, str(got), exp)
							}
						case got != nil:
							t.Errorf("%s.%s = %q, want null (field absent)", table, c, *got)
						}
					}
				}
			}
		})
	}
}

// addUnknown adds unknown members at every object level of a JSON value.
func addUnknown(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = addUnknown(e)
		}
		x["zzUnknownField"] = map[string]any{"nested": []any{1, "two", nil}, "amount": 1e300}
		return x
	case []any:
		for i, e := range x {
			x[i] = addUnknown(e)
		}
	}
	return v
}

func TestUnknownFieldsIgnored(t *testing.T) {
	for _, version := range []string{STU3, R4} {
		t.Run(version, func(t *testing.T) {
			dir, names := goldenSamples(version)
			names, data := sampleNames(t, dir, names...)
			noisy := map[string][]byte{}
			for _, n := range names {
				var out bytes.Buffer
				for _, line := range bytes.Split(bytes.TrimSpace(data[n]), []byte("\n")) {
					var v any
					if err := json.Unmarshal(line, &v); err != nil {
						t.Fatal(err)
					}
					b, err := json.Marshal(addUnknown(v))
					if err != nil {
						t.Fatal(err)
					}
					out.Write(b)
					out.WriteByte('\n')
				}
				if !bytes.Contains(out.Bytes(), []byte("zzUnknownField")) {
					t.Fatal("no unknown field injected")
				}
				noisy[n] = out.Bytes()
			}
			clean, _ := runEngine(t, version, names, data)
			dirty, _ := runEngine(t, version, names, noisy)
			for _, table := range Tables() {
				if !reflect.DeepEqual(clean[table].rows, dirty[table].rows) {
					t.Errorf("%s: rows change when unknown fields are added", table)
				}
			}
		})
	}
}

func TestUnknownClaimTypeIsNullAndCounted(t *testing.T) {
	for _, version := range []string{STU3, R4} {
		t.Run(version, func(t *testing.T) {
			dir := strings.ToLower(version)
			carrier := ndjsonLines(t, filepath.Join(bfdDir, dir, "eobReadCarrier.json"))
			unknown := bytes.Replace(carrier, []byte(`"code":"CARRIER"`), []byte(`"code":"PARTB_PHYS"`), 1)
			missing := bytes.Replace(carrier, []byte(`"system":"https://bluebutton.cms.gov/resources/codesystem/eob-type","code":"CARRIER"`),
				[]byte(`"system":"https://example.org/other","code":"CARRIER"`), 1)
			missing = bytes.Replace(missing, []byte(`"id":"carrier-9991831999"`), []byte(`"id":"carrier-2"`), 1)
			if bytes.Equal(unknown, carrier) || bytes.Equal(missing, carrier) {
				t.Fatal("sample edit did not apply")
			}
			in := append(append(append([]byte(nil), carrier...), unknown...), missing...)
			names, data := oneSource(in)
			out, st := runEngine(t, version, names, data)
			if st.Quarantined != 0 || st.Resources != 3 {
				t.Fatalf("stats %+v, want 3 resources, none quarantined", st)
			}
			eob := out[TableEOB]
			if len(eob.rows) != 3 {
				t.Fatalf("%d eob rows, want 3 (an unknown type still gives a row)", len(eob.rows))
			}
			// Without any eob-type coding the claim falls back on the other codings: R4 BFD also sends
			// the HL7 claim-type (professional: CARRIER); STU3 sends only nch_clm_type_cd (71), kept raw.
			wantType := []string{"CARRIER", "<null>", "<null>"}
			wantRaw := []string{"CARRIER", "PARTB_PHYS", "71"}
			wantUnknown := int64(2)
			if version == R4 {
				wantType[2], wantRaw[2], wantUnknown = "CARRIER", "professional", 1
			}
			for i, r := range eob.rows {
				if got := str(eob.get(t, r, "claim_type")); got != wantType[i] {
					t.Errorf("row %d claim_type %s, want %s", i, got, wantType[i])
				}
				if got := str(eob.get(t, r, "claim_type_raw")); got != wantRaw[i] {
					t.Errorf("row %d claim_type_raw %s, want %s", i, got, wantRaw[i])
				}
				if got := str(eob.get(t, r, "payment_amount")); got != "199.99" {
					t.Errorf("row %d payment_amount %s: the rest of the claim must still be read", i, got)
				}
			}
			if n := len(out[TableEOBLine].rows); n != 3 {
				t.Errorf("%d eob_line rows, want 3", n)
			}
			chk, _ := checkRun(t, version, in)
			if got := chk.Count(TableEOB, WarnUnknownClaimType); got != wantUnknown {
				t.Errorf("counted %d unknown claim types, want %d; warnings %v", got, wantUnknown, chk.Warnings())
			}
			var ws []Warning
			for _, w := range chk.Warnings() {
				if w.Kind != WarnInvalidRenderingNPI { // the sample's rendering number is not a valid NPI
					ws = append(ws, w)
				}
			}
			if len(ws) != 1 || int64(len(ws[0].Examples)) != wantUnknown || !strings.Contains(ws[0].String(), "PARTB_PHYS") {
				t.Errorf("warnings %v", ws)
			}
		})
	}
}

func TestCheckerOnGoldenSamplesIsQuiet(t *testing.T) {
	for _, version := range []string{STU3, R4} {
		dir, names := goldenSamples(version)
		var all []byte
		for _, n := range names {
			all = append(all, ndjsonLines(t, filepath.Join(bfdDir, dir, n))...)
		}
		chk, st := checkRun(t, version, all)
		// The BFD samples use made-up provider numbers: the only warning is that the lines'
		// rendering identifiers are not valid NPIs (so rendering_npi is null, the raw value kept).
		for _, w := range chk.Warnings() {
			if w.Kind != WarnInvalidRenderingNPI {
				t.Errorf("%s: warning on real samples: %v", version, w)
			}
		}
		if n := chk.Count(TableEOBLine, WarnInvalidRenderingNPI); n != 7 {
			t.Errorf("%s: %d invalid rendering NPIs, want 7 (every non-PDE sample line)", version, n)
		}
		if st.Resources == 0 {
			t.Errorf("%s: nothing read", version)
		}
	}
}

// TestRenderingLookupHasNoBound pins the care-team lookup to the %context form (no generated
// iif() tree, so no largest sequence).
func TestRenderingLookupHasNoBound(t *testing.T) {
	for dir, link := range map[string]string{"stu3": "careTeamLinkId", "r4": "careTeamSequence"} {
		b, err := os.ReadFile(filepath.Join(dir, "eob_line.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := "%resource.careTeam.where(sequence = %context." + link + ".first()).provider.identifier.value.first()"
		if !bytes.Contains(b, []byte(want)) || bytes.Contains(b, []byte("where(sequence = 1)")) {
			t.Errorf("%s/eob_line.json: rendering_npi is not the %%context lookup %s", dir, want)
		}
	}
}

// TestRenderingLookupAnySequence resolves links above the old 128 cap, and counts the links
// that name no care team member with an NPI (a member without identifier, a missing member).
func TestRenderingLookupAnySequence(t *testing.T) {
	for _, version := range []string{STU3, R4} {
		link := "careTeamLinkId"
		if version == R4 {
			link = "careTeamSequence"
		}
		in := []byte(`{"resourceType":"ExplanationOfBenefit","id":"carrier-7","type":{"coding":[{"system":"https://bluebutton.cms.gov/resources/codesystem/eob-type","code":"CARRIER"}]},` +
			`"careTeam":[{"sequence":128,"provider":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}}},{"sequence":129,"provider":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1023011079"}}},` +
			`{"sequence":1000,"provider":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1750384806"}}},{"sequence":5,"provider":{"reference":"#x"}}],` +
			`"item":[{"sequence":1,"` + link + `":[128]},{"sequence":2,"` + link + `":[129,128]},{"sequence":3},` +
			`{"sequence":4,"` + link + `":[1000]},{"sequence":5,"` + link + `":[5]},{"sequence":6,"` + link + `":[7]}]}` + "\n")
		out, _ := runEngine(t, version, []string{"in"}, map[string][]byte{"in": in})
		lines := out[TableEOBLine]
		want := []string{"1234567893", "1023011079", "<null>", "1750384806", "<null>", "<null>"}
		if len(lines.rows) != len(want) {
			t.Fatalf("%s: %d lines, want %d", version, len(lines.rows), len(want))
		}
		for i, r := range lines.rows {
			if got := str(lines.get(t, r, "rendering_npi")); got != want[i] {
				t.Errorf("%s: line %d rendering_npi %s, want %s", version, i+1, got, want[i])
			}
		}
		chk, _ := checkRun(t, version, in)
		if n := chk.Count(TableEOBLine, WarnUnresolvedRendering); n != 2 {
			t.Errorf("%s: unresolved rendering counted %d, want 2 (sequences 5 and 7) (%v)", version, n, chk.Warnings())
		}
	}
}

// dropMembers deletes each object member (below the top level's resourceType/id) with
// probability 1/n, recursively, using a deterministic source.
func dropMembers(v any, rnd *rand.Rand, n int, top bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if !(top && (k == "resourceType" || k == "id")) && rnd.Intn(n) == 0 {
				delete(x, k)
				continue
			}
			x[k] = dropMembers(e, rnd, n, false)
		}
	case []any:
		for i, e := range x {
			x[i] = dropMembers(e, rnd, n, false)
		}
	}
	return v
}

// TestRandomlyMissingFieldsNeverFail deletes random members from every real sample (many
// variants) and checks that every line still transforms: absent data must give nulls or fewer
// child rows, never an error, a quarantined line or a panic.
func TestRandomlyMissingFieldsNeverFail(t *testing.T) {
	for _, version := range []string{STU3, R4} {
		t.Run(version, func(t *testing.T) {
			dir, names := goldenSamples(version)
			_, data := sampleNames(t, dir, names...)
			rnd := rand.New(rand.NewSource(42))
			var in bytes.Buffer
			lines := 0
			for variant := 0; variant < 40; variant++ {
				for _, n := range names {
					for _, line := range bytes.Split(bytes.TrimSpace(data[n]), []byte("\n")) {
						var v any
						if err := json.Unmarshal(line, &v); err != nil {
							t.Fatal(err)
						}
						b, err := json.Marshal(dropMembers(v, rnd, 2+variant%8, true))
						if err != nil {
							t.Fatal(err)
						}
						in.Write(b)
						in.WriteByte('\n')
						lines++
					}
				}
			}
			views, err := Views(version)
			if err != nil {
				t.Fatal(err)
			}
			var bad []string
			eng, err := transform.New(views, transform.WithQuarantine(transform.QuarantineFunc(func(_ context.Context, r transform.QuarantineRecord) error {
				if len(bad) < 5 {
					bad = append(bad, r.Err)
				}
				return nil
			})), transform.WithThreshold(-1, -1))
			if err != nil {
				t.Fatal(err)
			}
			src := transform.Source{Name: "mutated.ndjson", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(in.Bytes())), nil }}
			st, err := eng.Run(context.Background(), []transform.Source{src}, func(b transform.Batch) error { b.Record.Release(); return nil })
			if err != nil {
				t.Fatal(err)
			}
			if st.Quarantined != 0 {
				t.Errorf("%d of %d lines quarantined, e.g. %v", st.Quarantined, lines, bad)
			}
			if st.Lines != int64(lines) {
				t.Errorf("read %d lines, wrote %d", st.Lines, lines)
			}
		})
	}
}

// TestTaxNumberNeverAnNPI: a provider tax number (STU3: a care team member with the tax_num
// system; R4: the tax_num line extension) lands in provider_tax_number and never in an NPI
// column, even when it is ten digits with a valid check digit.
func TestTaxNumberNeverAnNPI(t *testing.T) {
	const tax = "1234567893" // passes the NPI Luhn check
	cases := map[string]string{
		STU3: `{"resourceType":"ExplanationOfBenefit","id":"carrier-1","type":{"coding":[{"system":"https://bluebutton.cms.gov/resources/codesystem/eob-type","code":"CARRIER"}]},` +
			`"careTeam":[{"sequence":1,"provider":{"identifier":{"system":"https://bluebutton.cms.gov/resources/variables/tax_num","value":"` + tax + `"}},"role":{"coding":[{"code":"primary"}]}},` +
			`{"sequence":2,"provider":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1750384806"}},"role":{"coding":[{"code":"primary"}]}}],` +
			`"item":[{"sequence":1,"careTeamLinkId":[1,2]}]}`,
		R4: `{"resourceType":"ExplanationOfBenefit","id":"carrier-1","type":{"coding":[{"system":"https://bluebutton.cms.gov/resources/codesystem/eob-type","code":"CARRIER"}]},` +
			`"careTeam":[{"sequence":1,"provider":{"identifier":{"type":{"coding":[{"code":"npi"}]},"value":"1750384806"}},"role":{"coding":[{"code":"performing"}]}}],` +
			`"item":[{"sequence":1,"careTeamSequence":[1],"extension":[{"url":"https://bluebutton.cms.gov/resources/variables/tax_num","valueCoding":{"system":"https://bluebutton.cms.gov/resources/variables/tax_num","code":"` + tax + `"}}]}]}`,
	}
	for version, in := range cases {
		out, _ := runEngine(t, version, []string{"in"}, map[string][]byte{"in": []byte(in + "\n")})
		line := out[TableEOBLine]
		if len(line.rows) != 1 {
			t.Fatalf("%s: %d lines", version, len(line.rows))
		}
		r := line.rows[0]
		if got := str(line.get(t, r, "provider_tax_number")); got != tax {
			t.Errorf("%s: provider_tax_number %s", version, got)
		}
		if got := str(line.get(t, r, "rendering_npi")); got == tax {
			t.Errorf("%s: the tax number landed in rendering_npi", version)
		}
		ct := out[TableEOBCareTeam]
		for _, cr := range ct.rows {
			if str(ct.get(t, cr, "npi")) == tax {
				t.Errorf("%s: the tax number landed in eob_care_team.npi", version)
			}
		}
		for _, lr := range out[TableEOBLineCareTeam].rows {
			if str(out[TableEOBLineCareTeam].get(t, lr, "npi")) == tax {
				t.Errorf("%s: the tax number landed in eob_line_care_team.npi", version)
			}
		}
	}
}

// TestCheckerLimit: the warning threshold fails only above the limit, naming the counts.
func TestCheckerLimit(t *testing.T) {
	dir, names := goldenSamples(R4)
	var all []byte
	for _, n := range names {
		all = append(all, ndjsonLines(t, filepath.Join(bfdDir, dir, n))...)
	}
	chk, _ := checkRun(t, R4, all) // 7 invalid rendering NPIs
	for max, fail := range map[int]bool{-1: false, 7: false, 100: false, 6: true, 0: true} {
		err := chk.Limit(max)
		if fail != (err != nil) || fail && (!errors.Is(err, ErrTooManyWarnings) || !strings.Contains(err.Error(), "eob_line.invalid_rendering_npi 7")) {
			t.Errorf("limit %d: %v", max, err)
		}
	}
}
