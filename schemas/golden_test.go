package schemas

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var eobSamples = []string{
	"eobReadCarrier.json", "eobReadDme.json", "eobReadHha.json", "eobReadHospice.json",
	"eobReadInpatient.json", "eobReadOutpatient.json", "eobReadPde.json", "eobReadSnf.json",
}

// goldenSamples are the samples each version's golden tables are built from; the other real
// samples are proven equal to these (TestSampleDuplicates).
func goldenSamples(version string) (dir string, names []string) {
	if version == STU3 {
		return "stu3", append(append([]string(nil), eobSamples...),
			"coverageSearchByPatientId.json", "patientRead.json", "patientReadWithIncludeIdentifiers.json")
	}
	return "r4", append(append([]string(nil), eobSamples...), "coverageSearchByPatientId.json", "patientRead.json")
}

func goldenRun(t *testing.T, version string) map[string]*tableRows {
	t.Helper()
	dir, names := goldenSamples(version)
	names, data := sampleNames(t, dir, names...)
	extra := []string{"f1e518f5-4977-47c6-971b-7eeaf1b433e8-0.patient.ndjson", "operationoutcome.ndjson"}
	_, dpc := sampleNames(t, "dpc", extra...)
	if version == STU3 {
		// The DPC Patient export file is STU3; the error file shape is the same for both versions.
		names = append(names, extra...)
	} else {
		names = append(names, extra[1])
	}
	for k, v := range dpc {
		data[k] = v
	}
	// A bulk deleted[] file (Bundles of DELETE entries): the same for both versions.
	_, bulk := sampleNames(t, "../bulk", "deleted.ndjson")
	names, data["deleted.ndjson"] = append(names, "deleted.ndjson"), bulk["deleted.ndjson"]
	out, _ := runEngine(t, version, names, data)
	return out
}

// TestGolden compares every table produced from every real sample with testdata/golden/{stu3,r4}.
func TestGolden(t *testing.T) {
	for _, version := range []string{STU3, R4} {
		t.Run(version, func(t *testing.T) {
			out := goldenRun(t, version)
			for _, table := range Tables() {
				tr := out[table]
				if len(tr.rows) == 0 {
					t.Errorf("%s: no rows from the samples", table)
				}
				checkGolden(t, filepath.Join(goldenDir, strings.ToLower(version), table+".json"), goldenJSON(table, version, tr))
			}
		})
	}
}

// TestSampleDuplicates proves the real samples left out of the golden set give exactly the rows
// of the samples in it: the searchset Bundles repeat the single reads.
func TestSampleDuplicates(t *testing.T) {
	rowsOf := func(t *testing.T, files ...string) map[string]*tableRows {
		names, data := sampleNames(t, "stu3", files...)
		out, _ := runEngine(t, STU3, names, data)
		return out
	}
	values := func(tr *tableRows) [][]*string {
		var v [][]*string
		for _, r := range tr.rows {
			v = append(v, r.vals)
		}
		return v
	}
	cases := []struct {
		name  string
		dup   []string
		reads []string
	}{
		{"eobByPatientIdAll", []string{"eobByPatientIdAll.json"}, []string{"eobReadOutpatient.json", "eobReadDme.json", "eobReadHha.json", "eobReadInpatient.json", "eobReadSnf.json", "eobReadPde.json", "eobReadCarrier.json", "eobReadHospice.json"}},
		{"coverageRead", []string{"coverageRead.json"}, nil},
		{"patientSearchById", []string{"patientSearchById.json"}, []string{"patientRead.json"}},
		{"patientByIdentifier", []string{"patientByIdentifier.json"}, []string{"patientRead.json"}},
		{"patientByIdentifierWithIncludeIdentifiers", []string{"patientByIdentifierWithIncludeIdentifiers.json"}, []string{"patientReadWithIncludeIdentifiers.json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dup := rowsOf(t, tc.dup...)
			if tc.name == "coverageRead" {
				// coverageRead.json is the part-a Coverage of coverageSearchByPatientId.json.
				all := rowsOf(t, "coverageSearchByPatientId.json")
				for _, table := range []string{TableCoverage, TableCoverageMonth} {
					got, want := values(dup[table]), values(all[table])
					if len(got) == 0 || len(want) < len(got) || !reflect.DeepEqual(got, want[:len(got)]) {
						t.Errorf("%s: coverageRead rows differ from the part-a rows of the search Bundle", table)
					}
				}
				return
			}
			reads := rowsOf(t, tc.reads...)
			n := 0
			for _, table := range Tables() {
				if !reflect.DeepEqual(values(dup[table]), values(reads[table])) {
					t.Errorf("%s: %s rows differ from the single reads", table, tc.name)
				}
				n += len(dup[table].rows)
			}
			if n == 0 {
				t.Error("no rows at all")
			}
		})
	}
}

// TestJobOutputTypesHaveTables checks that every resource type a real DPC job returns
// (JobCompletionModel.json, plus OperationOutcome for error[]) feeds at least one table.
func TestJobOutputTypesHaveTables(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(bfdDir, "dpc", "JobCompletionModel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Output []struct {
			Type string `json:"type"`
		} `json:"output"`
	}
	if err := json.Unmarshal(b, &job); err != nil {
		t.Fatal(err)
	}
	defs, err := Definitions(STU3)
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string][]string{}
	for _, d := range defs {
		byType[d.Resource] = append(byType[d.Resource], d.Name)
	}
	types := []string{"OperationOutcome"}
	for _, o := range job.Output {
		types = append(types, o.Type)
	}
	if len(types) != 4 {
		t.Fatalf("job sample lists %v", types)
	}
	for _, ty := range types {
		if len(byType[ty]) == 0 {
			t.Errorf("no table reads %s", ty)
		}
	}
	if got := strings.Join(byType["ExplanationOfBenefit"], ","); got != "eob,eob_amount,eob_line,eob_line_amount,eob_diagnosis,eob_procedure,eob_care_team,eob_line_care_team,eob_detail,eob_line_detail" {
		t.Errorf("EOB tables: %s", got)
	}
}
