package viewtool_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/transform/view"
	"github.com/dpcetl/dpcetl/transform/viewtool"
)

func write(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodView = `{"resourceType":"ViewDefinition","url":"https://example.org/ViewDefinition/patient","name":"patient",
 "status":"active","fhirVersion":["4.0.1"],"resource":"Patient","select":[{"column":[
  {"name":"id","path":"getResourceKey()","type":"id"},
  {"name":"birth_date","path":"birthDate","type":"date"},
  {"name":"family","path":"name.where(use = 'official').family.first()","type":"string"},
  {"name":"deceased","path":"deceased.ofType(boolean)","type":"boolean"},
  {"name":"births","path":"multipleBirth.ofType(integer)","type":"integer"},
  {"name":"updated","path":"meta.lastUpdated","type":"instant"}]}]}`

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "good.json", goodView)
	bad := write(t, dir, "bad.json", `{"resource":"Patient","select":[{"column":[
	  {"name":"id","path":"id"},{"name":"given","path":"name.given","type":"string","collection":true}]}]}`)
	broken := write(t, dir, "broken.json", `{"resource":"Patient","status":"active","select":[{"column":[{"name":"id","path":"id.nope()"}]}]}`)
	tagged := write(t, dir, "tagged.json", `{"resource":"Patient","status":"active","select":[{"column":[
	  {"name":"id","path":"id","type":"id","tag":[{"name":"ansi/type","value":"INTEGER"}]}]}]}`)
	missing := filepath.Join(dir, "missing.json")

	var out bytes.Buffer
	if err := viewtool.Validate(context.Background(), []string{good}, view.Profiles(), &out); err != nil {
		t.Fatalf("good view: %v\n%s", err, out.String())
	}
	if want := good + ": ok (ViewDefinition, ShareableViewDefinition, TabularViewDefinition)\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}

	out.Reset()
	err := viewtool.Validate(context.Background(), []string{good, bad, broken, tagged, missing}, view.Profiles(), &out)
	if !errors.Is(err, viewtool.ErrInvalid) || !errors.Is(err, view.ErrInvalid) || !strings.Contains(err.Error(), "4 of 5 files") {
		t.Errorf("err = %v", err)
	}
	want := []string{
		good + ": ok (ViewDefinition, ShareableViewDefinition, TabularViewDefinition)",
		bad + ": status: invalid ViewDefinition: ViewDefinition: required (draft, active, retired or unknown)",
		bad + ": url: invalid ViewDefinition: ShareableViewDefinition: required",
		bad + ": name: invalid ViewDefinition: ShareableViewDefinition: required",
		bad + `: fhirVersion: invalid ViewDefinition: ShareableViewDefinition: at least one FHIR version is required (e.g. "4.0.1")`,
		bad + `: select[0].column[0].type: invalid ViewDefinition: ShareableViewDefinition: required for column "id"`,
		bad + `: select[0].column[1].collection: invalid ViewDefinition: TabularViewDefinition: column "given" must not be a collection (no-collections)`,
		broken + `: select[0].column[0].path: invalid ViewDefinition: unknown function "nope"`,
		tagged + `: select[0].column[0]: invalid ViewDefinition: tag ansi/type "INTEGER" does not match column type "id"`,
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(got) < len(want) || strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	if last := got[len(got)-1]; !strings.HasPrefix(last, missing+": ") || !strings.Contains(last, "no such file") {
		t.Errorf("missing file line %q", last)
	}

	// only the base profile: the Tabular and Shareable rules are not applied
	out.Reset()
	profiles, err := viewtool.ParseProfiles("base")
	if err != nil {
		t.Fatal(err)
	}
	if err := viewtool.Validate(context.Background(), []string{broken}, profiles, &out); err == nil {
		t.Error("an unknown FHIRPath function passed validation")
	}
}

func TestParseProfiles(t *testing.T) {
	p, err := viewtool.ParseProfiles(" Shareable,tabular ")
	if err != nil || len(p) != 2 || p[0] != view.ProfileShareable || p[1] != view.ProfileTabular {
		t.Errorf("got %v %v", p, err)
	}
	if p, err := viewtool.ParseProfiles(""); err != nil || len(p) != 3 {
		t.Errorf("default: %v %v", p, err)
	}
	if _, err := viewtool.ParseProfiles("strict"); err == nil {
		t.Error("unknown profile accepted")
	}
}

// TestClaimsViewsConform validates the project's own claims views (schemas/r4, schemas/stu3)
// against the base and Tabular profiles: they are meant for tables.
func TestClaimsViewsConform(t *testing.T) {
	files, _ := filepath.Glob("../../schemas/*/*.json")
	if len(files) < 10 {
		t.Fatalf("only %d claims views found", len(files))
	}
	var out bytes.Buffer
	if err := viewtool.Validate(context.Background(), files, []view.Profile{view.ProfileTabular}, &out); err != nil {
		t.Errorf("%v\n%s", err, out.String())
	}
}

const ndjson = `{"resourceType":"Patient","id":"p1","birthDate":"1970-06-01","name":[{"use":"official","family":"Doe, \"Jr\""}],"deceasedBoolean":false,"multipleBirthInteger":2,"meta":{"lastUpdated":"2020-01-02T03:04:05.5+01:00"}}
{"resourceType":"Observation","id":"o1"}
{"resourceType":"Patient","id":"p2"}
`

func TestRun(t *testing.T) {
	dir := t.TempDir()
	v := write(t, dir, "patient.json", goodView)
	in := write(t, dir, "patients.ndjson", ndjson)
	for _, tc := range []struct {
		format viewtool.Format
		want   string
	}{
		{viewtool.FormatCSV, "id,birth_date,family,deceased,births,updated\n" +
			"p1,1970-06-01,\"Doe, \"\"Jr\"\"\",false,2,2020-01-02T02:04:05.5Z\n" +
			"p2,,,,,\n"},
		{viewtool.FormatJSON, `{"id":"p1","birth_date":"1970-06-01","family":"Doe, \"Jr\"","deceased":false,"births":2,"updated":"2020-01-02T02:04:05.5Z"}` + "\n" +
			`{"id":"p2","birth_date":null,"family":null,"deceased":null,"births":null,"updated":null}` + "\n"},
	} {
		var out bytes.Buffer
		st, err := viewtool.Run(context.Background(), viewtool.RunOptions{View: v, Inputs: []string{in}, Format: tc.format}, &out)
		if err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		if out.String() != tc.want {
			t.Errorf("%s:\n got  %q\n want %q", tc.format, out.String(), tc.want)
		}
		if st.Rows["patient"] != 2 || st.Skipped != 1 {
			t.Errorf("%s: stats %+v", tc.format, st)
		}
	}
}

func TestRunBadLines(t *testing.T) {
	dir := t.TempDir()
	v := write(t, dir, "v.json", `{"name":"codes","resource":"Patient","status":"active","select":[
	  {"column":[{"name":"id","path":"id","type":"id"}]},
	  {"forEach":"identifier","column":[{"name":"value","path":"value","type":"string","tag":[{"name":"ansi/type","value":"VARCHAR(4)"}]},
	                                      {"name":"n","path":"%rowIndex","type":"integer"}]}]}`)
	in := write(t, dir, "in.ndjson", `{"resourceType":"Patient","id":"a","identifier":[{"value":"0042"},{"value":"7"}]}
{"resourceType":"Patient","id":"b","identifier":[{"value":"toolong"}]}
not json
`)
	var out, q bytes.Buffer
	st, err := viewtool.Run(context.Background(), viewtool.RunOptions{View: v, Inputs: []string{in}, Format: viewtool.FormatJSON, Quarantine: &q}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"a","value":"0042","n":0}` + "\n" + `{"id":"a","value":"7","n":1}` + "\n"; out.String() != want {
		t.Errorf("rows %q, want %q", out.String(), want)
	}
	lines := strings.Split(strings.TrimSpace(q.String()), "\n")
	if st.Quarantined != 2 || len(lines) != 2 || !strings.Contains(lines[0], `"line":2`) || !strings.Contains(lines[0], "longer than 4 characters") || !strings.Contains(lines[1], `"line":3`) {
		t.Errorf("quarantine %d: %s", st.Quarantined, q.String())
	}
	// without a quarantine writer the first bad line fails the run, without quoting data
	out.Reset()
	_, err = viewtool.Run(context.Background(), viewtool.RunOptions{View: v, Inputs: []string{in}}, &out)
	if err == nil || strings.Contains(err.Error(), "toolong") || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v", err)
	}
	if _, err := viewtool.Run(context.Background(), viewtool.RunOptions{View: v, Inputs: []string{in}, Format: "xml"}, &out); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := viewtool.Run(context.Background(), viewtool.RunOptions{View: filepath.Join(dir, "none.json"), Inputs: []string{in}}, &out); err == nil {
		t.Error("missing view accepted")
	}
}
