package transform_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
)

// Spec corners beyond the official suite (issue 19), each checked in JSON-rows mode and
// through the Arrow path. View-level rules (sql-name, unionAll types, status, profiles) are
// in TestViewValidationErrors and transform/view's TestConform.

// runBoth evaluates one view over NDJSON lines: the JSON rows, the Arrow rows as text,
// and the quarantine records.
func runBoth(t *testing.T, viewJSON string, lines ...string) ([]map[string]any, []string, []transform.QuarantineRecord) {
	t.Helper()
	v, err := view.Parse("corner.json", []byte(viewJSON))
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	eng, err := transform.New([]*view.View{v}, transform.WithAllocator(mem), transform.WithQuarantine(&memQuarantine{}))
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for _, l := range lines {
		out, err := eng.Rows([]byte(l))
		if err != nil {
			rows = append(rows, map[string]any{"error": err.Error()})
			continue
		}
		rows = append(rows, out[v.Name]...)
	}
	q := &memQuarantine{}
	eng2, err := transform.New([]*view.View{v}, transform.WithAllocator(mem), transform.WithQuarantine(q))
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	if _, err := eng2.Run(context.Background(), []transform.Source{src("c", strings.Join(lines, "\n"))}, c.emit); err != nil {
		t.Fatal(err)
	}
	return rows, c.rows[v.Name], q.recs
}

func TestCornerJoinEmpty(t *testing.T) {
	rows, arrowRows, _ := runBoth(t, `{"name":"t","resource":"Patient","status":"active","select":[{"column":[
	  {"name":"id","path":"id","type":"id"},{"name":"given","path":"name.given.join(',')","type":"string"}]}]}`,
		`{"resourceType":"Patient","id":"a","name":[{"given":["x","y"]}]}`, `{"resourceType":"Patient","id":"b"}`)
	if rows[0]["given"] != "x,y" || rows[1]["given"] != nil {
		t.Errorf("JSON rows %v: join over nothing must be empty (null), not \"\"", rows)
	}
	if strings.Join(arrowRows, ";") != "a|x,y;b|null" {
		t.Errorf("Arrow rows %v", arrowRows)
	}
}

func TestCornerBoundaryPrecisionAndPeriod(t *testing.T) {
	rows, arrowRows, q := runBoth(t, `{"name":"t","resource":"Coverage","status":"active","select":[{"column":[
	  {"name":"id","path":"id","type":"id"},
	  {"name":"start_month","path":"period.start.highBoundary(6)","type":"string"},
	  {"name":"low","path":"period.lowBoundary()","type":"dateTime"},
	  {"name":"high","path":"period.highBoundary()","type":"dateTime"},
	  {"name":"amount","path":"extension('x').value.ofType(decimal).lowBoundary(2)","type":"decimal"}]}]}`,
		`{"resourceType":"Coverage","id":"c1","period":{"start":"2010-02","end":"2010-03-15"},"extension":[{"url":"x","valueDecimal":1.587}]}`,
		`{"resourceType":"Coverage","id":"c2","period":{"start":"2011-01-01T10:00:00Z"}}`)
	if len(q) != 0 {
		t.Fatalf("quarantined: %v", q[0].Err)
	}
	want := []map[string]any{
		{"id": "c1", "start_month": "2010-02", "low": "2010-02-01T00:00:00.000+14:00", "high": "2010-03-15T23:59:59.999-12:00", "amount": json.Number("1.58")},
		{"id": "c2", "start_month": "2011-01", "low": "2011-01-01T10:00:00.000Z", "high": nil, "amount": nil},
	}
	for i := range want {
		for k, w := range want[i] {
			if rows[i][k] != w {
				t.Errorf("row %d %s = %#v, want %#v", i, k, rows[i][k], w)
			}
		}
	}
	wantArrow := []string{
		"c1|2010-02|2010-01-31T10:00:00Z|2010-03-16T11:59:59.999Z|1.580000000000000000",
		"c2|2011-01|2011-01-01T10:00:00Z|null|null",
	}
	if strings.Join(arrowRows, "\n") != strings.Join(wantArrow, "\n") {
		t.Errorf("Arrow rows\n got  %s\n want %s", strings.Join(arrowRows, "\n      "), strings.Join(wantArrow, "\n      "))
	}
}

// TestCornerPrimitiveExtension: birthDate.extension(url) reads _birthDate, also through the
// engine's parser, which must keep the `_name` members it would otherwise skip.
func TestCornerPrimitiveExtension(t *testing.T) {
	const url = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
	rows, arrowRows, _ := runBoth(t, `{"name":"t","resource":"Patient","status":"active","select":[{"column":[
	  {"name":"id","path":"id","type":"id"},
	  {"name":"birth_time","path":"birthDate.extension('`+url+`').value.ofType(dateTime).first()","type":"dateTime"}]}]}`,
		`{"resourceType":"Patient","id":"a","birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"`+url+`","valueDateTime":"1970-01-01T10:15:00Z"}]}}`,
		`{"resourceType":"Patient","id":"b","birthDate":"1970-01-01"}`)
	if rows[0]["birth_time"] != "1970-01-01T10:15:00Z" || rows[1]["birth_time"] != nil {
		t.Errorf("JSON rows %v", rows)
	}
	if strings.Join(arrowRows, ";") != "a|1970-01-01T10:15:00Z;b|null" {
		t.Errorf("Arrow rows %v", arrowRows)
	}
}

// TestCornerInteger64Constant: an integer64 constant beyond 2^53 stays exact in JSON rows
// (it used to pass through float64) and in Arrow.
func TestCornerInteger64Constant(t *testing.T) {
	rows, arrowRows, _ := runBoth(t, `{"name":"t","resource":"Patient","status":"active",
	  "constant":[{"name":"big","valueInteger64":"9007199254740993"},{"name":"n","valueInteger64":9007199254740995}],
	  "select":[{"column":[{"name":"big","path":"%big","type":"integer64"},{"name":"n","path":"%n","type":"integer64"},
	                       {"name":"big_text","path":"%big.toString()","type":"string"}]}]}`,
		`{"resourceType":"Patient","id":"a"}`)
	if rows[0]["big"] != json.Number("9007199254740993") || rows[0]["n"] != json.Number("9007199254740995") || rows[0]["big_text"] != "9007199254740993" {
		t.Errorf("JSON rows %v", rows)
	}
	if strings.Join(arrowRows, ";") != "9007199254740993|9007199254740995|9007199254740993" {
		t.Errorf("Arrow rows %v", arrowRows)
	}
}

// TestCornerTypeURI: a column type may be a StructureDefinition URI; it types the Arrow field.
func TestCornerTypeURI(t *testing.T) {
	v, err := view.Parse("uri.json", []byte(`{"name":"t","resource":"Patient","status":"active","select":[{"column":[
	  {"name":"n","path":"multipleBirth.ofType(integer)","type":"http://hl7.org/fhir/StructureDefinition/integer"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := transform.New([]*view.View{v})
	if err != nil {
		t.Fatal(err)
	}
	if f := eng.Schemas()["t"].Field(0); f.Type.ID() != arrow.INT32 {
		t.Errorf("field %v, want int32", f)
	}
}

func TestCornerANSITypes(t *testing.T) {
	col := func(typ, tag, path string) string {
		return `{"name":"t","resource":"Patient","status":"active","select":[{"column":[{"name":"id","path":"id","type":"id"},
		  {"name":"c","path":"` + path + `","type":"` + typ + `","tag":[{"name":"ansi/type","value":"` + tag + `"}]}]}]}`
	}
	for _, tc := range []struct{ typ, tag, err string }{
		{"string", "VARCHAR(64)", ""},
		{"string", "character varying (64)", ""},
		{"code", "CHAR(2)", ""},
		{"string", "NVARCHAR", ""},
		{"dateTime", "TIMESTAMP(3) WITH TIME ZONE", ""},
		{"instant", "TIMESTAMPTZ(6)", ""},
		{"time", "TIME(0)", ""},
		{"decimal", "DEC(15,2)", ""},
		{"integer", "VARCHAR(64)", `does not match column type "integer"`},
		{"string", "VARCHAR(0)", "the length must be"},
		{"dateTime", "TIMESTAMP(9)", "0..6"},
		{"time", "TIME WITH TIME ZONE", "does not match"},
		{"string", "DOUBLE PRECISION", "unsupported value"},
	} {
		v, err := view.Parse("a.json", []byte(col(tc.typ, tc.tag, "id")))
		if err != nil {
			t.Fatal(err)
		}
		_, err = transform.New([]*view.View{v})
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s %s: %v, want %q", tc.typ, tc.tag, err, tc.err)
		}
	}
	// limits quarantine, never truncate
	_, arrowRows, q := runBoth(t, col("string", "VARCHAR(3)", "name.family.first()"),
		`{"resourceType":"Patient","id":"a","name":[{"family":"abc"}]}`,
		`{"resourceType":"Patient","id":"b","name":[{"family":"héé"}]}`,
		`{"resourceType":"Patient","id":"c","name":[{"family":"abcd"}]}`)
	if strings.Join(arrowRows, ";") != "a|abc;b|héé" || len(q) != 1 || !strings.Contains(q[0].Err, `value "abcd" is longer than 3 characters`) {
		t.Errorf("VARCHAR(3): rows %v, quarantine %v", arrowRows, q)
	}
	_, arrowRows, q = runBoth(t, col("dateTime", "TIMESTAMP(0)", "meta.lastUpdated"),
		`{"resourceType":"Patient","id":"a","meta":{"lastUpdated":"2020-01-01T00:00:01.000Z"}}`,
		`{"resourceType":"Patient","id":"b","meta":{"lastUpdated":"2020-01-01T00:00:01.5Z"}}`)
	if strings.Join(arrowRows, ";") != "a|2020-01-01T00:00:01Z" || len(q) != 1 || !strings.Contains(q[0].Err, "more fractional second digits") {
		t.Errorf("TIMESTAMP(0): rows %v, quarantine %v", arrowRows, q)
	}
}
