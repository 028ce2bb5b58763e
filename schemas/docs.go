package schemas

import (
	"fmt"
	"strings"
)

// Docs renders the Markdown reference of every built-in table and column (type, meaning, STU3
// path, R4 path) from the embedded views; schemas/README.md is this output.
func Docs() (string, error) {
	stu3, err := Definitions(STU3)
	if err != nil {
		return "", err
	}
	r4, err := Definitions(R4)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# dpcetl claims tables (schema version %s)\n\n", Version)
	b.WriteString("<!-- Generated from schemas/{stu3,r4}/*.json by `go test ./schemas -run TestReadme -update` or `dpcetl schema docs`. Do not edit. -->\n\n")
	b.WriteString("The same tables come out of DPC (FHIR STU3, Blue Button v1) and Blue Button v2 / BCDA / AB2D\n")
	b.WriteString("(FHIR R4, CARIN BB) exports: identical names, column order and types. Money is DECIMAL(15,2),\n")
	b.WriteString("quantities DECIMAL(18,6), dates DATE, instants TIMESTAMP (microseconds, UTC), codes are strings\n")
	b.WriteString("that keep leading zeros. Amounts are keyed on the BFD variable URLs, never on CARIN categories.\n\n")
	b.WriteString("Every table also carries the lineage columns the engine appends:\n\n")
	b.WriteString("| column | type | meaning |\n|---|---|---|\n")
	for _, c := range LineageColumns() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.Name, c.SQLType, md(c.Description))
	}
	b.WriteString("\nLoaded Parquet is laid out as `{prefix}/{table}/export_date=YYYY-MM-DD/group_id={group id}/part-NNNNN-{run}.parquet`;\n")
	b.WriteString("`dpcetl schema ddl --dialect duckdb|athena|bigquery|snowflake [--table T] [--location URL]` prints matching DDL.\n\n")
	b.WriteString("Extra tables: put your own ViewDefinitions (same column type tags, e.g. `{\"name\":\"ansi/type\",\"value\":\"DECIMAL(15,2)\"}`)\n")
	b.WriteString("in a directory and point dpcetl at it (`views_dir`, `schemas.LoadDir`); a name that clashes with a built-in\n")
	b.WriteString("table is an error. Data-quality warnings that keep the row (`schemas.Checker`): `unknown_claim_type`\n")
	b.WriteString("(eob-type missing or not one of the eight BFD types: `claim_type` null, `claim_type_raw` as sent) and\n")
	b.WriteString("`unresolved_rendering_npi` (a line links to a care team sequence with no member NPI: `rendering_npi` null).\n\n")
	b.WriteString("## Tables\n\n")
	for _, t := range stu3 {
		fmt.Fprintf(&b, "- [`%s`](#%s) (%s): %s\n", t.Name, t.Name, t.Resource, md(t.Description))
	}
	for i, t := range stu3 {
		file := func(v string) string { return "schemas/" + v + "/" + t.Name + ".json" }
		fmt.Fprintf(&b, "\n## %s\n\n%s Source resource: `%s`.\n\n", t.Name, md(t.Description), t.Resource)
		b.WriteString("| # | column | type | meaning | STU3 path | R4 path |\n|---|---|---|---|---|---|\n")
		for j, c := range t.Columns {
			rp := ""
			if j < len(r4[i].Columns) {
				rp = r4[i].Columns[j].Path
			}
			r4p := codeCell(rp, file("r4"))
			if rp == c.Path {
				r4p = "same"
			}
			fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s | %s |\n", j+1, c.Name, c.SQLType, md(c.Description), codeCell(c.Path, file("stu3")), r4p)
		}
	}
	return b.String(), nil
}

// maxPathDoc is the longest FHIRPath shown inline; longer (generated) ones point at the file.
const maxPathDoc = 400

func codeCell(p, file string) string {
	if len(p) > maxPathDoc {
		return "`" + md(string([]rune(p)[:120])) + "…` (generated lookup; full path in " + file + ")"
	}
	return "`" + md(p) + "`"
}

// md escapes text for a Markdown table cell.
func md(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
