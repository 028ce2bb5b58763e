package schemas

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dpcetl/dpcetl/transform"
)

var update = flag.Bool("update", false, "rewrite golden files (testdata/golden, schemas/README.md) from the current output")

const goldenDir = "../testdata/golden"

// checkGolden compares got with the golden file, or rewrites it under -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run go test ./schemas -update)", path, err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the output; diff:\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(no line differs)"
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func TestVersionsHaveIdenticalColumns(t *testing.T) {
	stu3, err := Definitions(STU3)
	if err != nil {
		t.Fatal(err)
	}
	r4, err := Definitions(R4)
	if err != nil {
		t.Fatal(err)
	}
	if len(stu3) != len(Tables()) || len(r4) != len(Tables()) {
		t.Fatalf("got %d STU3 and %d R4 tables, want %d", len(stu3), len(r4), len(Tables()))
	}
	for i := range stu3 {
		a, b := stu3[i], r4[i]
		if a.Name != b.Name || a.Resource != b.Resource {
			t.Fatalf("table %d: STU3 %s/%s vs R4 %s/%s", i, a.Name, a.Resource, b.Name, b.Resource)
		}
		if len(a.Columns) != len(b.Columns) {
			t.Errorf("%s: STU3 has %d columns, R4 %d", a.Name, len(a.Columns), len(b.Columns))
			continue
		}
		for j := range a.Columns {
			ca, cb := a.Columns[j], b.Columns[j]
			if ca.Name != cb.Name || ca.SQLType != cb.SQLType || ca.FHIRType != cb.FHIRType || ca.Description != cb.Description {
				t.Errorf("%s column %d: STU3 %s %s/%s vs R4 %s %s/%s", a.Name, j, ca.Name, ca.FHIRType, ca.SQLType, cb.Name, cb.FHIRType, cb.SQLType)
			}
			if ca.Description == "" {
				t.Errorf("%s.%s has no description", a.Name, ca.Name)
			}
		}
	}
}

func TestColumnTypes(t *testing.T) {
	defs, err := Definitions(STU3)
	if err != nil {
		t.Fatal(err)
	}
	// Money, dates and instants must be typed (never left to the string default), and every
	// *_amount column must be DECIMAL(15,2).
	for _, tb := range defs {
		for _, c := range tb.Columns {
			switch {
			case strings.HasSuffix(c.Name, "_amount") && c.SQLType != "DECIMAL(15,2)":
				t.Errorf("%s.%s is %s, want DECIMAL(15,2)", tb.Name, c.Name, c.SQLType)
			case (strings.HasSuffix(c.Name, "_date") || strings.HasSuffix(c.Name, "_start") || strings.HasSuffix(c.Name, "_end")) && c.SQLType != "DATE":
				t.Errorf("%s.%s is %s, want DATE", tb.Name, c.Name, c.SQLType)
			case c.Name == "last_updated" && c.SQLType != "TIMESTAMP":
				t.Errorf("%s.%s is %s, want TIMESTAMP", tb.Name, c.Name, c.SQLType)
			case strings.HasSuffix(c.Name, "_code") && c.SQLType != "VARCHAR":
				t.Errorf("%s.%s is %s, want VARCHAR (codes keep leading zeros)", tb.Name, c.Name, c.SQLType)
			}
		}
	}
}

func TestViewNamesMatchFiles(t *testing.T) {
	for _, v := range []string{STU3, R4, "stu3", "r4"} {
		raw, err := ViewJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != len(Tables()) {
			t.Errorf("%s: %d views, want %d", v, len(raw), len(Tables()))
		}
	}
	if _, err := ViewJSON("DSTU2"); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("ViewJSON(DSTU2) error = %v, want ErrUnknownVersion", err)
	}
}

func TestReadDir(t *testing.T) {
	good := `{"resourceType":"ViewDefinition","name":"eob_supporting_info","resource":"ExplanationOfBenefit",
	  "select":[{"column":[{"name":"eob_id","path":"id","type":"string"}]},{"forEach":"supportingInfo","column":[{"name":"category","path":"category.coding.code.first()","type":"string"}]}]}`
	clash := `{"resourceType":"ViewDefinition","name":"eob","resource":"ExplanationOfBenefit","select":[{"column":[{"name":"id","path":"id","type":"string"}]}]}`
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []string
		wantErr error
	}{
		{"extra table", fstest.MapFS{"a.json": {Data: []byte(good)}, "notes.txt": {Data: []byte("x")}}, []string{"eob_supporting_info"}, nil},
		{"built-in clash", fstest.MapFS{"a.json": {Data: []byte(good)}, "b.json": {Data: []byte(clash)}}, nil, ErrTableClash},
		{"duplicate", fstest.MapFS{"a.json": {Data: []byte(good)}, "b.json": {Data: []byte(good)}}, nil, ErrTableClash},
		{"empty dir", fstest.MapFS{}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			uvs, err := ReadDir(tc.files)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, u := range uvs {
				names = append(names, u.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("names = %v, want %v", names, tc.want)
			}
		})
	}
	if _, err := ReadDir(fstest.MapFS{"bad.json": {Data: []byte("{")}}); err == nil {
		t.Error("malformed JSON accepted")
	}
}

func TestDDLGolden(t *testing.T) {
	defs, err := Definitions(STU3)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file string
		d    string
		opt  DDLOptions
	}{
		{"duckdb.sql", DuckDB, DDLOptions{}},
		{"duckdb_location.sql", DuckDB, DDLOptions{Location: "/data/dpc", Tables: []string{"eob", "eob_line"}}},
		{"athena.sql", Athena, DDLOptions{Location: "s3://my-bucket/dpc/", Dataset: "claims"}},
		{"bigquery.sql", BigQuery, DDLOptions{Dataset: "claims"}},
		{"bigquery_location.sql", BigQuery, DDLOptions{Dataset: "claims", Location: "gs://my-bucket/dpc", Tables: []string{"coverage_month"}}},
		{"snowflake.sql", Snowflake, DDLOptions{}},
		{"snowflake_location.sql", Snowflake, DDLOptions{Location: "@claims.public.dpc_stage/dpc", Tables: []string{"export_error"}}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			got, err := DDL(tc.d, defs, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, "schema version "+Version) {
				t.Error("DDL does not carry the schema version")
			}
			for _, tb := range tc.opt.Tables {
				if !strings.Contains(got, tb) {
					t.Errorf("DDL lacks table %s", tb)
				}
			}
			checkGolden(t, filepath.Join(goldenDir, "ddl", tc.file), []byte(got))
		})
	}
}

// TestDDLExactDecimals: with money policy exact every decimal column is DECIMAL(38,18) in every
// dialect (BigQuery needs BIGNUMERIC for 18 places); nothing else changes.
func TestDDLExactDecimals(t *testing.T) {
	defs, err := Definitions(R4)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := DDL(DuckDB, defs, DDLOptions{Tables: []string{TableEOB}})
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]string{DuckDB: "DECIMAL(38,18)", Athena: "decimal(38,18)", BigQuery: "BIGNUMERIC(38, 18)", Snowflake: "NUMBER(38,18)"} {
		out, err := DDL(d, ExactDecimals(defs), DDLOptions{Tables: []string{TableEOB}, Location: "s3://b/p"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "payment_amount "+want) && !strings.Contains(out, "payment_amount AS "+want) || strings.Contains(out, "15,2") || strings.Contains(out, "15, 2") {
			t.Errorf("%s: payment_amount is not %s:\n%s", d, want, out)
		}
	}
	if !strings.Contains(plain, "payment_amount DECIMAL(15,2)") || defs[3].Columns[0].SQLType != "VARCHAR" {
		t.Errorf("ExactDecimals changed its input or the default DDL:\n%s", plain)
	}
}

func TestDDLErrors(t *testing.T) {
	defs, err := Definitions(R4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DDL("oracle", defs, DDLOptions{}); !errors.Is(err, ErrUnknownDialect) {
		t.Errorf("oracle: %v", err)
	}
	if _, err := DDL(DuckDB, defs, DDLOptions{Tables: []string{"claims"}}); !errors.Is(err, ErrUnknownTable) {
		t.Errorf("unknown table: %v", err)
	}
	if _, err := DDL(Athena, defs, DDLOptions{}); err == nil {
		t.Error("athena without location accepted")
	}
	if _, err := DDL(DuckDB, defs, DDLOptions{Location: "/x'; DROP TABLE eob; --"}); err == nil {
		t.Error("quote in location accepted")
	}
}

func TestDDLQuotesReservedWords(t *testing.T) {
	defs, err := Definitions(STU3)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DDL(Athena, defs, DDLOptions{Location: "s3://b/p", Tables: []string{TableCoverageMonth, TableEOBDiagnosis}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"group_id string", "`month` int", "`code` string", "`sequence` int"} {
		if !strings.Contains(got, want) {
			t.Errorf("athena DDL lacks %q", want)
		}
	}
}

func TestReadme(t *testing.T) {
	got, err := Docs()
	if err != nil {
		t.Fatal(err)
	}
	defs, _ := Definitions(STU3)
	for _, tb := range defs {
		for _, c := range tb.Columns {
			if !strings.Contains(got, "`"+c.Name+"`") {
				t.Errorf("README lacks %s.%s", tb.Name, c.Name)
			}
		}
	}
	checkGolden(t, "README.md", []byte(got))
}

func TestLoadDirAddsTables(t *testing.T) {
	dir := t.TempDir()
	extra := `{"resourceType":"ViewDefinition","name":"eob_supporting_info","resource":"ExplanationOfBenefit",
	  "select":[{"column":[{"name":"eob_id","path":"id","type":"string"}]},
	            {"forEach":"information","column":[{"name":"category","path":"category.coding.code.first()","type":"string"},
	                                               {"name":"timing_date","path":"timingDate","type":"date"}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "supporting.json"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	vs, err := AllViews(STU3, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(Tables())+1 || vs[len(vs)-1].Name != "eob_supporting_info" {
		t.Fatalf("got %d views, last %s", len(vs), vs[len(vs)-1].Name)
	}
	_, data := sampleNames(t, "stu3", "eobReadInpatient.json")
	eng, err := transform.New(vs)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	_, err = eng.Run(context.Background(), []transform.Source{{Name: "x", Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data["eobReadInpatient.json"])), nil
	}}}, func(b transform.Batch) error {
		defer b.Record.Release()
		if b.Table == "eob_supporting_info" {
			rows += int(b.Record.NumRows())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 9 { // the inpatient sample has nine information entries
		t.Errorf("extra table has %d rows, want 9", rows)
	}
	clash := `{"resourceType":"ViewDefinition","name":"eob_line","resource":"ExplanationOfBenefit","select":[{"column":[{"name":"id","path":"id"}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "clash.json"), []byte(clash), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir); !errors.Is(err, ErrTableClash) {
		t.Errorf("clash: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"resourceType":"ViewDefinition","name":"x","resource":"Patient","select":[{"column":[{"name":"a","path":"name.nosuchfn()"}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(filepath.Dir(bad)); err == nil {
		t.Error("a view with an unknown FHIRPath function was accepted")
	}
	if _, err := LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing dir accepted")
	}
}
