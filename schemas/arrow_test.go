package schemas

import (
	"fmt"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/transform"
)

// arrowFor is the Arrow type the engine must produce for a documented SQL type; the DDL and
// README promise these, so the Parquet files must carry them.
func arrowFor(sql string) string {
	switch sql {
	case "VARCHAR":
		return "utf8"
	case "DATE":
		return "date32"
	case "TIMESTAMP":
		return "timestamp[us, tz=UTC]"
	case "INTEGER":
		return "int32"
	case "BOOLEAN":
		return "bool"
	}
	var p, s int
	if _, err := fmt.Sscanf(sql, "DECIMAL(%d,%d)", &p, &s); err == nil {
		return fmt.Sprintf("decimal(%d, %d)", p, s)
	}
	return "?" + sql
}

// TestArrowSchemaMatchesDefinitions checks, for both versions and every money policy, that the
// engine's Arrow schema (with lineage) is exactly the documented columns in order with the
// documented types (ExactDecimals' for money policy exact).
func TestArrowSchemaMatchesDefinitions(t *testing.T) {
	for _, tc := range []struct{ version, money string }{{STU3, "strict"}, {R4, "strict"}, {STU3, "round_half_even"}, {R4, "exact"}} {
		version := tc.version
		views, err := Views(version)
		if err != nil {
			t.Fatal(err)
		}
		money, err := transform.ParseMoneyPolicy(tc.money)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := transform.New(views, transform.WithMoneyPolicy(money), transform.WithLineage(transform.Lineage{JobID: "j", FHIRVersion: version, IngestedAt: time.Unix(0, 0)}))
		if err != nil {
			t.Fatal(err)
		}
		defs, err := Definitions(version)
		if err != nil {
			t.Fatal(err)
		}
		if money == transform.MoneyExact {
			defs = ExactDecimals(defs)
		}
		schemas := eng.Schemas()
		for _, d := range defs {
			sch := schemas[d.Name]
			if sch == nil {
				t.Fatalf("%s %s: no schema", version, d.Name)
			}
			cols := append(append([]Column(nil), d.Columns...), LineageColumns()...)
			if sch.NumFields() != len(cols) {
				t.Errorf("%s %s: %d fields, documented %d", version, d.Name, sch.NumFields(), len(cols))
				continue
			}
			for i, c := range cols {
				f := sch.Field(i)
				if f.Name != c.Name || f.Type.String() != arrowFor(c.SQLType) {
					t.Errorf("%s %s field %d: %s %s, documented %s %s (%s)", version, d.Name, i, f.Name, f.Type, c.Name, c.SQLType, arrowFor(c.SQLType))
				}
			}
			if md, ok := sch.Metadata().GetValue("fhir_resource"); ok && md != d.Resource {
				t.Errorf("%s: resource %s, documented %s", d.Name, md, d.Resource)
			}
		}
	}
}

// TestLineageColumns runs a sample with lineage and checks the appended values.
func TestLineageColumns(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	names, data := sampleNames(t, "r4", "eobReadPde.json")
	out, _ := runEngine(t, R4, names, data, transform.WithLineage(transform.Lineage{JobID: "job-42", FHIRVersion: R4, IngestedAt: at}))
	for _, table := range []string{TableEOB, TableEOBLine, TableEOBCareTeam} {
		tr := out[table]
		if len(tr.rows) == 0 {
			t.Fatalf("%s: no rows", table)
		}
		r := tr.rows[0]
		for col, want := range map[string]string{"export_job_id": "job-42", "source_fhir_version": "R4", "ingested_at": "2026-03-04T05:06:07.123456Z"} {
			if got := str(tr.get(t, r, col)); got != want {
				t.Errorf("%s.%s = %s, want %s", table, col, got, want)
			}
		}
	}
}
