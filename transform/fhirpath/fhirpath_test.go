package fhirpath_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/transform/fhirpath"
	"github.com/dpcetl/dpcetl/transform/jsontree"
)

const patient = `{"resourceType":"Patient","id":"p1","active":true,"birthDate":"1970-06",
 "name":[{"use":"official","family":"Doe","given":["A","B"]},{"use":"maiden","family":"Roe"}],
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
		{"value.ofType(Quantity).value.lowBoundary()", "[1.495]"},
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
