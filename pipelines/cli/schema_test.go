package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/schemas"
)

func runSchemaCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

// TestSchemaDDLGolden checks the CLI prints exactly the golden DDL the schemas package's own
// golden test pins (testdata/golden/ddl), so the command and the library cannot drift apart.
func TestSchemaDDLGolden(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
	}{
		{"duckdb.sql", []string{"schema", "ddl", "--dialect", "duckdb"}},
		{"duckdb_location.sql", []string{"schema", "ddl", "--dialect", "DuckDB", "--location", "/data/dpc", "--table", "eob", "--table", "eob_line"}},
		{"athena.sql", []string{"schema", "ddl", "--dialect", "athena", "--location", "s3://my-bucket/dpc/", "--dataset", "claims"}},
		{"bigquery.sql", []string{"schema", "ddl", "--dialect", "bigquery", "--dataset", "claims"}},
		{"bigquery_location.sql", []string{"schema", "ddl", "--dialect", "bigquery", "--dataset", "claims", "--location", "gs://my-bucket/dpc", "--table", "coverage_month"}},
		{"snowflake.sql", []string{"schema", "ddl", "--dialect", "snowflake"}},
		{"snowflake_location.sql", []string{"schema", "ddl", "--dialect", "snowflake", "--location", "@claims.public.dpc_stage/dpc", "--table", "export_error"}},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errs := runSchemaCLI(t, tc.args...)
			if code != ExitOK {
				t.Fatalf("exit %d, stderr: %s", code, errs)
			}
			want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "golden", "ddl", tc.golden))
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s", tc.golden)
			}
		})
	}
}

func TestSchemaDDLErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no dialect", []string{"schema", "ddl"}, ExitUsage, "--dialect is required"},
		{"bad dialect", []string{"schema", "ddl", "--dialect", "oracle"}, ExitUsage, "unknown SQL dialect"},
		{"bad table", []string{"schema", "ddl", "--dialect", "duckdb", "--table", "claims"}, ExitUsage, "unknown table"},
		{"athena without location", []string{"schema", "ddl", "--dialect", "athena"}, ExitUsage, "--location"},
		{"bad flag", []string{"schema", "ddl", "--dialekt", "duckdb"}, ExitUsage, "dialekt"},
		{"stray arg", []string{"schema", "ddl", "--dialect", "duckdb", "extra"}, ExitUsage, "unexpected argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runSchemaCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Fatalf("exit %d stderr %q, want exit %d containing %q", code, errs, tc.code, tc.msg)
			}
		})
	}
}

func TestSchemaDocsMatchesReadme(t *testing.T) {
	code, out, errs := runSchemaCLI(t, "schema", "docs")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "schemas", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Error("dpcetl schema docs differs from schemas/README.md (go test ./schemas -run TestReadme -update)")
	}
	file := filepath.Join(t.TempDir(), "tables.md")
	if code, _, errs := runSchemaCLI(t, "schema", "docs", "--out", file); code != ExitOK {
		t.Fatalf("--out: exit %d: %s", code, errs)
	}
	if got, _ := os.ReadFile(file); string(got) != out {
		t.Error("--out file differs from stdout")
	}
}

func TestSchemaTablesWithUserViews(t *testing.T) {
	dir := t.TempDir()
	extra := `{"resourceType":"ViewDefinition","name":"eob_supporting_info","resource":"ExplanationOfBenefit",
	  "select":[{"column":[{"name":"eob_id","path":"id","type":"string"}]},
	            {"forEach":"supportingInfo","column":[{"name":"timing_date","path":"timingDate","type":"date"}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "extra.json"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runSchemaCLI(t, "schema", "tables", "--views-dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range append(schemas.Tables(), "eob_supporting_info", "timing_date", "DATE", "schema version "+schemas.Version) {
		if !strings.Contains(out, want) {
			t.Errorf("tables output lacks %q", want)
		}
	}
	code, out, errs = runSchemaCLI(t, "schema", "ddl", "--dialect", "duckdb", "--views-dir", dir, "--table", "eob_supporting_info")
	if code != ExitOK || !strings.Contains(out, "CREATE TABLE IF NOT EXISTS eob_supporting_info") {
		t.Fatalf("ddl with user views: exit %d, out %q, err %s", code, out, errs)
	}
	clash := `{"resourceType":"ViewDefinition","name":"patient","resource":"Patient","select":[{"column":[{"name":"id","path":"id","type":"string"}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "clash.json"), []byte(clash), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runSchemaCLI(t, "schema", "tables", "--views-dir", dir); code == ExitOK || !strings.Contains(errs, "clashes") {
		t.Fatalf("clash accepted: exit %d, stderr %s", code, errs)
	}
}

func TestSchemaHelpListsFlags(t *testing.T) {
	code, out, errs := runSchemaCLI(t, "help", "schema", "ddl")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"--dialect", "-location", "-table", "-dataset", "-views", "snowflake"} {
		if !strings.Contains(out, strings.TrimLeft(want, "-")) {
			t.Errorf("help lacks %s:\n%s", want, out)
		}
	}
	if code, out, _ := runSchemaCLI(t, "schema", "ddl", "-h"); code != ExitOK || !strings.Contains(out, "dialect") {
		t.Errorf("-h: exit %d, out %q", code, out)
	}
}
