package schemas

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Dialects DDL can be generated for.
const (
	DuckDB    = "duckdb"
	Athena    = "athena"
	BigQuery  = "bigquery"
	Snowflake = "snowflake"
)

// Dialects lists the supported DDL dialects.
func Dialects() []string { return []string{DuckDB, Athena, BigQuery, Snowflake} }

// ErrUnknownDialect is returned for a dialect other than those in Dialects.
var ErrUnknownDialect = errors.New("schemas: unknown SQL dialect")

// ErrUnknownTable is returned when a requested table is not defined.
var ErrUnknownTable = errors.New("schemas: unknown table")

// ErrMissingOption means a dialect needs an option the caller did not give (Athena's location).
var ErrMissingOption = errors.New("schemas: missing option")

// Partition columns of the Parquet layout {prefix}/{table}/export_date=YYYY-MM-DD/group={id}/.
const (
	PartitionExportDate = "export_date"
	PartitionGroup      = "group"
)

// DDLOptions select what DDL describes.
type DDLOptions struct {
	// Tables limits the output to these tables (default: all given tables).
	Tables []string
	// Location is the dataset root the load step wrote ({prefix} in the layout), e.g.
	// s3://bucket/dpc, gs://bucket/dpc, /data/dpc or a Snowflake stage @db.schema.stage/dpc.
	// With a location, DuckDB gets views over the Parquet files and BigQuery/Snowflake get
	// external tables; Athena always needs one.
	Location string
	// Dataset qualifies table names (BigQuery dataset, Snowflake/Athena schema); optional.
	Dataset string
}

// DDL renders CREATE statements for the tables (with the lineage columns appended and, for
// external tables, the export_date/group partition columns) in the dialect.
func DDL(dialect string, tables []Table, opt DDLOptions) (string, error) {
	d := strings.ToLower(dialect)
	switch d {
	case DuckDB, Athena, BigQuery, Snowflake:
	default:
		return "", fmt.Errorf("%w: %q (want one of %s)", ErrUnknownDialect, dialect, strings.Join(Dialects(), ", "))
	}
	if d == Athena && opt.Location == "" {
		return "", fmt.Errorf("athena DDL needs --location (the s3:// prefix the Parquet files were loaded to): %w", ErrMissingOption)
	}
	if strings.ContainsAny(opt.Location, "'\n\\") || strings.ContainsAny(opt.Dataset, "'\"`\n\\ ") {
		return "", errors.New("schemas: location and dataset must not contain quotes, backslashes or newlines")
	}
	sel, err := selectTables(tables, opt.Tables)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- dpcetl claims tables, schema version %s, dialect %s. Generated: do not edit.\n", Version, d)
	for _, t := range sel {
		b.WriteString("\n")
		switch d {
		case DuckDB:
			duckDB(&b, t, opt)
		case Athena:
			athena(&b, t, opt)
		case BigQuery:
			bigQuery(&b, t, opt)
		case Snowflake:
			snowflake(&b, t, opt)
		}
	}
	return b.String(), nil
}

func selectTables(all []Table, names []string) ([]Table, error) {
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string]Table{}
	for _, t := range all {
		byName[t.Name] = t
	}
	out := make([]Table, 0, len(names))
	for _, n := range names {
		t, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownTable, n)
		}
		out = append(out, t)
	}
	return out, nil
}

func allColumns(t Table) []Column {
	return append(append([]Column(nil), t.Columns...), LineageColumns()...)
}

// reserved holds words some dialect reserves that may appear as column or partition names.
var reserved = map[string]bool{
	"group": true, "order": true, "select": true, "from": true, "where": true, "table": true,
	"date": true, "timestamp": true, "month": true, "year": true, "sequence": true, "role": true,
	"location": true, "code": true, "status": true, "user": true, "partition": true, "values": true,
	"range": true, "rows": true, "row": true, "case": true, "end": true, "start": true, "position": true,
}

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// quote quotes an identifier when it is reserved or not a plain lower-case identifier.
// Snowflake folds unquoted names to upper case, so its quoted form is upper case too: the
// column then answers to the same unquoted name as every other column.
func quote(d, name string) string {
	if plainIdent.MatchString(name) && !reserved[name] {
		return name
	}
	switch d {
	case Athena, BigQuery:
		return "`" + strings.ReplaceAll(name, "`", "") + "`"
	case Snowflake:
		return `"` + strings.ToUpper(strings.ReplaceAll(name, `"`, "")) + `"`
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

var decimalRe = regexp.MustCompile(`^DECIMAL\((\d+),\s*(\d+)\)$`)

func typeFor(d, ansi string) string {
	if m := decimalRe.FindStringSubmatch(ansi); m != nil {
		switch d {
		case BigQuery:
			return "NUMERIC(" + m[1] + ", " + m[2] + ")"
		case Snowflake:
			return "NUMBER(" + m[1] + "," + m[2] + ")"
		case Athena:
			return "decimal(" + m[1] + "," + m[2] + ")"
		}
		return "DECIMAL(" + m[1] + "," + m[2] + ")"
	}
	type row struct{ duck, athena, bq, snow string }
	m := map[string]row{
		"VARCHAR":   {"VARCHAR", "string", "STRING", "VARCHAR"},
		"DATE":      {"DATE", "date", "DATE", "DATE"},
		"TIMESTAMP": {"TIMESTAMPTZ", "timestamp", "TIMESTAMP", "TIMESTAMP_TZ"},
		"INTEGER":   {"INTEGER", "int", "INT64", "INTEGER"},
		"BIGINT":    {"BIGINT", "bigint", "INT64", "BIGINT"},
		"BOOLEAN":   {"BOOLEAN", "boolean", "BOOL", "BOOLEAN"},
	}
	r, ok := m[ansi]
	if !ok {
		r = m["VARCHAR"]
	}
	switch d {
	case Athena:
		return r.athena
	case BigQuery:
		return r.bq
	case Snowflake:
		return r.snow
	}
	return r.duck
}

func qualified(d string, opt DDLOptions, name string) string {
	n := quote(d, name)
	if opt.Dataset != "" {
		if d == BigQuery {
			return "`" + opt.Dataset + "." + name + "`"
		}
		return opt.Dataset + "." + n
	}
	return n
}

func tableLocation(loc, table string) string { return strings.TrimRight(loc, "/") + "/" + table }

func tableComment(t Table) string {
	return fmt.Sprintf("dpcetl %s (schema %s): %s", t.Name, Version, t.Description)
}

func writeColumns(b *strings.Builder, d string, cols []Column, comments bool) {
	for i, c := range cols {
		fmt.Fprintf(b, "  %s %s", quote(d, c.Name), typeFor(d, c.SQLType))
		if comments {
			switch d {
			case Athena:
				fmt.Fprintf(b, " COMMENT %s", sqlString(c.Description))
			case BigQuery:
				fmt.Fprintf(b, " OPTIONS(description=%s)", sqlString(c.Description))
			case Snowflake:
				fmt.Fprintf(b, " COMMENT %s", sqlString(c.Description))
			}
		}
		if i < len(cols)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
}

func duckDB(b *strings.Builder, t Table, opt DDLOptions) {
	name := qualified(DuckDB, opt, t.Name)
	if opt.Location != "" {
		// Typed view over the Hive-partitioned Parquet files; the casts pin the schema even
		// when a partition was written by an older layout with fewer columns.
		fmt.Fprintf(b, "CREATE OR REPLACE VIEW %s AS\nSELECT\n", name)
		cols := append(allColumns(t), Column{Name: PartitionExportDate, SQLType: "DATE"}, Column{Name: PartitionGroup, SQLType: "VARCHAR"})
		for i, c := range cols {
			fmt.Fprintf(b, "  CAST(%s AS %s) AS %s", quote(DuckDB, c.Name), typeFor(DuckDB, c.SQLType), quote(DuckDB, c.Name))
			if i < len(cols)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "FROM read_parquet(%s, hive_partitioning = true, union_by_name = true);\n",
			sqlString(tableLocation(opt.Location, t.Name)+"/*/*/*.parquet"))
		fmt.Fprintf(b, "COMMENT ON VIEW %s IS %s;\n", name, sqlString(tableComment(t)))
		return
	}
	fmt.Fprintf(b, "CREATE TABLE IF NOT EXISTS %s (\n", name)
	writeColumns(b, DuckDB, allColumns(t), false)
	b.WriteString(");\n")
	fmt.Fprintf(b, "COMMENT ON TABLE %s IS %s;\n", name, sqlString(tableComment(t)))
}

func athena(b *strings.Builder, t Table, opt DDLOptions) {
	fmt.Fprintf(b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n", qualified(Athena, opt, t.Name))
	writeColumns(b, Athena, allColumns(t), true)
	fmt.Fprintf(b, ")\nCOMMENT %s\n", sqlString(tableComment(t)))
	fmt.Fprintf(b, "PARTITIONED BY (%s date, %s string)\n", quote(Athena, PartitionExportDate), quote(Athena, PartitionGroup))
	b.WriteString("STORED AS PARQUET\n")
	fmt.Fprintf(b, "LOCATION %s\n", sqlString(tableLocation(opt.Location, t.Name)+"/"))
	fmt.Fprintf(b, "TBLPROPERTIES ('dpcetl.schema_version'=%s);\n", sqlString(Version))
	fmt.Fprintf(b, "MSCK REPAIR TABLE %s;\n", qualified(Athena, opt, t.Name))
}

func bigQuery(b *strings.Builder, t Table, opt DDLOptions) {
	name := qualified(BigQuery, opt, t.Name)
	if opt.Location != "" {
		fmt.Fprintf(b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n", name)
		writeColumns(b, BigQuery, allColumns(t), true)
		fmt.Fprintf(b, ")\nWITH PARTITION COLUMNS (\n  %s DATE,\n  %s STRING\n)\n", quote(BigQuery, PartitionExportDate), quote(BigQuery, PartitionGroup))
		loc := tableLocation(opt.Location, t.Name)
		fmt.Fprintf(b, "OPTIONS (\n  format = 'PARQUET',\n  uris = [%s],\n  hive_partition_uri_prefix = %s,\n  description = %s\n);\n",
			sqlString(loc+"/*"), sqlString(loc), sqlString(tableComment(t)))
		return
	}
	fmt.Fprintf(b, "CREATE TABLE IF NOT EXISTS %s (\n", name)
	writeColumns(b, BigQuery, allColumns(t), true)
	fmt.Fprintf(b, ")\nOPTIONS (description = %s);\n", sqlString(tableComment(t)))
}

func snowflake(b *strings.Builder, t Table, opt DDLOptions) {
	name := qualified(Snowflake, opt, t.Name)
	if opt.Location != "" {
		fmt.Fprintf(b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n", name)
		cols := allColumns(t)
		for _, c := range cols {
			typ := typeFor(Snowflake, c.SQLType)
			fmt.Fprintf(b, "  %s %s AS (value:%s::%s),\n", quote(Snowflake, c.Name), typ, c.Name, typ)
		}
		// Partition values come from the Hive-style path: {table}/export_date=YYYY-MM-DD/group={id}/part-....parquet
		fmt.Fprintf(b, "  %s DATE AS (TO_DATE(SPLIT_PART(SPLIT_PART(metadata$filename, 'export_date=', 2), '/', 1))),\n", quote(Snowflake, PartitionExportDate))
		fmt.Fprintf(b, "  %s VARCHAR AS (SPLIT_PART(SPLIT_PART(metadata$filename, 'group=', 2), '/', 1))\n", quote(Snowflake, PartitionGroup))
		fmt.Fprintf(b, ")\nPARTITION BY (%s, %s)\n", quote(Snowflake, PartitionExportDate), quote(Snowflake, PartitionGroup))
		fmt.Fprintf(b, "LOCATION = %s\n", tableLocation(opt.Location, t.Name)+"/")
		b.WriteString("FILE_FORMAT = (TYPE = PARQUET)\nAUTO_REFRESH = FALSE\n")
		fmt.Fprintf(b, "COMMENT = %s;\n", sqlString(tableComment(t)))
		return
	}
	fmt.Fprintf(b, "CREATE TABLE IF NOT EXISTS %s (\n", name)
	writeColumns(b, Snowflake, allColumns(t), true)
	fmt.Fprintf(b, ")\nCOMMENT = %s;\n", sqlString(tableComment(t)))
}
