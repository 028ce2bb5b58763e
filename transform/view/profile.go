package view

import (
	"fmt"
	"slices"
)

// Profile names a set of rules a ViewDefinition can be checked against (Conform).
type Profile string

// The profiles of the SQL on FHIR v2 specification.
const (
	// ProfileBase is the ViewDefinition logical model's own cardinalities that Parse leaves
	// to Conform: status is 1..1 (from CanonicalResource).
	ProfileBase Profile = "ViewDefinition"
	// ProfileShareable is ShareableViewDefinition: "url 1..1, name 1..1, fhirVersion 1..*,
	// select.column.type 1..1", so every runner reads the view the same way.
	ProfileShareable Profile = "ShareableViewDefinition"
	// ProfileTabular is TabularViewDefinition: "each resulting field must contain only a
	// simple scalar value" (invariants no-collections and primitives-only).
	ProfileTabular Profile = "TabularViewDefinition"
)

// Profiles lists every profile, in the order Conform reports them.
func Profiles() []Profile { return []Profile{ProfileBase, ProfileShareable, ProfileTabular} }

// tabularTypes is the primitives-only invariant's list: "type in ('base64Binary' |
// 'boolean' | 'canonical' | 'code' | 'dateTime' | 'decimal' | 'id' | 'instant' | 'integer' |
// 'integer64' | 'markdown' | 'oid' | 'string' | 'positiveInt' | 'time' | 'unsignedInt' |
// 'url' | 'uuid')". The list omits date and uri, which are FHIR primitive types and scalar
// columns here; reading the profile's purpose ("only a simple scalar value") rather than
// the list, they are accepted too (this is the one deviation from the invariant's text).
var tabularTypes = []string{"base64Binary", "boolean", "canonical", "code", "date", "dateTime", "decimal", "id",
	"instant", "integer", "integer64", "markdown", "oid", "string", "positiveInt", "time", "unsignedInt", "uri",
	"url", "uuid"}

// Conform checks a parsed view against the given profiles (ProfileBase is always
// checked) and returns every violation, each an *Error naming the JSON path, in document
// order; nil when the view conforms. Parse accepts a view without status because the
// official test suite runs such views; Conform is where status 1..1 is enforced.
func Conform(v *View, profiles ...Profile) []error {
	var errs []error
	add := func(p Profile, path, format string, a ...any) {
		errs = append(errs, &Error{File: v.File, Path: path, Err: fmt.Errorf("%w: %s: %s", ErrInvalid, p, fmt.Sprintf(format, a...))})
	}
	if v.Status == "" {
		add(ProfileBase, "status", "required (draft, active, retired or unknown)")
	}
	if slices.Contains(profiles, ProfileShareable) {
		if v.URL == "" {
			add(ProfileShareable, "url", "required")
		}
		if v.Name == "" {
			add(ProfileShareable, "name", "required")
		}
		if len(v.FHIRVersion) == 0 {
			add(ProfileShareable, "fhirVersion", "at least one FHIR version is required (e.g. \"4.0.1\")")
		}
		for _, c := range v.allColumns() {
			if c.Type == "" {
				add(ProfileShareable, c.JSONPath+".type", "required for column %q", c.Name)
			}
		}
	}
	if slices.Contains(profiles, ProfileTabular) {
		for _, c := range v.allColumns() {
			if c.Collection {
				add(ProfileTabular, c.JSONPath+".collection", "column %q must not be a collection (no-collections)", c.Name)
			}
			if c.Type != "" && !slices.Contains(tabularTypes, c.Type) {
				add(ProfileTabular, c.JSONPath+".type", "column %q type %q is not a tabular primitive (primitives-only)", c.Name, c.Type)
			}
		}
	}
	for _, p := range profiles {
		if !slices.Contains(Profiles(), p) {
			add(p, "", "unknown profile (known: %v)", Profiles())
		}
	}
	return errs
}

// allColumns returns every column declared in the view, in document order, including
// the columns of later unionAll branches (View.Columns keeps only the first branch's).
func (v *View) allColumns() []*Column {
	var out []*Column
	var walk func(s *Select)
	walk = func(s *Select) {
		out = append(out, s.Columns...)
		for _, sub := range s.Selects {
			walk(sub)
		}
		for _, u := range s.UnionAll {
			walk(u)
		}
	}
	walk(v.Root)
	return out
}
