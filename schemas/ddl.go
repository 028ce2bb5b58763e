package schemas

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dpcetl/dpcetl/transform"
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

// Partition columns of the Parquet layout {prefix}/{table}/export_date=YYYY-MM-DD/group_id={id}/.
// Layouts written before this rename used group={id}: "group" is reserved in SQL. The DuckDB
// and Snowflake DDL read both; Athena and BigQuery partition discovery needs one key name,
// so old prefixes are moved once (README, "Partitions and keys").
const (
	PartitionExportDate  = "export_date"
	PartitionGroup       = "group_id"
	LegacyPartitionGroup = "group"
)

// Key says what identifies a row of a table. Incremental windows re-deliver updated claims
// (and patients and coverages), so one key can have rows from several deliveries; the
// "{table}_latest" views keep one delivery per key. A child table (lines, amounts,
// diagnoses...) follows its parent: its latest rows are those of the parent's latest delivery.
type Key struct {
	Columns []string // unique within one delivery, unless Repeats
	Parent  string   // for a child table, the table whose latest delivery it follows
	Join    []string // the child's columns holding the parent's key
	// Repeats: the source itself may repeat Columns within one claim (BFD samples send the
	// same amount variable twice); every row is kept as sent.
	Repeats bool
}

// LatestSuffix names the views that keep the latest delivery of every key.
const LatestSuffix = "_latest"

// Keys lists each table's key; export_error and deleted_resource are append-only logs with none.
var tableKeys = map[string]Key{
	TablePatient:           {Columns: []string{"patient_id"}},
	TableCoverage:          {Columns: []string{"coverage_id"}},
	TableCoverageMonth:     {Columns: []string{"coverage_id", "month"}, Parent: TableCoverage, Join: []string{"coverage_id"}},
	TableEOB:               {Columns: []string{"eob_id"}},
	TableEOBAmount:         {Columns: []string{"eob_id", "variable"}, Parent: TableEOB, Join: []string{"eob_id"}, Repeats: true},
	TableEOBLine:           {Columns: []string{"eob_id", "line_number"}, Parent: TableEOB, Join: []string{"eob_id"}},
	TableEOBLineAmount:     {Columns: []string{"eob_id", "line_number", "variable"}, Parent: TableEOB, Join: []string{"eob_id"}, Repeats: true},
	TableEOBDiagnosis:      {Columns: []string{"eob_id", "sequence"}, Parent: TableEOB, Join: []string{"eob_id"}},
	TableEOBProcedure:      {Columns: []string{"eob_id", "sequence"}, Parent: TableEOB, Join: []string{"eob_id"}},
	TableEOBCareTeam:       {Columns: []string{"eob_id", "sequence"}, Parent: TableEOB, Join: []string{"eob_id"}},
	TableEOBLineCareTeam:   {Columns: []string{"eob_id", "line_number", "link_order"}, Parent: TableEOB, Join: []string{"eob_id"}},
	TablePatientIdentifier: {Columns: []string{"patient_id", "system", "value"}, Parent: TablePatient, Join: []string{"patient_id"}},
	// The long-tail tables are bags of every variable as sent: one claim may carry a variable twice.
	TableEOBDetail:      {Columns: []string{"eob_id", "source", "variable"}, Parent: TableEOB, Join: []string{"eob_id"}, Repeats: true},
	TableEOBLineDetail:  {Columns: []string{"eob_id", "line_number", "source", "variable"}, Parent: TableEOB, Join: []string{"eob_id"}, Repeats: true},
	TablePatientDetail:  {Columns: []string{"patient_id", "source", "variable"}, Parent: TablePatient, Join: []string{"patient_id"}, Repeats: true},
	TableCoverageDetail: {Columns: []string{"coverage_id", "source", "variable"}, Parent: TableCoverage, Join: []string{"coverage_id"}, Repeats: true},
}

// KeyOf returns the key of a built-in table; ok is false for tables without one.
func KeyOf(table string) (k Key, ok bool) {
	k, ok = tableKeys[table]
	return k, ok
}

// latestOrder ranks the deliveries of one key, newest first: the source's own update time,
// then when dpcetl transformed it, then the job id so that ties resolve the same way everywhere.
func latestOrder(d string) string {
	return fmt.Sprintf("%s DESC NULLS LAST, %s DESC, %s DESC", quote(d, "last_updated"), quote(d, "ingested_at"), quote(d, "export_job_id"))
}

// latestViews renders "{table}_latest" for every selected table with a key whose parent (if
// any) is selected too. cols gives the columns the table exposes in this dialect.
func latestViews(b *strings.Builder, d string, sel []Table, opt DDLOptions, cols func(Table) []Column) {
	selected := map[string]bool{}
	for _, t := range sel {
		selected[t.Name] = true
	}
	for _, t := range sel {
		k, ok := tableKeys[t.Name]
		if !ok || (k.Parent != "" && !selected[k.Parent]) {
			continue
		}
		names := make([]string, 0, len(cols(t)))
		for _, c := range cols(t) {
			names = append(names, quote(d, c.Name))
		}
		view := qualified(d, opt, t.Name+LatestSuffix)
		switch {
		case k.Parent == "":
			fmt.Fprintf(b, "\n-- %s: one row per %s, from its latest delivery.\n", t.Name+LatestSuffix, strings.Join(k.Columns, ", "))
		case k.Repeats:
			fmt.Fprintf(b, "\n-- %s: the rows of each %s's latest delivery (by %s; the source may repeat one).\n", t.Name+LatestSuffix, k.Parent, strings.Join(k.Columns, ", "))
		default:
			fmt.Fprintf(b, "\n-- %s: the rows of each %s's latest delivery, one per %s.\n", t.Name+LatestSuffix, k.Parent, strings.Join(k.Columns, ", "))
		}
		fmt.Fprintf(b, "CREATE OR REPLACE VIEW %s AS\n", view)
		if k.Parent == "" {
			part := make([]string, len(k.Columns))
			for i, c := range k.Columns {
				part[i] = quote(d, c)
			}
			fmt.Fprintf(b, "SELECT %s\nFROM (\n  SELECT %s,\n    ROW_NUMBER() OVER (PARTITION BY %s ORDER BY %s) AS dpcetl_rank\n  FROM %s\n) AS ranked\nWHERE dpcetl_rank = 1;\n",
				strings.Join(names, ", "), strings.Join(names, ", "), strings.Join(part, ", "), latestOrder(d), qualified(d, opt, t.Name))
			continue
		}
		on := make([]string, 0, len(k.Join)+1)
		for _, c := range append(append([]string(nil), k.Join...), "export_job_id") {
			on = append(on, fmt.Sprintf("c.%s = p.%s", quote(d, c), quote(d, c)))
		}
		prefixed := make([]string, len(names))
		for i, n := range names {
			prefixed[i] = "c." + n
		}
		fmt.Fprintf(b, "SELECT %s\nFROM %s AS c\nJOIN %s AS p ON %s;\n",
			strings.Join(prefixed, ", "), qualified(d, opt, t.Name), qualified(d, opt, k.Parent+LatestSuffix), strings.Join(on, " AND "))
	}
}

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
// external tables, the export_date/group_id partition columns) in the dialect, then a
// "{table}_latest" view per keyed table (see Key) that keeps one row per key.
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
	// Parents first (the loop above keeps the caller's order), so each view's dependency exists.
	ordered := append([]Table(nil), sel...)
	sort.SliceStable(ordered, func(i, j int) bool {
		return tableKeys[ordered[i].Name].Parent == "" && tableKeys[ordered[j].Name].Parent != ""
	})
	latestViews(&b, d, ordered, opt, func(t Table) []Column { return exposedColumns(d, t, opt) })
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

// exposedColumns are the columns a table (or view) has in dialect d: with a location, the
// external tables and DuckDB views add the partition columns.
func exposedColumns(d string, t Table, opt DDLOptions) []Column {
	cols := allColumns(t)
	if opt.Location != "" {
		cols = append(cols, Column{Name: PartitionExportDate, SQLType: "DATE"}, Column{Name: PartitionGroup, SQLType: "VARCHAR"})
	}
	return cols
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

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// ExactDecimals returns the tables with every decimal column typed the way money policy exact
// (transform.MoneyExact) writes it, DECIMAL(38,18): DDL for a destination loaded with it.
func ExactDecimals(tables []Table) []Table {
	wide := fmt.Sprintf("DECIMAL(%d,%d)", transform.DefaultDecimalPrecision, transform.DefaultDecimalScale)
	out := make([]Table, len(tables))
	for i, t := range tables {
		t.Columns = slices.Clone(t.Columns)
		for j, c := range t.Columns {
			if c.FHIRType == "decimal" {
				t.Columns[j].SQLType = wide
			}
		}
		out[i] = t
	}
	return out
}

func typeFor(d, ansi string) string {
	if m := decimalRe.FindStringSubmatch(ansi); m != nil {
		switch d {
		case BigQuery:
			if p, sc := atoi(m[1]), atoi(m[2]); sc > 9 || p-sc > 29 { // beyond NUMERIC's limits
				return "BIGNUMERIC(" + m[1] + ", " + m[2] + ")"
			}
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
		for _, c := range allColumns(t) {
			fmt.Fprintf(b, "  CAST(%s AS %s) AS %s,\n", quote(DuckDB, c.Name), typeFor(DuckDB, c.SQLType), quote(DuckDB, c.Name))
		}
		// Partition values from the path rather than hive_partitioning, which refuses a
		// dataset whose files disagree on key names: old group= and new group_id= layouts mix.
		fmt.Fprintf(b, "  CAST(regexp_extract(filename, '/%s=([^/]+)/', 1) AS DATE) AS %s,\n", PartitionExportDate, quote(DuckDB, PartitionExportDate))
		fmt.Fprintf(b, "  regexp_extract(filename, '/(%s|%s)=([^/]+)/', 2) AS %s\n", PartitionGroup, LegacyPartitionGroup, quote(DuckDB, PartitionGroup))
		fmt.Fprintf(b, "FROM read_parquet(%s, hive_partitioning = false, filename = true, union_by_name = true);\n",
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
		// Partition values come from the path: {table}/export_date=YYYY-MM-DD/group_id={id}/part-....parquet,
		// or group={id} in layouts written before the rename.
		fmt.Fprintf(b, "  %s DATE AS (TO_DATE(REGEXP_SUBSTR(metadata$filename, '/%s=([^/]+)/', 1, 1, 'e', 1))),\n", quote(Snowflake, PartitionExportDate), PartitionExportDate)
		fmt.Fprintf(b, "  %s VARCHAR AS (REGEXP_SUBSTR(metadata$filename, '/(%s|%s)=([^/]+)/', 1, 1, 'e', 2))\n", quote(Snowflake, PartitionGroup), PartitionGroup, LegacyPartitionGroup)
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
