package fhirpath_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/transform/fhirpath"
	"github.com/dpcetl/dpcetl/transform/jsontree"
)

const patient = `{"resourceType":"Patient","id":"p1","active":true,"birthDate":"1970-06",
 "name":[{"use":"official","family":"Doe","given":["A","B"],"period":{"start":"2010-02","end":"2011-03-04T10:00:00Z"}},
  {"use":"maiden","family":"Roe","period":{"start":"2012"}}],
 "extension":[{"url":"http://x/race","valueCoding":{"code":"2106-3"}}],
 "link":[{"other":{"reference":"Patient/p9"}}],"nameLinkId":"7",
 "multipleBirthInteger":2,"valueQuantity":{"value":1.50}}`

func eval(t *testing.T, expr string, consts map[string]fhirpath.Item) string {
	t.Helper()
	e, err := fhirpath.Compile(expr, fhirpath.Env{Resource: "Patient", Constants: consts})
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	var d jsontree.Doc
	if err := d.Parse([]byte(patient)); err != nil {
		t.Fatal(err)
	}
	var c fhirpath.Ctx
	c.Reset(&d, 0)
	out, err := e.Eval(&c, c.RootItem(), nil)
	if err != nil {
		return "error: " + err.Error()
	}
	var s []string
	for i := range out {
		s = append(s, c.String(&out[i]))
	}
	return "[" + strings.Join(s, ",") + "]"
}

func TestEval(t *testing.T) {
	consts := map[string]fhirpath.Item{"use": {N: -1, K: fhirpath.KString, S: "maiden"}, "i": {N: -1, K: fhirpath.KInteger, I: 1}}
	cases := []struct{ expr, want string }{
		{"name.family", "[Doe,Roe]"},
		{"Patient.name.given", "[A,B]"},
		{"name[%i].family", "[Roe]"},
		{"name.where(use = %use).family", "[Roe]"},
		{"name.where(use = 'x').exists()", "[false]"},
		{"name.count() + 1", "[3]"},
		{"name.given.join('|')", "[A|B]"},
		{"extension('http://x/race').value.ofType(Coding).code", "[2106-3]"},
		{"multipleBirth.ofType(integer) * 2", "[4]"},
		{"value.ofType(Quantity).value + 1", "[2.50]"},
		{"value.ofType(Quantity).value.lowBoundary()", "[1.49500000]"}, // at least 8 digits by default
		{"birthDate.highBoundary()", "[1970-06-30]"},
		{"getResourceKey() = link.other.getReferenceKey(Patient)", "[false]"},
		{"link.other.getReferenceKey()", "[p9]"},
		{"link.other.getReferenceKey(Observation)", "[]"},
		{"active and name.exists() implies false", "[false]"},
		{"(active or {}) xor true", "[false]"},
		{"name.family.first() & '-' & {}", "[Doe-]"},
		{"iif(active, 'y', 'n')", "[y]"},
		{"name.first().family.startsWith('D')", "[true]"},
		{"1 < 2 and 'a' >= 'b'", "[false]"},
		{"name.family | name.family", "[Doe,Roe]"},
		{"'Doe' in name.family", "[true]"},
		{"name.family = 'Doe'", "[false]"},
		{"-(1.5)", "[-1.5]"},
		{"7 div 2 = 3 and 7 mod 2 = 1 and 7 / 2 = 3.5", "[true]"},
		{"link.other.reference", "[Patient/p9]"},
		{"link.otherLinkId", "[]"},
		{"name.count()", "[2]"}, // nameLinkId is not a choice of name
		{"name.where(use = 'x' or use = 'maiden' or use = 'y').family", "[Roe]"},
		{"name.given = 'A' or name.given = 'B'", "[false]"},
		{"name.nope = 'A' or name.nope = 'B'", "[]"},
		{"name.first().use = 'x' or name.first().use = 'official'", "[true]"},
		{"name.first().family.substring(1)", "[oe]"},
		{"'héllo'.substring(1, 3)", "[éll]"},
		{"'abc'.substring(5)", "[]"},
		{"name.where(use = 'maiden').exists()", "[true]"},
		{"name.where(use = 'nope').exists()", "[false]"},
		{"name.where(given.exists()).first().family", "[Doe]"},
		{"name.where(use = 'maiden').first().family", "[Roe]"},
		{"name.where(use = 'nope').first()", "[]"},
		{"name.given.single()", "error: fhirpath evaluation: single() on a collection of 2"},
	}
	for _, tc := range cases {
		if got := eval(t, tc.expr, consts); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestBoundaryPrecision pins lowBoundary(p)/highBoundary(p) to the FHIRPath examples
// (precision honoured: decimal places for Decimal, digits for dates and times) and to the
// SQL on FHIR extension to Period.
func TestBoundaryPrecision(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"1.587.lowBoundary()", "[1.58650000]"},
		{"1.587.lowBoundary(6)", "[1.586500]"},
		{"1.587.lowBoundary(2)", "[1.58]"},
		{"1.587.lowBoundary(0)", "[1]"},
		{"(-1.587).lowBoundary()", "[-1.58750000]"},
		{"(-1.587).lowBoundary(2)", "[-1.59]"},
		{"(-1.587).lowBoundary(0)", "[-2]"},
		{"1.587.highBoundary()", "[1.58750000]"},
		{"1.587.highBoundary(6)", "[1.587500]"},
		{"1.587.highBoundary(2)", "[1.59]"},
		{"1.587.highBoundary(0)", "[2]"},
		{"(-1.587).highBoundary(2)", "[-1.58]"},
		{"(-1.587).highBoundary(0)", "[-1]"}, // the spec's example says 1: a sign typo
		{"1.587.lowBoundary(39)", "[]"},      // beyond the precision a decimal128 holds
		{"'2010-02'.highBoundary(6)", "[2010-02]"},
		{"'2010-02'.highBoundary()", "[2010-02-28]"},
		{"'2012-02'.highBoundary(8)", "[2012-02-29]"},
		{"'2010-02-14'.lowBoundary(4)", "[2010]"},
		{"@2014.lowBoundary(6)", "[2014-01]"},
		{"@2014.highBoundary(6)", "[2014-12]"},
		{"'2010-02'.lowBoundary(5)", "[]"}, // not a date precision
		{"@2014-01-01T08.lowBoundary(17)", "[2014-01-01T08:00:00.000+14:00]"},
		{"@2014-01-01T08.highBoundary(17)", "[2014-01-01T08:59:59.999-12:00]"},
		{"@2014-01-01T08:30:00+02:00.highBoundary(12)", "[2014-01-01T08:30+02:00]"},
		{"@2014-01-01T08.lowBoundary(8)", "[2014-01-01]"},
		{"@2014-01-01T08.lowBoundary(11)", "[]"},
		{"@T10:30.lowBoundary(9)", "[10:30:00.000]"},
		{"@T10:30.highBoundary(9)", "[10:30:59.999]"},
		{"@T10:30.highBoundary(2)", "[10]"},
		{"birthDate.lowBoundary(6)", "[1970-06]"},
		{"birthDate.highBoundary()", "[1970-06-30]"},
		{"name.first().period.lowBoundary()", "[2010-02-01T00:00:00.000+14:00]"},
		{"name.first().period.highBoundary()", "[2011-03-04T10:00:00.999Z]"},
		{"name.first().period.highBoundary(8)", "[2011-03-04]"},
		{"name.last().period.lowBoundary(4)", "[2012]"},
		{"name.last().period.highBoundary()", "[]"}, // open-ended: no high boundary
		{"name.first().lowBoundary()", "[]"},        // not a Period
		{"name.period.lowBoundary()", "error: fhirpath evaluation: lowBoundary() on a collection"},
	}
	for _, tc := range cases {
		if got := eval(t, tc.expr, nil); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
	if _, err := fhirpath.Compile("1.5.lowBoundary('x')", fhirpath.Env{}); err == nil || !strings.Contains(err.Error(), "precision must be") {
		t.Errorf("a string precision was accepted: %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"name.foo()":        `unknown function "foo"`,
		"@@":                "invalid date/time literal",
		"name.where()":      "where(): wrong number of arguments (0)",
		"%nope":             "undefined constant %nope",
		"name.family.join(": "unexpected end of expression",
		"a ! b":             "unexpected character",
	} {
		_, err := fhirpath.Compile(expr, fhirpath.Env{Resource: "Patient"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%q) = %v, want %q", expr, err, want)
		}
	}
}

func ExampleCompile() {
	e, err := fhirpath.Compile("name.where(use = 'official').given.join(' ')", fhirpath.Env{Resource: "Patient"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var d jsontree.Doc
	_ = d.Parse([]byte(`{"resourceType":"Patient","name":[{"use":"official","given":["Ada","Lovelace"]}]}`))
	var c fhirpath.Ctx
	c.Reset(&d, 0)
	out, err := e.Eval(&c, c.RootItem(), nil)
	fmt.Println(c.String(&out[0]), err)
	// Output: Ada Lovelace <nil>
}

// TestContextIsFocus pins %context to the input of the evaluation (the forEach node in a
// view), unchanged inside where() and select(); %resource stays the root.
func TestContextIsFocus(t *testing.T) {
	var d jsontree.Doc
	if err := d.Parse([]byte(patient)); err != nil {
		t.Fatal(err)
	}
	var c fhirpath.Ctx
	c.Reset(&d, 0)
	names, err := fhirpath.Compile("name", fhirpath.Env{Resource: "Patient"})
	if err != nil {
		t.Fatal(err)
	}
	focus, err := names.Eval(&c, c.RootItem(), nil)
	if err != nil || len(focus) != 2 {
		t.Fatalf("name: %v %v", focus, err)
	}
	cases := []struct {
		expr       string
		root, name string // result with the resource, with the second name as focus
	}{
		{"%context.family", "[]", "[Roe]"},
		{"%context.id", "[p1]", "[]"},
		{"%resource.id", "[p1]", "[p1]"},
		{"%resource.name.where(use = %context.use).family", "[]", "[Roe]"},
		{"%resource.name.where(family != %context.family).family", "[]", "[Doe]"},
		{"%resource.name.select(%context.family).first()", "[]", "[Roe]"},
		{"iif(%context.use = 'maiden', 'm', 'o')", "[o]", "[m]"},
	}
	for _, tc := range cases {
		e, err := fhirpath.Compile(tc.expr, fhirpath.Env{Resource: "Patient"})
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		for _, f := range []struct {
			it   fhirpath.Item
			want string
		}{{c.RootItem(), tc.root}, {focus[1], tc.name}} {
			out, err := e.Eval(&c, f.it, nil)
			if err != nil {
				t.Fatalf("%s: %v", tc.expr, err)
			}
			var s []string
			for i := range out {
				s = append(s, c.String(&out[i]))
			}
			if got := "[" + strings.Join(s, ",") + "]"; got != f.want {
				t.Errorf("%s with focus %d = %s, want %s", tc.expr, f.it.N, got, f.want)
			}
		}
	}
	// empty input (forEachOrNull over nothing): %context is empty
	e, _ := fhirpath.Compile("%context.exists()", fhirpath.Env{Resource: "Patient"})
	out, err := e.EvalEmpty(&c, nil)
	if err != nil || len(out) != 1 || c.String(&out[0]) != "false" {
		t.Errorf("EvalEmpty %%context.exists() = %v %v", out, err)
	}
}

// TestPrimitiveExtensions reads extensions of primitives from their `_name` siblings
// (FHIR JSON), for a single primitive, a repeating one (by position) and a choice element.
func TestPrimitiveExtensions(t *testing.T) {
	const doc = `{"resourceType":"Patient","id":"p","birthDate":"1970-01-01",
	 "_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1970-01-01T10:15:00Z"}]},
	 "name":[{"given":["A","B","C"],"_given":[null,{"extension":[{"url":"u","valueString":"b"}]}]}],
	 "extension":[{"url":"x","valueCode":"c","_valueCode":{"extension":[{"url":"y","valueString":"inner"}]}}],
	 "gender":"other"}`
	cases := []struct{ expr, want string }{
		{"birthDate.extension('http://hl7.org/fhir/StructureDefinition/patient-birthTime').value.ofType(dateTime)", "[1970-01-01T10:15:00Z]"},
		{"birthDate.extension('other').exists()", "[false]"},
		{"name.given[1].extension('u').value.ofType(string)", "[b]"},
		{"name.given[0].extension('u').exists()", "[false]"},
		{"name.given[2].extension('u').exists()", "[false]"},
		{"name.given.extension('u').count()", "[1]"},
		{"extension('x').value.extension('y').value.ofType(string)", "[inner]"},
		{"gender.extension('u').exists()", "[false]"},
	}
	var d jsontree.Doc
	if err := d.Parse([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	var c fhirpath.Ctx
	for _, tc := range cases {
		e, err := fhirpath.Compile(tc.expr, fhirpath.Env{Resource: "Patient"})
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		c.Reset(&d, 0)
		out, err := e.Eval(&c, c.RootItem(), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		var s []string
		for i := range out {
			s = append(s, c.String(&out[i]))
		}
		if got := "[" + strings.Join(s, ",") + "]"; got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
}
