package transform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

var (
	update     = flag.Bool("update", false, "rewrite golden files (the vendored suites' test_report.json)")
	reportPath = flag.String("report", "", "where to write test_report.json (default: a temp dir)")
	suiteDir   = flag.String("sof.suite", "", "run the SQL on FHIR v2 suite in this directory instead of the vendored ones (also $"+suiteEnv+")")
)

// suiteEnv names a suite directory, like -sof.suite, so a newer suite runs without editing files.
const suiteEnv = "SOF_SUITE_DIR"

// reportSchema is the official report format's JSON Schema (see testdata/sqlonfhir/SOURCE.md).
const reportSchema = "../testdata/sqlonfhir/test-report.schema.json"

type suiteFile struct {
	Title     string            `json:"title"`
	Resources []json.RawMessage `json:"resources"`
	Tests     []suiteCase       `json:"tests"`
}

type suiteCase struct {
	Title         string          `json:"title"`
	Tags          []string        `json:"tags"`
	View          json.RawMessage `json:"view"`
	Expect        []any           `json:"expect"`
	ExpectError   bool            `json:"expectError"`
	ExpectCount   *int            `json:"expectCount"`
	ExpectColumns []string        `json:"expectColumns"`
}

// The official report format (test_report/test-report.schema.json).
type reportEntry struct {
	Name   string       `json:"name"`
	Result reportResult `json:"result"`
}

type reportResult struct {
	Passed bool   `json:"passed"`
	Error  string `json:"error,omitempty"`
}

// runCase runs one suite case in JSON-rows mode and through the Arrow path; it returns ""
// when both give the expected result, else why not.
// Every case runs twice: through the shared one-pass plan (with a twin of the view in the
// same engine, so that every expression the two share is evaluated once and read by both,
// and the twin's rows must equal the view's), and through the general evaluator alone
// (view.ParseGeneral, WithGeneralEvaluator).
func runCase(file string, sf *suiteFile, tc *suiteCase) string {
	if why := runCaseWith(file, sf, tc, false); why != "" {
		return why
	}
	if why := runCaseWith(file, sf, tc, true); why != "" {
		return "general evaluator: " + why
	}
	return ""
}

func runCaseWith(file string, sf *suiteFile, tc *suiteCase, general bool) string {
	parse, opts := view.Parse, []transform.Option(nil)
	if general {
		parse, opts = view.ParseGeneral, []transform.Option{transform.WithGeneralEvaluator()}
	}
	v, err := parse(file, tc.View)
	var twin *view.View
	var eng *transform.Engine
	if err == nil {
		if v.Name == "" {
			v.Name = "t"
		}
		views := []*view.View{v}
		if !general {
			if twin, err = parse(file, tc.View); err == nil {
				twin.Name = v.Name + "_twin"
				views = append(views, twin)
			}
		}
		if err == nil {
			eng, err = transform.New(views, opts...)
		}
	}
	var rows []any
	if err == nil {
		for _, r := range sf.Resources {
			var out map[string][]map[string]any
			out, err = eng.Rows(r)
			if err != nil {
				break
			}
			if twin != nil && !reflect.DeepEqual(out[v.Name], out[twin.Name]) {
				return fmt.Sprintf("shared plan: the twin view's rows %v differ from the view's %v", out[twin.Name], out[v.Name])
			}
			for _, row := range out[v.Name] {
				rows = append(rows, map[string]any(row))
			}
		}
	}
	if tc.ExpectError {
		if err == nil {
			return "expected an error, got none"
		}
		return ""
	}
	if err != nil {
		return "unexpected error: " + err.Error()
	}
	if tc.ExpectCount != nil {
		if len(rows) != *tc.ExpectCount {
			return fmt.Sprintf("got %d rows, want %d", len(rows), *tc.ExpectCount)
		}
		return arrowRows(v, sf, tc, len(rows), opts...)
	}
	if tc.ExpectColumns != nil {
		var got []string
		for _, c := range v.Columns {
			got = append(got, c.Name)
		}
		if !reflect.DeepEqual(got, tc.ExpectColumns) {
			return fmt.Sprintf("columns %v, want %v", got, tc.ExpectColumns)
		}
	}
	if diff := compareRows(rows, tc.Expect); diff != "" {
		return diff
	}
	return arrowRows(v, sf, tc, len(rows), opts...)
}

// arrowRows runs the case through Run (NDJSON in, typed Arrow batches out) and compares
// every value with the expected rows, read back from Arrow and compared by the column's
// type (see arrowCell and expectCell). A case with expectCount compares the row count.
func arrowRows(v *view.View, sf *suiteFile, tc *suiteCase, jsonRows int, opts ...transform.Option) string {
	var nd []string
	for _, r := range sf.Resources {
		var buf bytes.Buffer
		if err := json.Compact(&buf, r); err != nil {
			return err.Error()
		}
		nd = append(nd, buf.String())
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	eng, err := transform.New([]*view.View{v}, append(opts, transform.WithAllocator(mem))...)
	if err != nil {
		return "arrow: " + err.Error()
	}
	got := []string{}
	var convErr error
	st, err := eng.Run(context.Background(), []transform.Source{src("suite", strings.Join(nd, "\n"))}, func(b transform.Batch) error {
		defer b.Record.Release()
		rec := b.Record
		for r := 0; r < int(rec.NumRows()); r++ {
			row := map[string]any{}
			for ci, c := range v.Columns {
				val, err := arrowCell(rec.Column(ci), r)
				if err != nil {
					convErr = fmt.Errorf("column %s: %w", c.Name, err)
				}
				row[c.Name] = val
			}
			b, _ := json.Marshal(row)
			got = append(got, string(b))
		}
		return nil
	})
	if n := mem.CurrentAlloc(); n != 0 {
		return fmt.Sprintf("arrow: %d bytes leaked", n)
	}
	if err != nil {
		return "arrow: " + err.Error()
	}
	if convErr != nil {
		return "arrow: " + convErr.Error()
	}
	if int(st.Rows[v.Name]) != jsonRows {
		return fmt.Sprintf("arrow: %d rows, JSON mode %d", st.Rows[v.Name], jsonRows)
	}
	if tc.ExpectCount != nil {
		return ""
	}
	want := make([]string, len(tc.Expect))
	for i, e := range tc.Expect {
		em, ok := e.(map[string]any)
		if !ok {
			return "arrow: expected row is not an object"
		}
		row := map[string]any{}
		for _, c := range v.Columns {
			val, err := expectCell(c, em[c.Name])
			if err != nil {
				return fmt.Sprintf("arrow: expected %s: %v", c.Name, err)
			}
			row[c.Name] = val
		}
		b, _ := json.Marshal(row)
		want[i] = string(b)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("arrow rows differ:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	return ""
}

// arrowCell reads one Arrow value as the canonical text its type compares by: numbers as
// exact rationals, dates as YYYY-MM-DD, timestamps as RFC 3339 in UTC, times as
// hh:mm:ss.ffffff, lists element by element.
func arrowCell(col arrow.Array, r int) (any, error) {
	if col.IsNull(r) {
		return nil, nil
	}
	switch a := col.(type) {
	case *array.String:
		return a.Value(r), nil
	case *array.Dictionary:
		return a.Dictionary().(*array.String).Value(a.GetValueIndex(r)), nil
	case *array.Boolean:
		return a.Value(r), nil
	case *array.Int32:
		return ratText(big.NewRat(int64(a.Value(r)), 1)), nil
	case *array.Int64:
		return ratText(big.NewRat(a.Value(r), 1)), nil
	case *array.Decimal128:
		sc := a.DataType().(*arrow.Decimal128Type).Scale
		den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(sc)), nil)
		return ratText(new(big.Rat).SetFrac(a.Value(r).BigInt(), den)), nil
	case *array.Date32:
		return a.Value(r).ToTime().Format("2006-01-02"), nil
	case *array.Timestamp:
		return time.UnixMicro(int64(a.Value(r))).UTC().Format(time.RFC3339Nano), nil
	case *array.Time64:
		return time.UnixMicro(int64(a.Value(r))).UTC().Format("15:04:05.000000"), nil
	case *array.List:
		lo, hi := a.ValueOffsets(r)
		out := []any{}
		for k := lo; k < hi; k++ {
			v, err := arrowCell(a.ListValues(), int(k))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected Arrow type %s", col.DataType())
}

// expectCell turns an expected suite value into arrowCell's canonical text for column c,
// applying the documented conversions (package doc, "Values") with the standard library
// rather than the engine's own parsers: a partial date is the first day of its period; a
// dateTime is the instant it names, in UTC (the first instant of a partial one; no zone
// means UTC); a number in a string column is its JSON text.
func expectCell(c *view.Column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if list, ok := v.([]any); ok {
		out := []any{}
		for _, e := range list {
			x, err := expectCell(&view.Column{Type: c.Type, Tags: c.Tags}, e)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	}
	switch c.Type {
	case "boolean":
		return v, nil
	case "integer", "positiveInt", "unsignedInt", "integer64", "decimal":
		n, ok := v.(json.Number)
		if !ok {
			s, isStr := v.(string) // integer64 is a JSON string in FHIR R5
			if !isStr {
				return nil, fmt.Errorf("%v is not a number", v)
			}
			n = json.Number(s)
		}
		r, ok := new(big.Rat).SetString(n.String())
		if !ok {
			return nil, fmt.Errorf("%v is not a number", v)
		}
		return ratText(r), nil
	case "date":
		s, _ := v.(string)
		for _, layout := range []string{"2006-01-02", "2006-01", "2006"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.Format("2006-01-02"), nil
			}
		}
		return nil, fmt.Errorf("%v is not a date", v)
	case "dateTime", "instant":
		s, _ := v.(string)
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02", "2006-01", "2006"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC().Format(time.RFC3339Nano), nil
			}
		}
		return nil, fmt.Errorf("%v is not a dateTime", v)
	case "time":
		s, _ := v.(string)
		for _, layout := range []string{"15:04:05.999999999", "15:04"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.Format("15:04:05.000000"), nil
			}
		}
		return nil, fmt.Errorf("%v is not a time", v)
	}
	switch x := v.(type) {
	case json.Number:
		return x.String(), nil
	case bool:
		return fmt.Sprint(x), nil
	case string:
		return x, nil
	}
	return nil, fmt.Errorf("%v (%T) cannot be in a %q column", v, v, c.Type)
}

func ratText(r *big.Rat) string { return "num:" + r.RatString() }

// canonNumbers replaces every json.Number in v by its exact rational text, so 1.50 and 1.5
// compare equal and 9007199254740993 does not equal 9007199254740992.
func canonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if r, ok := new(big.Rat).SetString(x.String()); ok {
			return ratText(r)
		}
		return x.String()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = canonNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonNumbers(e)
		}
		return out
	}
	return v
}

// compareRows compares row sets ignoring order (values compared as JSON, numbers exactly).
func compareRows(got, want []any) string {
	norm := func(rows []any) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			b, _ := json.Marshal(canonNumbers(r)) // map keys are sorted by encoding/json
			out[i] = string(b)
		}
		sort.Strings(out)
		return out
	}
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("rows differ:\n got  %s\n want %s", strings.Join(g, "\n      "), strings.Join(w, "\n      "))
	}
	return ""
}

// suiteResult is what running one suite directory gave.
type suiteResult struct {
	report                         map[string]map[string][]reportEntry
	shareable, shareablePassed     int
	experimental, experimentalPass int
	failures                       []failure
}

type failure struct{ file, title, tag, why string }

func (f failure) String() string {
	return fmt.Sprintf("%s: %q (%s): %s", f.file, f.title, f.tag, f.why)
}

func runSuite(t *testing.T, dir string) suiteResult {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no suite files in %s: %v", dir, err)
	}
	res := suiteResult{report: map[string]map[string][]reportEntry{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sf suiteFile
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber() // expected values keep their exact text
		if err := dec.Decode(&sf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		base := filepath.Base(f)
		var entries []reportEntry
		for i := range sf.Tests {
			tc := &sf.Tests[i]
			why := runCase(base, &sf, tc)
			tag := "experimental"
			if contains(tc.Tags, "shareable") {
				tag = "shareable"
				res.shareable++
				if why == "" {
					res.shareablePassed++
				}
			} else {
				res.experimental++
				if why == "" {
					res.experimentalPass++
				}
			}
			if why != "" {
				res.failures = append(res.failures, failure{base, tc.Title, tag, why})
			}
			entries = append(entries, reportEntry{Name: tc.Title, Result: reportResult{Passed: why == "", Error: firstLine(why)}})
		}
		res.report[base] = map[string][]reportEntry{"tests": entries}
	}
	return res
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// writeReport writes the report in the official format and validates it against the schema.
func writeReport(t *testing.T, rep map[string]map[string][]reportEntry, path string) []byte {
	t.Helper()
	out, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	if err := validateJSONSchema(t, reportSchema, out); err != nil {
		t.Fatalf("the report does not validate against %s: %v", reportSchema, err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestConformance runs the vendored SQL on FHIR v2 suites (the current one and the upcoming
// one with the open pull requests applied) and requires every case, shareable and
// experimental, to pass in both modes. With -sof.suite DIR or $SOF_SUITE_DIR it runs that
// directory instead, fails on any shareable failure, and writes the report to -report.
func TestConformance(t *testing.T) {
	dir := *suiteDir
	if dir == "" {
		dir = os.Getenv(suiteEnv)
	}
	if dir != "" {
		res := runSuite(t, dir)
		for _, f := range res.failures {
			if f.tag == "shareable" {
				t.Error(f)
			} else {
				t.Log(f)
			}
		}
		path := *reportPath
		if path == "" {
			path = filepath.Join(t.TempDir(), "test_report.json")
		}
		writeReport(t, res.report, path)
		t.Logf("%s: shareable %d/%d passed; experimental %d/%d passed; report %s",
			dir, res.shareablePassed, res.shareable, res.experimentalPass, res.experimental, path)
		return
	}
	// The current suite's two "string join" cases expect "" from join() on an empty
	// collection; FHIRPath says "If the input is empty, the result is empty", and the open
	// pull request (the upcoming suite) removes them and expects empty in fn_join.json.
	// They are the only cases allowed to fail, and only while the upcoming suite lacks them.
	superseded := map[string]bool{"fhirpath.json/string join": true, "fhirpath.json/string join: default separator": true}
	next := suiteTitles(t, "../testdata/sqlonfhir-next/tests")
	for _, s := range []struct {
		name, dir               string
		shareable, experimental int
		passed                  int // shareable cases that must pass
	}{
		{"current", "../testdata/sqlonfhir", 123, 11, 121},
		{"next", "../testdata/sqlonfhir-next", 133, 11, 133},
	} {
		t.Run(s.name, func(t *testing.T) {
			res := runSuite(t, filepath.Join(s.dir, "tests"))
			for _, f := range res.failures {
				if id := f.file + "/" + f.title; superseded[id] && s.name == "current" {
					if next[id] {
						t.Errorf("%s is allowed to fail only because the upcoming suite drops it, but it has it", id)
					}
					t.Logf("superseded by the upcoming suite: %s", f)
					continue
				}
				t.Error(f)
			}
			t.Logf("shareable: %d/%d passed; experimental: %d/%d passed", res.shareablePassed, res.shareable, res.experimentalPass, res.experimental)
			if res.shareable != s.shareable || res.experimental != s.experimental {
				t.Errorf("suite has %d shareable and %d experimental cases, want %d and %d (was the vendored copy changed?)",
					res.shareable, res.experimental, s.shareable, s.experimental)
			}
			if res.shareablePassed != s.passed || res.experimentalPass != s.experimental {
				t.Errorf("passed %d shareable and %d experimental, want %d and %d", res.shareablePassed, res.experimentalPass, s.passed, s.experimental)
			}
			path := *reportPath
			if path == "" {
				path = filepath.Join(t.TempDir(), "test_report.json")
			} else {
				path = strings.TrimSuffix(path, ".json") + "-" + s.name + ".json"
			}
			out := writeReport(t, res.report, path)
			golden := filepath.Join(s.dir, "test_report.json")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			} else if prev, err := os.ReadFile(golden); err != nil {
				t.Errorf("missing %s (run with -update): %v", golden, err)
			} else if string(prev) != string(out) {
				t.Errorf("%s is out of date (run with -update)", golden)
			}
		})
	}
}

// TestConformanceArrowComparesValues checks the Arrow-path comparison itself: a value the
// Arrow path got wrong (here: a wrong expectation) is reported, not only a wrong row count.
func TestConformanceArrowComparesValues(t *testing.T) {
	sf := &suiteFile{Resources: []json.RawMessage{json.RawMessage(`{"resourceType":"Patient","id":"p1","birthDate":"1970-06"}`)}}
	tc := &suiteCase{View: json.RawMessage(`{"resource":"Patient","status":"active","select":[{"column":[
		{"name":"id","path":"id","type":"id"},{"name":"bd","path":"birthDate","type":"date"}]}]}`)}
	tc.Expect = []any{map[string]any{"id": "p1", "bd": "1970-06"}}
	if why := runCase("x.json", sf, tc); why != "" {
		t.Fatalf("a partial date should equal its first day through Arrow: %s", why)
	}
	v, err := view.Parse("x.json", tc.View)
	if err != nil {
		t.Fatal(err)
	}
	v.Name = "t"
	tc.Expect = []any{map[string]any{"id": "p1", "bd": "1970-07"}}
	if why := arrowRows(v, sf, tc, 1); !strings.Contains(why, "arrow rows differ") {
		t.Errorf("a wrong date was not caught by the Arrow comparison: %q", why)
	}
}

// suiteTitles returns "file/title" of every case in a suite directory.
func suiteTitles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	out := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sf suiteFile
		if err := json.Unmarshal(data, &sf); err != nil {
			t.Fatal(err)
		}
		for _, tc := range sf.Tests {
			out[filepath.Base(f)+"/"+tc.Title] = true
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
