package transform_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

const eobView = `{
  "resourceType": "ViewDefinition", "name": "eob", "resource": "ExplanationOfBenefit", "status": "active",
  "select": [{"column": [
    {"name": "id", "path": "getResourceKey()", "type": "id"},
    {"name": "patient_id", "path": "patient.getReferenceKey(Patient)", "type": "id"},
    {"name": "claim_type", "path": "type.coding.where(system='https://bluebutton.cms.gov/resources/codesystem/eob-type').code.first()", "type": "code",
     "tag": [{"name": "arrow/dictionary", "value": "true"}]},
    {"name": "billable_start", "path": "billablePeriod.start", "type": "date"},
    {"name": "created", "path": "created", "type": "dateTime"},
    {"name": "payment", "path": "payment.amount.value", "type": "decimal", "tag": [{"name": "ansi/type", "value": "DECIMAL(15,2)"}]},
    {"name": "precedence", "path": "precedence", "type": "integer"},
    {"name": "active", "path": "status = 'active'", "type": "boolean"},
    {"name": "dx_codes", "path": "diagnosis.diagnosisCodeableConcept.coding.code", "type": "code", "collection": true}
  ]}]
}`

const lineView = `{
  "resourceType": "ViewDefinition", "name": "eob_line", "resource": "ExplanationOfBenefit",
  "select": [{"column": [{"name": "eob_id", "path": "id", "type": "id"}]},
             {"forEach": "item", "column": [
               {"name": "seq", "path": "sequence", "type": "integer"},
               {"name": "row", "path": "%rowIndex", "type": "integer"},
               {"name": "allowed", "path": "adjudication.where(category.coding.code='https://bluebutton.cms.gov/resources/variables/line_alowd_chrg_amt').amount.value", "type": "decimal", "tag": [{"name": "ansi/type", "value": "DECIMAL(15,2)"}]}]}]
}`

func eobLine(id string, payment string, items int) string {
	var it []string
	for i := 1; i <= items; i++ {
		it = append(it, fmt.Sprintf(`{"sequence":%d,"adjudication":[{"category":{"coding":[{"code":"https://bluebutton.cms.gov/resources/variables/line_alowd_chrg_amt"}]},"amount":{"value":%d.5}}]}`, i, i*10))
	}
	return fmt.Sprintf(`{"resourceType":"ExplanationOfBenefit","id":"%s","status":"active","patient":{"reference":"Patient/-199"},`+
		`"type":{"coding":[{"system":"https://bluebutton.cms.gov/resources/codesystem/eob-type","code":"CARRIER"}]},`+
		`"billablePeriod":{"start":"2020-03-01"},"created":"2020-03-04T10:00:00-05:00","payment":{"amount":{"value":%s}},"precedence":1,`+
		`"diagnosis":[{"diagnosisCodeableConcept":{"coding":[{"code":"0110"}]}},{"diagnosisCodeableConcept":{"coding":[{"code":"A02"}]}}],`+
		`"item":[%s]}`, id, payment, strings.Join(it, ","))
}

func mustViews(t testing.TB, srcs ...string) []*view.View {
	t.Helper()
	var vs []*view.View
	for i, s := range srcs {
		v, err := view.Parse(fmt.Sprintf("v%d.json", i), []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func src(name, data string) transform.Source {
	return transform.Source{Name: name, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(data)), nil
	}}
}

// collect gathers emitted batches as text rows per table, releasing every record.
type collect struct {
	mu      sync.Mutex
	rows    map[string][]string
	batches map[string][]int
}

func (c *collect) emit(b transform.Batch) error {
	defer b.Record.Release()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil {
		c.rows, c.batches = map[string][]string{}, map[string][]int{}
	}
	rec := b.Record
	c.batches[b.Table] = append(c.batches[b.Table], int(rec.NumRows()))
	for r := 0; r < int(rec.NumRows()); r++ {
		var cells []string
		for ci := 0; ci < int(rec.NumCols()); ci++ {
			col := rec.Column(ci)
			if col.IsNull(r) {
				cells = append(cells, "null")
				continue
			}
			if d, ok := col.(*array.Decimal128); ok {
				// the unscaled value proves exactness: 12.50 at scale 2 is 1250
				cells = append(cells, d.Value(r).ToString(d.DataType().(*arrow.Decimal128Type).Scale))
				continue
			}
			cells = append(cells, col.ValueStr(r))
		}
		c.rows[b.Table] = append(c.rows[b.Table], strings.Join(cells, "|"))
	}
	return nil
}

type memQuarantine struct{ recs []transform.QuarantineRecord }

func (q *memQuarantine) Put(_ context.Context, r transform.QuarantineRecord) error {
	q.recs = append(q.recs, r)
	return nil
}

func TestRunTypedColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	eng, err := transform.New(mustViews(t, eobView, lineView), transform.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	sch := eng.Schemas()["eob"]
	wantTypes := []string{"utf8", "utf8", "dictionary<values=utf8, indices=int32, ordered=false>", "date32", "timestamp[us, tz=UTC]",
		"decimal(15, 2)", "int32", "bool", "list<item: utf8, nullable>"}
	for i, f := range sch.Fields() {
		if f.Type.String() != wantTypes[i] {
			t.Errorf("column %s: type %s, want %s", f.Name, f.Type, wantTypes[i])
		}
	}
	var c collect
	st, err := eng.Run(context.Background(), []transform.Source{src("a.ndjson", eobLine("e1", "12.5", 2)+"\n\n"+eobLine("e2", "7", 0)+"\n")}, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`e1|-199|CARRIER|2020-03-01|2020-03-04T15:00:00Z|12.50|1|true|["0110","A02"]`,
		`e2|-199|CARRIER|2020-03-01|2020-03-04T15:00:00Z|7.00|1|true|["0110","A02"]`,
	}
	got := c.rows["eob"]
	for i := range got {
		got[i] = strings.ReplaceAll(got[i], ".000000", "")
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("eob rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantLines := []string{"e1|1|0|10.50", "e1|2|1|20.50"}
	if strings.Join(c.rows["eob_line"], "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("eob_line rows: %q want %q", c.rows["eob_line"], wantLines)
	}
	if st.Lines != 2 || st.Resources != 2 || st.Rows["eob"] != 2 || st.Rows["eob_line"] != 2 || st.Quarantined != 0 || st.Files != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestQuarantineAtomicPerResource(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	q := &memQuarantine{}
	eng, err := transform.New(mustViews(t, eobView, lineView), transform.WithAllocator(mem), transform.WithQuarantine(q))
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		eobLine("good1", "1.25", 1),
		`{"resourceType":"ExplanationOfBenefit","id":"broken"`, // malformed JSON
		eobLine("toomany", "1.255", 1),                         // breaks eob (decimal scale) → no eob_line rows either
		`{"resourceType":"Patient","id":"p1"}`,                 // wrong type for the file
		strings.Replace(eobLine("bigint", "1", 1), `"precedence":1`, `"precedence":3000000000`, 1), // int32 overflow
		`[1,2]`,
		eobLine("good2", "2", 3),
	}
	s := src("eob.ndjson", strings.Join(lines, "\n"))
	s.Type = "ExplanationOfBenefit"
	var c collect
	st, err := eng.Run(context.Background(), []transform.Source{s}, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	if st.Quarantined != 5 || len(q.recs) != 5 || st.Lines != 7 || st.Resources != 2 {
		t.Fatalf("stats %+v, %d records", st, len(q.recs))
	}
	wantLine := []int64{2, 3, 4, 5, 6}
	wantErr := []string{"invalid JSON", `ExplanationOfBenefit/toomany: view "eob": column "payment" (decimal(15,2)): value "1.255" has more than 2 decimal places`,
		`resourceType "Patient" in a ExplanationOfBenefit file`, `column "precedence" (int32): value "3000000000" does not fit int32`, "not a JSON object"}
	for i, r := range q.recs {
		if r.File != "eob.ndjson" || r.Line != wantLine[i] || !strings.Contains(r.Err, wantErr[i]) || !bytes.Equal(r.Raw, []byte(lines[wantLine[i]-1])) {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	for _, row := range append(c.rows["eob"], c.rows["eob_line"]...) {
		if strings.HasPrefix(row, "toomany") || strings.HasPrefix(row, "bigint") {
			t.Errorf("quarantined resource left a row: %s", row)
		}
	}
	if len(c.rows["eob"]) != 2 || len(c.rows["eob_line"]) != 4 {
		t.Errorf("rows: %v", c.rows)
	}
}

func TestQuarantineThreshold(t *testing.T) {
	bad := strings.Repeat("{oops\n", 3) + strings.Repeat(eobLine("x", "1", 0)+"\n", 7)
	cases := []struct {
		name    string
		opts    []transform.Option
		wantErr bool
	}{
		{"no quarantine sink fails on first", nil, true},
		{"count under", []transform.Option{transform.WithQuarantine(&memQuarantine{}), transform.WithThreshold(3, -1)}, false},
		{"count over", []transform.Option{transform.WithQuarantine(&memQuarantine{}), transform.WithThreshold(2, -1)}, true},
		{"fraction under", []transform.Option{transform.WithQuarantine(&memQuarantine{}), transform.WithThreshold(-1, 0.3)}, false},
		{"fraction over", []transform.Option{transform.WithQuarantine(&memQuarantine{}), transform.WithThreshold(-1, 0.29)}, true},
		{"unlimited with sink", []transform.Option{transform.WithQuarantine(&memQuarantine{})}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			eng, err := transform.New(mustViews(t, eobView), append(tc.opts, transform.WithAllocator(mem))...)
			if err != nil {
				t.Fatal(err)
			}
			var c collect
			_, err = eng.Run(context.Background(), []transform.Source{src("f", bad)}, c.emit)
			if tc.wantErr != (err != nil) || err != nil && !errors.Is(err, transform.ErrQuarantineThreshold) {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

func TestBatchesConcurrencyLineage(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	eng, err := transform.New(mustViews(t, eobView), transform.WithAllocator(mem), transform.WithBatchRows(3),
		transform.WithConcurrency(2), transform.WithLineage(transform.Lineage{JobID: "job-1", FHIRVersion: "STU3", IngestedAt: at}))
	if err != nil {
		t.Fatal(err)
	}
	var sources []transform.Source
	for f := 0; f < 4; f++ {
		var b strings.Builder
		for i := 0; i < 7; i++ {
			b.WriteString(eobLine(fmt.Sprintf("f%d-%d", f, i), "1", 0) + "\n")
		}
		sources = append(sources, src(fmt.Sprintf("f%d", f), b.String()))
	}
	var c collect
	st, err := eng.Run(context.Background(), sources, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows["eob"] != 28 || len(c.rows["eob"]) != 28 || st.Files != 4 || st.Batches != 12 {
		t.Fatalf("stats %+v rows %d", st, len(c.rows["eob"]))
	}
	sizes := c.batches["eob"]
	sort.Ints(sizes)
	if fmt.Sprint(sizes) != "[1 1 1 1 3 3 3 3 3 3 3 3]" {
		t.Errorf("batch sizes %v", sizes)
	}
	for _, r := range c.rows["eob"] {
		if !strings.HasSuffix(r, "|job-1|STU3|2026-01-02T03:04:05Z") {
			t.Fatalf("lineage missing: %s", r)
		}
	}
	sch := eng.Schemas()["eob"]
	if n := sch.NumFields(); sch.Field(n-1).Name != transform.ColIngestedAt || sch.Field(n-1).Type.ID() != arrow.TIMESTAMP {
		t.Errorf("lineage schema: %v", sch)
	}
}

func TestEmitErrorStopsRun(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	eng, err := transform.New(mustViews(t, eobView), transform.WithAllocator(mem), transform.WithBatchRows(1))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	_, err = eng.Run(context.Background(), []transform.Source{src("f", eobLine("a", "1", 0)+"\n"+eobLine("b", "1", 0))},
		func(b transform.Batch) error { b.Record.Release(); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}

func TestViewValidationErrors(t *testing.T) {
	cases := []struct{ view, want string }{
		{`{"resource":"Patient","select":[{"column":[{"name":"a","path":"id"}]},{"column":[{"name":"b","path":"foo()"}]}]}`,
			`claims/eob.json: select[1].column[0].path: invalid ViewDefinition: unknown function "foo"`},
		{`{"select":[{"column":[{"name":"a","path":"id"}]}]}`, `claims/eob.json: resource: invalid ViewDefinition: required`},
		{`{"resource":"Patient","select":[{"forEach":1}]}`, `claims/eob.json: select[0].forEach: invalid ViewDefinition: must be a string`},
		{`{"resource":"Patient","select":[{"column":[{"name":"a","path":"id"},{"name":"a","path":"id"}]}]}`,
			`claims/eob.json: select[0].column[1].name: invalid ViewDefinition: duplicate column "a" (also at select[0].column[0])`},
		{`{"resource":"Patient","select":[{"column":[{"name":"a","path":"id","type":"money"}]}]}`,
			`claims/eob.json: select[0].column[0].type: invalid ViewDefinition: unsupported column type "money" (supported: the FHIR primitive types base64Binary, boolean, canonical, code, date, dateTime, decimal, id, instant, integer, integer64, markdown, oid, positiveInt, string, time, unsignedInt, uri, url, uuid, xhtml, as names or http://hl7.org/fhir/StructureDefinition/<name>)`},
		{`{"resource":"Patient","select":[{"column":[{"name":"a","path":"name","type":"http://hl7.org/fhir/StructureDefinition/HumanName"}]}]}`,
			`claims/eob.json: select[0].column[0].type: invalid ViewDefinition: unsupported column type "http://hl7.org/fhir/StructureDefinition/HumanName" (supported: the FHIR primitive types base64Binary, boolean, canonical, code, date, dateTime, decimal, id, instant, integer, integer64, markdown, oid, positiveInt, string, time, unsignedInt, uri, url, uuid, xhtml, as names or http://hl7.org/fhir/StructureDefinition/<name>)`},
		{`{"name":"eob-lines","resource":"Patient","select":[{"column":[{"name":"a","path":"id"}]}]}`,
			`claims/eob.json: name: invalid ViewDefinition: "eob-lines" is not a valid view name (sql-name: ^[A-Za-z][A-Za-z0-9_]*$)`},
		{`{"name":"_eob","resource":"Patient","select":[{"column":[{"name":"a","path":"id"}]}]}`,
			`claims/eob.json: name: invalid ViewDefinition: "_eob" is not a valid view name (sql-name: ^[A-Za-z][A-Za-z0-9_]*$)`},
		{`{"resource":"Patient","constant":[{"name":"my code","valueCode":"x"}],"select":[{"column":[{"name":"a","path":"id"}]}]}`,
			`claims/eob.json: constant[0].name: invalid ViewDefinition: "my code" is not a valid constant name (sql-name: ^[A-Za-z][A-Za-z0-9_]*$)`},
		{`{"resource":"Patient","status":"final","select":[{"column":[{"name":"a","path":"id"}]}]}`,
			`claims/eob.json: status: invalid ViewDefinition: "final" is not a PublicationStatus code (draft, active, retired, unknown)`},
		{`{"resource":"Patient","select":[{"unionAll":[{"column":[{"name":"a","path":"id","type":"id"}]},{"column":[{"name":"a","path":"birthDate","type":"date"}]}]}]}`,
			`claims/eob.json: select[0].unionAll[1].column[0].type: invalid ViewDefinition: unionAll branches must give column "a" the same type: "id" (select[0].unionAll[0].column[0]) vs "date"`},
		{`{"resource":"Patient","select":[{"unionAll":[{"column":[{"name":"a","path":"id"}]},{"column":[{"name":"a","path":"multipleBirth","type":"integer"}]}]}]}`,
			`claims/eob.json: select[0].unionAll[1].column[0].type: invalid ViewDefinition: unionAll branches must give column "a" the same type: "string" (select[0].unionAll[0].column[0]) vs "integer"`},
		{`{"resource":"Patient","select":[{"unionAll":[{"column":[{"name":"a","path":"name.given","collection":true}]},{"column":[{"name":"a","path":"id"}]}]}]}`,
			`claims/eob.json: select[0].unionAll[1].column[0].collection: invalid ViewDefinition: unionAll branches must agree on whether column "a" is a collection (select[0].unionAll[0].column[0])`},
		{`{"resource":"Patient","select":[{"unionAll":[{"column":[{"name":"a","path":"id","type":"decimal","tag":[{"name":"ansi/type","value":"DECIMAL(15,2)"}]}]},{"column":[{"name":"a","path":"id","type":"decimal"}]}]}]}`,
			`claims/eob.json: select[0].unionAll[1].column[0].tag: invalid ViewDefinition: unionAll branches must give column "a" the same ansi/type tag: "DECIMAL(15,2)" (select[0].unionAll[0].column[0]) vs ""`},
		{`{"resource":"Patient","select":[{"unionAll":[{"column":[{"name":"a","path":"id"}]},{"column":[{"name":"b","path":"id"}]}]}]}`,
			`claims/eob.json: select[0].unionAll[1]: invalid ViewDefinition: unionAll branches must have the same columns in the same order: [a] vs [b]`},
		{`{"resource":"Patient","select":[{"column":[{"name":"a","path":"name.where(use = %nope)"}]}]}`,
			`claims/eob.json: select[0].column[0].path: invalid ViewDefinition: undefined constant %nope`},
	}
	for _, tc := range cases {
		_, err := view.Parse("claims/eob.json", []byte(tc.view))
		if err == nil || err.Error() != tc.want || !errors.Is(err, view.ErrInvalid) {
			t.Errorf("Parse(%s)\n got  %v\n want %s", tc.view, err, tc.want)
		}
	}
	// tag errors are found by New
	v := mustViews(t, `{"name":"x","resource":"Patient","select":[{"column":[{"name":"a","path":"id","type":"string","tag":[{"name":"ansi/type","value":"DECIMAL(15,2)"}]}]}]}`)
	if _, err := transform.New(v); err == nil || !strings.Contains(err.Error(), "select[0].column[0]: invalid ViewDefinition: tag ansi/type") {
		t.Errorf("New: %v", err)
	}
}

func Example() {
	v, err := view.Parse("patient.json", []byte(`{
	  "resourceType": "ViewDefinition", "name": "patient", "resource": "Patient",
	  "select": [{"column": [
	    {"name": "id", "path": "getResourceKey()", "type": "id"},
	    {"name": "birth_date", "path": "birthDate", "type": "date"},
	    {"name": "family", "path": "name.where(use = 'official').family.first()", "type": "string"}]}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	eng, err := transform.New([]*view.View{v})
	if err != nil {
		fmt.Println(err)
		return
	}
	ndjson := `{"resourceType":"Patient","id":"p1","birthDate":"1950-07-04","name":[{"use":"official","family":"Doe"}]}
{"resourceType":"Patient","id":"p2"}
`
	src := transform.Source{Name: "patient.ndjson", Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(ndjson)), nil
	}}
	stats, err := eng.Run(context.Background(), []transform.Source{src}, func(b transform.Batch) error {
		defer b.Record.Release()
		fmt.Println(b.Table, b.Record.Schema().Field(1).Type)
		for r := 0; r < int(b.Record.NumRows()); r++ {
			fmt.Println(b.Record.Column(0).ValueStr(r), b.Record.Column(1).ValueStr(r), b.Record.Column(2).ValueStr(r))
		}
		return nil
	})
	fmt.Println(stats.Rows["patient"], err)
	// Output:
	// patient date32
	// p1 1950-07-04 Doe
	// p2 (null) (null)
	// 2 <nil>
}

func TestLineNumbersLimitsAndRepeat(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	q := &memQuarantine{}
	rv := `{"name":"qr","resource":"QuestionnaireResponse","select":[{"repeat":["item","item","$this","%resource"],"column":[{"name":"l","path":"linkId"}]}]}`
	eng, err := transform.New(mustViews(t, rv), transform.WithAllocator(mem), transform.WithQuarantine(q), transform.WithMaxLineBytes(400))
	if err != nil {
		t.Fatal(err)
	}
	// 12 levels of nesting; without de-duplication the repeated paths would collect 3^12 copies.
	deep := `{"resourceType":"QuestionnaireResponse","id":"q"` + strings.Repeat(`,"item":[{"linkId":"x"`, 12) + strings.Repeat(`}]`, 12) + `}`
	long := `{"resourceType":"QuestionnaireResponse","id":"long","text":"` + strings.Repeat("a", 450) + `"}`
	input := "\n" + deep + "\r\n\n  \n" + long + "\n" + `{"resourceType":"QuestionnaireResponse",` + "\n"
	var c collect
	st, err := eng.Run(context.Background(), []transform.Source{src("qr.ndjson", input)}, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.recs) != 2 || q.recs[0].Line != 5 || len(q.recs[0].Raw) != 400 || !strings.Contains(q.recs[0].Err, "longer than the limit of 400") ||
		q.recs[1].Line != 6 {
		t.Fatalf("quarantine: %+v", q.recs)
	}
	// 12 nested items plus the resource itself (reached through %resource), each once
	if st.Rows["qr"] != 13 || st.Lines != 3 || st.Bytes != int64(len(input)) {
		t.Fatalf("stats %+v", st)
	}
}

func TestFailedRunEmitsNothingPending(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	eng, err := transform.New(mustViews(t, eobView), transform.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	a := src("a", eobLine("a1", "1", 0)+"\n"+eobLine("a2", "1", 0)+"\nnot json\n")
	b := src("b", eobLine("b1", "1", 0)+"\n")
	var c collect
	_, err = eng.Run(context.Background(), []transform.Source{a, b}, c.emit)
	if !errors.Is(err, transform.ErrQuarantineThreshold) || !strings.Contains(err.Error(), "a line 3: invalid JSON") {
		t.Fatalf("err = %v", err)
	}
	if len(c.rows["eob"]) != 0 {
		t.Fatalf("rows of a failed run were emitted: %v", c.rows["eob"])
	}
}

func TestMoreColumnTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	vj := `{"name":"obs","resource":"Observation","select":[{"column":[
	  {"name":"id","path":"id"},
	  {"name":"codes","path":"code.coding.code","type":"code","collection":true,"tag":[{"name":"arrow/dictionary","value":"true"}]},
	  {"name":"big","path":"valueInteger64","type":"integer64"},
	  {"name":"at","path":"effective.ofType(time)","type":"time"},
	  {"name":"n","path":"component.count()","type":"integer","tag":[{"name":"ansi/type","value":"INTEGER"}]},
	  {"name":"num_text","path":"valueInteger64","type":"string"},
	  {"name":"flag","path":"component.exists()","type":"string"}]}]}`
	eng, err := transform.New(mustViews(t, vj), transform.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := "utf8 list<item: dictionary<values=utf8, indices=int32, ordered=false>, nullable> int64 time64[us] int32 utf8 utf8"
	var got []string
	for _, f := range eng.Schemas()["obs"].Fields() {
		got = append(got, f.Type.String())
	}
	if strings.Join(got, " ") != wantTypes {
		t.Errorf("types %s\nwant %s", strings.Join(got, " "), wantTypes)
	}
	in := `{"resourceType":"Observation","id":"o1","code":{"coding":[{"code":"a"},{"code":"b"},{"code":"a"}]},"valueInteger64":9007199254740993,"effectiveTime":"10:20:30"}
{"resourceType":"Observation","id":"o2","component":[{},{}]}`
	var c collect
	if _, err := eng.Run(context.Background(), []transform.Source{src("o", in)}, c.emit); err != nil {
		t.Fatal(err)
	}
	want := []string{`o1|["a","b","a"]|9007199254740993|10:20:30.000000|0|9007199254740993|false`, `o2|[]|null|null|2|null|true`}
	if strings.Join(c.rows["obs"], "\n") != strings.Join(want, "\n") {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(c.rows["obs"], "\n"), strings.Join(want, "\n"))
	}
}

// TestContextInForEach resolves a line's care-team link with %context (the forEach node)
// inside a where() over the resource: the lookup SQL on FHIR views write for links.
func TestContextInForEach(t *testing.T) {
	const v = `{"resourceType": "ViewDefinition", "name": "line", "resource": "ExplanationOfBenefit",
  "select": [{"column": [{"name": "eob_id", "path": "id", "type": "id"}]},
    {"forEach": "item", "column": [
      {"name": "seq", "path": "sequence", "type": "integer"},
      {"name": "npi", "path": "%resource.careTeam.where(sequence = %context.careTeamLinkId.first()).provider.identifier.value.first()", "type": "string"},
      {"name": "ctx_is_line", "path": "%context.sequence = sequence", "type": "boolean"}]}]}`
	line := `{"resourceType":"ExplanationOfBenefit","id":"e1",` +
		`"careTeam":[{"sequence":2,"provider":{"identifier":{"value":"222"}}},{"sequence":300,"provider":{"identifier":{"value":"300300"}}}],` +
		`"item":[{"sequence":1,"careTeamLinkId":[2,300]},{"sequence":2,"careTeamLinkId":[300]},{"sequence":3},{"sequence":4,"careTeamLinkId":[9]}]}`
	eng, err := transform.New(mustViews(t, v))
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	if _, err := eng.Run(context.Background(), []transform.Source{src("a.ndjson", line+"\n")}, c.emit); err != nil {
		t.Fatal(err)
	}
	want := []string{"e1|1|222|true", "e1|2|300300|true", "e1|3|null|true", "e1|4|null|true"}
	if got := c.rows["line"]; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Values are claims data (PHI): errors Run returns reach logs, so they name the file,
// line, resource, view, column and type but never the value; only the quarantine
// record (written to the operator's state directory) carries it.
func TestErrorsDoNotQuoteValues(t *testing.T) {
	const secret = "Jane Doe 1942-03-04 MBI 1EG4TE5MK73"
	cases := []struct{ name, line, want string }{
		{"decimal", eobLine("e1", `"`+secret+`"`, 0), `ExplanationOfBenefit/e1: view "eob": column "payment" (decimal(15,2)): value is not a number`},
		{"scale", eobLine("e2", "1.2345678", 0), `column "payment" (decimal(15,2)): value has more than 2 decimal places`},
		{"date", strings.Replace(eobLine("e3", "1", 0), `"2020-03-01"`, `"`+secret+`"`, 1), `ExplanationOfBenefit/e3: view "eob"`},
		{"resourceType", `{"resourceType":"` + secret + `","id":"x"}`, "resourceType (not a type name, not shown) in a ExplanationOfBenefit file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			value := secret
			if tc.name == "scale" {
				value = "1.2345678"
			}
			mk := func() transform.Source {
				s := src("eob.ndjson", eobLine("ok", "1", 0)+"\n"+tc.line+"\n")
				s.Type = "ExplanationOfBenefit"
				return s
			}
			// over the threshold: the error names where and why, not the value
			eng, err := transform.New(mustViews(t, eobView, lineView), transform.WithQuarantine(&memQuarantine{}), transform.WithThreshold(0, -1))
			if err != nil {
				t.Fatal(err)
			}
			var c collect
			_, err = eng.Run(context.Background(), []transform.Source{mk()}, c.emit)
			if !errors.Is(err, transform.ErrQuarantineThreshold) {
				t.Fatalf("err = %v, want ErrQuarantineThreshold", err)
			}
			if msg := err.Error(); strings.Contains(msg, value) || !strings.Contains(msg, "eob.ndjson line 2: ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q: must contain %q and not the value %q", msg, tc.want, value)
			}
			// under the threshold: the quarantine record keeps the value for the operator
			q := &memQuarantine{}
			eng, err = transform.New(mustViews(t, eobView, lineView), transform.WithQuarantine(q))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := eng.Run(context.Background(), []transform.Source{mk()}, c.emit); err != nil {
				t.Fatal(err)
			}
			if len(q.recs) != 1 || !bytes.Contains(q.recs[0].Raw, []byte(value)) {
				t.Fatalf("records %+v", q.recs)
			}
			if tc.name != "resourceType" && !strings.Contains(q.recs[0].Err, strconv.Quote(value)) {
				t.Errorf("quarantine record error %q lacks the value %q", q.recs[0].Err, value)
			}
		})
	}
}
