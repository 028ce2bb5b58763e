package view_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/transform/view"
)

func ExampleParse() {
	v, err := view.Parse("claims/eob_line.json", []byte(`{
	  "resourceType": "ViewDefinition", "name": "eob_line", "resource": "ExplanationOfBenefit",
	  "select": [{"column": [{"name": "eob_id", "path": "getResourceKey()", "type": "id"}]},
	             {"forEach": "item", "column": [{"name": "line_num", "path": "sequence", "type": "integer"}]}]}`))
	fmt.Println(v.Name, v.Resource, len(v.Columns), err)
	_, err = view.Parse("claims/eob.json", []byte(`{"resource": "ExplanationOfBenefit",
	  "select": [{"column": [{"name": "a", "path": "id"}]}, {"column": [{"name": "b", "path": "id.foo()"}]}]}`))
	fmt.Println(err)
	// Output:
	// eob_line ExplanationOfBenefit 2 <nil>
	// claims/eob.json: select[1].column[0].path: invalid ViewDefinition: unknown function "foo"
}

func TestColumnTypeURI(t *testing.T) {
	v, err := view.Parse("v.json", []byte(`{"resource":"Patient","select":[{"column":[
	  {"name":"a","path":"id","type":"http://hl7.org/fhir/StructureDefinition/id"},
	  {"name":"b","path":"birthDate","type":"date"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if v.Columns[0].Type != "id" || v.Columns[1].Type != "date" {
		t.Errorf("types %q %q, want id date", v.Columns[0].Type, v.Columns[1].Type)
	}
	for _, bad := range []string{"http://hl7.org/fhir/StructureDefinition/Patient.name", "http://example.org/StructureDefinition/id", "StructureDefinition/id"} {
		_, err := view.Parse("v.json", []byte(`{"resource":"Patient","select":[{"column":[{"name":"a","path":"id","type":"`+bad+`"}]}]}`))
		if err == nil || !strings.Contains(err.Error(), "select[0].column[0].type: invalid ViewDefinition: unsupported column type") {
			t.Errorf("type %q: %v", bad, err)
		}
	}
}

func TestConform(t *testing.T) {
	const good = `{"resourceType":"ViewDefinition","url":"https://example.org/ViewDefinition/pt","name":"pt",
	  "status":"active","fhirVersion":["4.0.1"],"resource":"Patient","select":[
	  {"column":[{"name":"id","path":"id","type":"id"},{"name":"bd","path":"birthDate","type":"date"}]},
	  {"unionAll":[{"column":[{"name":"n","path":"name.family.first()","type":"string"}]},
	               {"column":[{"name":"n","path":"id","type":"string"}]}]}]}`
	v, err := view.Parse("pt.json", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if errs := view.Conform(v, view.Profiles()...); errs != nil {
		t.Errorf("a conforming view: %v", errs)
	}
	const bad = `{"resource":"Patient","select":[
	  {"column":[{"name":"id","path":"id"},{"name":"given","path":"name.given","type":"string","collection":true},
	             {"name":"div","path":"text.div","type":"xhtml"}]},
	  {"unionAll":[{"column":[{"name":"n","path":"id","type":"string"}]},{"column":[{"name":"n","path":"id"}]}]}]}`
	v, err = view.Parse("bad.json", []byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range view.Conform(v, view.ProfileShareable, view.ProfileTabular) {
		got = append(got, e.Error())
	}
	want := []string{
		"bad.json: status: invalid ViewDefinition: ViewDefinition: required (draft, active, retired or unknown)",
		"bad.json: url: invalid ViewDefinition: ShareableViewDefinition: required",
		"bad.json: name: invalid ViewDefinition: ShareableViewDefinition: required",
		`bad.json: fhirVersion: invalid ViewDefinition: ShareableViewDefinition: at least one FHIR version is required (e.g. "4.0.1")`,
		`bad.json: select[0].column[0].type: invalid ViewDefinition: ShareableViewDefinition: required for column "id"`,
		`bad.json: select[1].unionAll[1].column[0].type: invalid ViewDefinition: ShareableViewDefinition: required for column "n"`,
		`bad.json: select[0].column[1].collection: invalid ViewDefinition: TabularViewDefinition: column "given" must not be a collection (no-collections)`,
		`bad.json: select[0].column[2].type: invalid ViewDefinition: TabularViewDefinition: column "div" type "xhtml" is not a tabular primitive (primitives-only)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Conform:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	// only the base profile: status alone
	if errs := view.Conform(v); len(errs) != 1 || !errors.Is(errs[0], view.ErrInvalid) {
		t.Errorf("base profile: %v", errs)
	}
}
