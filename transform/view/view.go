// Package view parses and validates SQL on FHIR v2 ViewDefinitions and compiles their
// FHIRPath once, so that errors surface when a view is loaded, never mid-run.
package view

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/dpcetl/dpcetl/transform/fhirpath"
)

// Tag is a ViewDefinition column tag (name/value), e.g. {"name":"ansi/type","value":"DECIMAL(15,2)"}.
type Tag struct {
	Name  string
	Value string
}

// Column is one output column.
type Column struct {
	Name        string
	Path        string
	Type        string // FHIR type; "" when the view does not say (output as string)
	Collection  bool
	Description string
	Tags        []Tag
	Expr        *fhirpath.Expr
	Index       int    // position in View.Columns
	JSONPath    string // where it was declared, e.g. "select[0].column[2]"
}

// Tag returns the value of the first tag called name.
func (c *Column) Tag(name string) (string, bool) {
	for _, t := range c.Tags {
		if t.Name == name {
			return t.Value, true
		}
	}
	return "", false
}

// Select is a select clause (the view itself is the root Select).
type Select struct {
	ForEach       *fhirpath.Expr   // forEach or forEachOrNull expression
	OrNull        bool             // forEachOrNull
	Repeat        []*fhirpath.Expr // repeat paths
	Columns       []*Column
	Selects       []*Select
	UnionAll      []*Select
	JSONPath      string
	firstColIndex int
}

// View is a validated ViewDefinition.
type View struct {
	File        string // name given to Parse (file path), used in errors
	Name        string // table name
	Resource    string
	Status      string
	URL         string
	FHIRVersion []string
	Where       []*fhirpath.Expr
	Root        *Select
	Columns     []*Column // output columns in order
	Constants   map[string]fhirpath.Item
	Raw         []byte // the JSON it was parsed from
}

// Error is a validation error naming the file and the JSON path of the fault.
type Error struct {
	File string
	Path string
	Err  error
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.File, e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid ViewDefinition")

// statuses is the PublicationStatus value set ViewDefinition.status is bound to.
var statuses = []string{"draft", "active", "retired", "unknown"}

var types = []string{
	"base64Binary", "boolean", "canonical", "code", "date", "dateTime", "decimal", "id", "instant",
	"integer", "integer64", "markdown", "oid", "positiveInt", "string", "time", "unsignedInt", "uri",
	"url", "uuid", "xhtml",
}

// structureDefinitionPrefix is implied before a relative column type URI.
const structureDefinitionPrefix = "http://hl7.org/fhir/StructureDefinition/"

func knownType(t string) bool {
	for _, k := range types {
		if k == t {
			return true
		}
	}
	return false
}

// Load reads and parses a ViewDefinition file.
func Load(path string) (*View, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

type parser struct {
	file string
	v    *View
	env  fhirpath.Env
	seen map[string]string
}

func (p *parser) errf(path string, format string, a ...any) error {
	return &Error{File: p.file, Path: path, Err: fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))}
}

// Parse validates a ViewDefinition. name is used in error messages (usually the file path).
func Parse(name string, data []byte) (*View, error) { return parse(name, data, false) }

// ParseGeneral is Parse with every expression compiled for the general FHIRPath evaluator
// only (fhirpath.Env.General): the reference that differential tests hold the fast paths to.
func ParseGeneral(name string, data []byte) (*View, error) { return parse(name, data, true) }

func parse(name string, data []byte, general bool) (*View, error) {
	p := &parser{file: name, seen: map[string]string{}}
	p.env.General = general
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, p.errf("", "not JSON: %v", err)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, p.errf("", "a ViewDefinition must be a JSON object")
	}
	v := &View{File: name, Raw: data, Constants: map[string]fhirpath.Item{}}
	p.v = v
	if rt, ok := obj["resourceType"]; ok && rt != "ViewDefinition" {
		return nil, p.errf("resourceType", "must be \"ViewDefinition\"")
	}
	var err error
	if v.Name, err = p.str(obj, "name", ""); err != nil {
		return nil, err
	}
	if v.Resource, err = p.str(obj, "resource", ""); err != nil {
		return nil, err
	}
	if v.Resource == "" {
		return nil, p.errf("resource", "required")
	}
	if v.Name != "" && !validName(v.Name) {
		return nil, p.errf("name", "%q is not a valid view name (sql-name: ^[A-Za-z][A-Za-z0-9_]*$)", v.Name)
	}
	if v.Status, err = p.str(obj, "status", ""); err != nil {
		return nil, err
	}
	if v.Status != "" && !slices.Contains(statuses, v.Status) {
		return nil, p.errf("status", "%q is not a PublicationStatus code (%s)", v.Status, strings.Join(statuses, ", "))
	}
	if v.URL, err = p.str(obj, "url", ""); err != nil {
		return nil, err
	}
	if x, ok := obj["fhirVersion"]; ok {
		arr, ok := x.([]any)
		if !ok {
			return nil, p.errf("fhirVersion", "must be an array of strings")
		}
		for i, e := range arr {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, p.errf(fmt.Sprintf("fhirVersion[%d]", i), "must be a non-empty string")
			}
			v.FHIRVersion = append(v.FHIRVersion, s)
		}
	}
	p.env.Resource = v.Resource
	p.env.Constants = v.Constants
	p.env.General = general
	if cs, ok := obj["constant"]; ok {
		arr, ok := cs.([]any)
		if !ok {
			return nil, p.errf("constant", "must be an array")
		}
		for i, c := range arr {
			if err := p.constant(fmt.Sprintf("constant[%d]", i), c); err != nil {
				return nil, err
			}
		}
	}
	if ws, ok := obj["where"]; ok {
		arr, ok := ws.([]any)
		if !ok {
			return nil, p.errf("where", "must be an array")
		}
		for i, w := range arr {
			jp := fmt.Sprintf("where[%d]", i)
			wo, ok := w.(map[string]any)
			if !ok {
				return nil, p.errf(jp, "must be an object")
			}
			path, err := p.str(wo, "path", jp+".")
			if err != nil {
				return nil, err
			}
			e, err := p.compile(jp+".path", path)
			if err != nil {
				return nil, err
			}
			v.Where = append(v.Where, e)
		}
	}
	sel, ok := obj["select"]
	if !ok {
		return nil, p.errf("select", "required")
	}
	root2, err := p.selectList("", map[string]any{"select": sel})
	if err != nil {
		return nil, err
	}
	v.Root = root2
	if len(v.Columns) == 0 {
		return nil, p.errf("select", "the view has no columns")
	}
	return v, nil
}

func (p *parser) str(obj map[string]any, key, prefix string) (string, error) {
	x, ok := obj[key]
	if !ok || x == nil {
		return "", nil
	}
	s, ok := x.(string)
	if !ok {
		return "", p.errf(prefix+key, "must be a string")
	}
	return s, nil
}

func (p *parser) compile(jp, src string) (*fhirpath.Expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, p.errf(jp, "empty FHIRPath expression")
	}
	e, err := fhirpath.Compile(src, p.env)
	if err != nil {
		return nil, &Error{File: p.file, Path: jp, Err: fmt.Errorf("%w: %v", ErrInvalid, err)}
	}
	return e, nil
}

func (p *parser) constant(jp string, c any) error {
	obj, ok := c.(map[string]any)
	if !ok {
		return p.errf(jp, "must be an object")
	}
	name, err := p.str(obj, "name", jp+".")
	if err != nil {
		return err
	}
	if name == "" {
		return p.errf(jp+".name", "required")
	}
	if !validName(name) {
		return p.errf(jp+".name", "%q is not a valid constant name (sql-name: ^[A-Za-z][A-Za-z0-9_]*$)", name)
	}
	var it fhirpath.Item
	found := 0
	for k, val := range obj {
		if !strings.HasPrefix(k, "value") || len(k) == 5 {
			continue
		}
		found++
		t := k[5:]
		it = fhirpath.Item{N: -1}
		switch t {
		case "Boolean":
			b, ok := val.(bool)
			if !ok {
				return p.errf(jp+"."+k, "must be a boolean")
			}
			it.K = fhirpath.KBool
			if b {
				it.I = 1
			}
		case "Integer", "PositiveInt", "UnsignedInt", "Integer64", "Decimal":
			n, ok := val.(json.Number)
			if !ok {
				if s, isStr := val.(string); isStr && t == "Integer64" {
					n = json.Number(s)
				} else {
					return p.errf(jp+"."+k, "must be a number")
				}
			}
			f, err := n.Float64()
			if err != nil {
				return p.errf(jp+"."+k, "invalid number")
			}
			it.F, it.S = f, n.String()
			if t == "Decimal" {
				it.K = fhirpath.KDecimal
			} else {
				i, err := n.Int64()
				if err != nil {
					return p.errf(jp+"."+k, "must be an integer")
				}
				it.K, it.I = fhirpath.KInteger, i
			}
		default:
			s, ok := val.(string)
			if !ok {
				return p.errf(jp+"."+k, "must be a string")
			}
			it.S = s
			switch t {
			case "Date":
				it.K = fhirpath.KDate
			case "DateTime", "Instant":
				it.K = fhirpath.KDateTime
			case "Time":
				it.K = fhirpath.KTime
			case "String", "Code", "Id", "Uri", "Url", "Canonical", "Oid", "Uuid", "Markdown", "Base64Binary":
				it.K = fhirpath.KString
			default:
				return p.errf(jp+"."+k, "unsupported constant type %q", t)
			}
		}
		it.T = strings.ToLower(t[:1]) + t[1:]
	}
	if found != 1 {
		return p.errf(jp, "a constant needs exactly one value[x]")
	}
	if _, dup := p.v.Constants[name]; dup {
		return p.errf(jp+".name", "duplicate constant %q", name)
	}
	p.v.Constants[name] = it
	return nil
}

// selectList parses a select object (or the view root) at JSON path jp.
func (p *parser) selectList(jp string, obj map[string]any) (*Select, error) {
	s := &Select{JSONPath: jp, firstColIndex: len(p.v.Columns)}
	dot := jp
	if dot != "" {
		dot += "."
	}
	for _, key := range []string{"forEach", "forEachOrNull"} {
		x, ok := obj[key]
		if !ok {
			continue
		}
		src, ok := x.(string)
		if !ok {
			return nil, p.errf(dot+key, "must be a string")
		}
		if s.ForEach != nil {
			return nil, p.errf(dot+key, "forEach and forEachOrNull are exclusive")
		}
		e, err := p.compile(dot+key, src)
		if err != nil {
			return nil, err
		}
		s.ForEach, s.OrNull = e, key == "forEachOrNull"
	}
	if x, ok := obj["repeat"]; ok {
		arr, ok := x.([]any)
		if !ok || len(arr) == 0 {
			return nil, p.errf(dot+"repeat", "must be a non-empty array of strings")
		}
		if s.ForEach != nil {
			return nil, p.errf(dot+"repeat", "repeat cannot be combined with forEach/forEachOrNull")
		}
		for i, r := range arr {
			src, ok := r.(string)
			if !ok {
				return nil, p.errf(fmt.Sprintf("%srepeat[%d]", dot, i), "must be a string")
			}
			e, err := p.compile(fmt.Sprintf("%srepeat[%d]", dot, i), src)
			if err != nil {
				return nil, err
			}
			s.Repeat = append(s.Repeat, e)
		}
	}
	if x, ok := obj["column"]; ok {
		arr, ok := x.([]any)
		if !ok {
			return nil, p.errf(dot+"column", "must be an array")
		}
		for i, c := range arr {
			col, err := p.column(fmt.Sprintf("%scolumn[%d]", dot, i), c)
			if err != nil {
				return nil, err
			}
			s.Columns = append(s.Columns, col)
		}
	}
	if x, ok := obj["select"]; ok {
		arr, ok := x.([]any)
		if !ok {
			return nil, p.errf(dot+"select", "must be an array")
		}
		for i, c := range arr {
			cjp := fmt.Sprintf("%sselect[%d]", dot, i)
			co, ok := c.(map[string]any)
			if !ok {
				return nil, p.errf(cjp, "must be an object")
			}
			sub, err := p.selectList(cjp, co)
			if err != nil {
				return nil, err
			}
			s.Selects = append(s.Selects, sub)
		}
	}
	if x, ok := obj["unionAll"]; ok {
		arr, ok := x.([]any)
		if !ok || len(arr) == 0 {
			return nil, p.errf(dot+"unionAll", "must be a non-empty array")
		}
		start := len(p.v.Columns)
		var names []string
		var first []*Column
		for i, c := range arr {
			cjp := fmt.Sprintf("%sunionAll[%d]", dot, i)
			co, ok := c.(map[string]any)
			if !ok {
				return nil, p.errf(cjp, "must be an object")
			}
			if i > 0 {
				// later branches reuse the first branch's column slots
				saved := p.v.Columns
				savedSeen := p.seen
				p.seen = map[string]string{}
				p.v.Columns = append([]*Column(nil), p.v.Columns[:start]...)
				sub, err := p.selectList(cjp, co)
				if err != nil {
					return nil, err
				}
				branch := p.v.Columns[start:]
				got := colNames(branch)
				p.v.Columns, p.seen = saved, savedSeen
				if strings.Join(got, ",") != strings.Join(names, ",") {
					return nil, p.errf(cjp, "unionAll branches must have the same columns in the same order: [%s] vs [%s]",
						strings.Join(names, ", "), strings.Join(got, ", "))
				}
				if err := p.sameTypes(first, branch); err != nil {
					return nil, err
				}
				s.UnionAll = append(s.UnionAll, sub)
				continue
			}
			sub, err := p.selectList(cjp, co)
			if err != nil {
				return nil, err
			}
			first = p.v.Columns[start:]
			names = colNames(first)
			s.UnionAll = append(s.UnionAll, sub)
		}
	}
	for k := range obj {
		switch k {
		case "forEach", "forEachOrNull", "repeat", "column", "select", "unionAll":
		case "resource", "name", "status", "constant", "where", "resourceType", "url", "title",
			"description", "publisher", "experimental", "fhirVersion", "meta", "id", "identifier",
			"contact", "useContext", "copyright", "text", "extension", "version", "profile", "date":
			if jp != "" {
				return nil, p.errf(dot+k, "unknown select property")
			}
		default:
			if jp != "" || !strings.HasPrefix(k, "_") {
				return nil, p.errf(dot+k, "unknown property")
			}
		}
	}
	return s, nil
}

// sameTypes checks a unionAll branch against the first: "the values for the columns MUST be
// of the same types as determined by the column types part of this specification." A
// column without a type is a string (that part lets runners "treat any non-specified types
// as strings"); collection and the ansi/type tag shape the output type, so they must
// match too.
func (p *parser) sameTypes(first, branch []*Column) error {
	for i, a := range first {
		b := branch[i]
		ta, tb := a.Type, b.Type
		if ta == "" {
			ta = "string"
		}
		if tb == "" {
			tb = "string"
		}
		aa, _ := a.Tag("ansi/type")
		ab, _ := b.Tag("ansi/type")
		switch {
		case ta != tb:
			return p.errf(b.JSONPath+".type", "unionAll branches must give column %q the same type: %q (%s) vs %q", a.Name, ta, a.JSONPath, tb)
		case a.Collection != b.Collection:
			return p.errf(b.JSONPath+".collection", "unionAll branches must agree on whether column %q is a collection (%s)", a.Name, a.JSONPath)
		case !strings.EqualFold(strings.TrimSpace(aa), strings.TrimSpace(ab)):
			return p.errf(b.JSONPath+".tag", "unionAll branches must give column %q the same ansi/type tag: %q (%s) vs %q", a.Name, aa, a.JSONPath, ab)
		}
	}
	return nil
}

func colNames(cs []*Column) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func (p *parser) column(jp string, c any) (*Column, error) {
	obj, ok := c.(map[string]any)
	if !ok {
		return nil, p.errf(jp, "must be an object")
	}
	col := &Column{JSONPath: jp}
	var err error
	if col.Name, err = p.str(obj, "name", jp+"."); err != nil {
		return nil, err
	}
	if col.Name == "" {
		return nil, p.errf(jp+".name", "required")
	}
	if !validName(col.Name) {
		return nil, p.errf(jp+".name", "%q is not a valid column name (sql-name: ^[A-Za-z][A-Za-z0-9_]*$)", col.Name)
	}
	if prev, dup := p.seen[col.Name]; dup {
		return nil, p.errf(jp+".name", "duplicate column %q (also at %s)", col.Name, prev)
	}
	p.seen[col.Name] = jp
	if col.Path, err = p.str(obj, "path", jp+"."); err != nil {
		return nil, err
	}
	if col.Path == "" {
		return nil, p.errf(jp+".path", "required")
	}
	if col.Type, err = p.str(obj, "type", jp+"."); err != nil {
		return nil, err
	}
	if col.Type != "" {
		// "A FHIR StructureDefinition URI for the column's type. Relative URIs are
		// implicitly given the 'http://hl7.org/fhir/StructureDefinition/' prefix."
		t := strings.TrimPrefix(col.Type, structureDefinitionPrefix)
		if !knownType(t) {
			return nil, p.errf(jp+".type", "unsupported column type %q (supported: the FHIR primitive types %s, as names or %s<name>)",
				col.Type, strings.Join(types, ", "), structureDefinitionPrefix)
		}
		col.Type = t
	}
	if col.Description, err = p.str(obj, "description", jp+"."); err != nil {
		return nil, err
	}
	if x, ok := obj["collection"]; ok {
		b, ok := x.(bool)
		if !ok {
			return nil, p.errf(jp+".collection", "must be a boolean")
		}
		col.Collection = b
	}
	if x, ok := obj["tag"]; ok {
		arr, ok := x.([]any)
		if !ok {
			return nil, p.errf(jp+".tag", "must be an array")
		}
		for i, t := range arr {
			tjp := fmt.Sprintf("%s.tag[%d]", jp, i)
			to, ok := t.(map[string]any)
			if !ok {
				return nil, p.errf(tjp, "must be an object")
			}
			n, err := p.str(to, "name", tjp+".")
			if err != nil {
				return nil, err
			}
			v, err := p.str(to, "value", tjp+".")
			if err != nil {
				return nil, err
			}
			col.Tags = append(col.Tags, Tag{Name: n, Value: v})
		}
	}
	for k := range obj {
		switch k {
		case "name", "path", "type", "collection", "description", "tag":
		default:
			return nil, p.errf(jp+"."+k, "unknown column property")
		}
	}
	if col.Expr, err = p.compile(jp+".path", col.Path); err != nil {
		return nil, err
	}
	col.Index = len(p.v.Columns)
	p.v.Columns = append(p.v.Columns, col)
	return col, nil
}

func validName(s string) bool {
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case (c == '_' || c >= '0' && c <= '9') && i > 0:
		default:
			return false
		}
	}
	return s != ""
}
