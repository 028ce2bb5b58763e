package fhirpath_test

import (
	"testing"

	"github.com/dpcetl/dpcetl/transform/fhirpath"
	"github.com/dpcetl/dpcetl/transform/jsontree"
)

// FuzzEngineFHIRPath compiles arbitrary expressions and evaluates them on a patient: no
// panics, and errors only of the documented kinds.
func FuzzEngineFHIRPath(f *testing.F) {
	for _, s := range []string{"name.where(use = 'official').given.join(',')", "iif(active, 1, 2) + 3 * 4 div 2 mod 5",
		"value.ofType(Quantity).value.lowBoundary()", "name[%i].family | name.family", "link.other.getReferenceKey(Patient)",
		"birthDate.highBoundary() > @2000-01-01", "extension('http://x/race').value.ofType(Coding).code.first()",
		"name.family.substring(1, 2).upper() in 'OE'", "-(1.5) / 0", "(1 | 2 | 2).count() = 2 implies {}.empty()"} {
		f.Add(s)
	}
	var d jsontree.Doc
	if err := d.Parse([]byte(patient)); err != nil {
		f.Fatal(err)
	}
	consts := map[string]fhirpath.Item{"i": {N: -1, K: fhirpath.KInteger, I: 1}}
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := fhirpath.Compile(expr, fhirpath.Env{Resource: "Patient", Constants: consts})
		if err != nil {
			return
		}
		var c fhirpath.Ctx
		c.Reset(&d, 0)
		out, err := e.Eval(&c, c.RootItem(), nil)
		if err == nil {
			for i := range out {
				_ = c.String(&out[i])
			}
		}
		_, _ = e.Truth(&c, c.RootItem())
	})
}
