// Package schemas holds dpcetl's claims tables: SQL on FHIR ViewDefinitions for DPC (STU3) and
// Blue Button v2 / CARIN (R4) claims that yield identical tables, plus their docs and DDL.
package schemas

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/dpcetl/dpcetl/schemas/internal/viewgen"
)

// Version is the version of the claims table schemas (table and column names, order and types).
// It changes whenever a column is added, removed, renamed or retyped; loaders record it with
// every run so downstream models can tell which layout a partition has.
// The number lives with the generator (schemas/internal/viewgen), which stamps it into every view.
const Version = viewgen.SchemaVersion

// FHIR versions of the built-in view sets.
const (
	STU3 = "STU3" // DPC, Blue Button v1
	R4   = "R4"   // Blue Button v2, BCDA, AB2D (CARIN BB)
)

// Built-in table names in the order they are documented and created.
const (
	TablePatient       = "patient"
	TableCoverage      = "coverage"
	TableCoverageMonth = "coverage_month"
	TableEOB           = "eob"
	TableEOBAmount     = "eob_amount"
	TableEOBLine       = "eob_line"
	TableEOBLineAmount = "eob_line_amount"
	TableEOBDiagnosis  = "eob_diagnosis"
	TableEOBProcedure  = "eob_procedure"
	TableEOBCareTeam   = "eob_care_team"
	TableExportError   = "export_error"
	// Added in schema 2.
	TableEOBLineCareTeam   = "eob_line_care_team"
	TablePatientIdentifier = "patient_identifier"
	TableEOBDetail         = "eob_detail"
	TableEOBLineDetail     = "eob_line_detail"
	TablePatientDetail     = "patient_detail"
	TableCoverageDetail    = "coverage_detail"
	// Added in schema 2.1.
	TableDeletedResource = "deleted_resource"
)

var tableOrder = [...]string{
	TablePatient, TableCoverage, TableCoverageMonth, TableEOB, TableEOBAmount, TableEOBLine,
	TableEOBLineAmount, TableEOBDiagnosis, TableEOBProcedure, TableEOBCareTeam, TableExportError,
	TableEOBLineCareTeam, TablePatientIdentifier, TableEOBDetail, TableEOBLineDetail, TablePatientDetail, TableCoverageDetail,
	TableDeletedResource,
}

// Tables returns the built-in table names in documentation order.
func Tables() []string { return append([]string(nil), tableOrder[:]...) }

// ClaimTypes are the eight BFD eob-type codes the views accept; anything else gives a null claim_type.
var claimTypes = [...]string{"CARRIER", "DME", "HHA", "HOSPICE", "INPATIENT", "OUTPATIENT", "PDE", "SNF"}

// ClaimTypes returns the eight BFD claim types.
func ClaimTypes() []string { return append([]string(nil), claimTypes[:]...) }

// The views are generated: edit schemas/internal/viewgen, then run go generate ./schemas.
//
//go:generate go run ./internal/genviews
//go:generate go run ./internal/genviews -readme
//go:embed stu3/*.json r4/*.json
var viewFS embed.FS

// ErrUnknownVersion is returned for a FHIR version other than STU3 or R4.
var ErrUnknownVersion = errors.New("schemas: unknown FHIR version (want STU3 or R4)")

// ErrTableClash is returned when a user ViewDefinition names a built-in table (or two user views share a name).
var ErrTableClash = errors.New("schemas: view name clashes with another table")

func versionDir(version string) (string, error) {
	switch strings.ToUpper(version) {
	case STU3:
		return "stu3", nil
	case R4:
		return "r4", nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownVersion, version)
}

// ViewJSON returns the raw ViewDefinition JSON of every built-in table for a FHIR version,
// keyed by table name.
func ViewJSON(version string) (map[string][]byte, error) {
	dir, err := versionDir(version)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(tableOrder))
	for _, t := range tableOrder {
		b, err := viewFS.ReadFile(path.Join(dir, t+".json"))
		if err != nil {
			return nil, fmt.Errorf("schemas: built-in view %s/%s: %w", dir, t, err)
		}
		out[t] = b
	}
	return out, nil
}

// Table describes one table for docs and DDL: its columns in output order (without the
// lineage columns the engine appends, see LineageColumns).
type Table struct {
	Name        string
	Version     string // ViewDefinition version (the built-in views carry Version)
	Resource    string // FHIR resource type the view reads
	Description string
	Columns     []Column
}

// Column is one output column of a view.
type Column struct {
	Name        string
	FHIRType    string // ViewDefinition column type: string, decimal, date, instant, integer, boolean
	SQLType     string // ANSI type: VARCHAR, DECIMAL(15,2), DATE, TIMESTAMP, INTEGER, BOOLEAN
	Description string
	Path        string // FHIRPath, prefixed by the forEach context it runs in ("item → sequence")
	CCLF        string // the CCLF field the column corresponds to (cclf tag), when one does
}

// LineageColumns are the columns transform.WithLineage appends to every table (not declared in views).
func LineageColumns() []Column {
	return []Column{
		{Name: "export_job_id", FHIRType: "string", SQLType: "VARCHAR", Description: "DPC export job id the row came from."},
		{Name: "source_fhir_version", FHIRType: "string", SQLType: "VARCHAR", Description: `FHIR version of the source resource: "STU3" or "R4".`},
		{Name: "ingested_at", FHIRType: "instant", SQLType: "TIMESTAMP", Description: "When dpcetl transformed the row (UTC, microseconds)."},
	}
}

// viewDoc is the subset of a ViewDefinition that docs and DDL need.
type viewDoc struct {
	Name        string      `json:"name"`
	Version     string      `json:"version"`
	Resource    string      `json:"resource"`
	Description string      `json:"description"`
	Select      []selectDoc `json:"select"`
}

type selectDoc struct {
	Column        []columnDoc `json:"column"`
	Select        []selectDoc `json:"select"`
	ForEach       string      `json:"forEach"`
	ForEachOrNull string      `json:"forEachOrNull"`
	UnionAll      []selectDoc `json:"unionAll"`
}

type columnDoc struct {
	Name        string   `json:"name"`
	Path        string   `json:"path"`
	Type        string   `json:"type"`
	Description string   `json:"description"`
	Tag         []tagDoc `json:"tag"`
}

type tagDoc struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ParseTable reads the columns of one ViewDefinition (in SQL on FHIR output order: a select's
// own columns, then its nested selects, then the first unionAll branch).
func ParseTable(data []byte) (Table, error) {
	var v viewDoc
	if err := json.Unmarshal(data, &v); err != nil {
		return Table{}, fmt.Errorf("schemas: parse ViewDefinition: %w", err)
	}
	if v.Name == "" {
		return Table{}, errors.New("schemas: ViewDefinition has no name")
	}
	t := Table{Name: v.Name, Version: v.Version, Resource: v.Resource, Description: v.Description}
	for _, s := range v.Select {
		t.Columns = appendColumns(t.Columns, s, "")
	}
	if len(t.Columns) == 0 {
		return Table{}, fmt.Errorf("schemas: view %s has no columns", v.Name)
	}
	seen := map[string]bool{}
	for _, c := range t.Columns {
		if seen[c.Name] {
			return Table{}, fmt.Errorf("schemas: view %s: duplicate column %s", v.Name, c.Name)
		}
		seen[c.Name] = true
	}
	return t, nil
}

func appendColumns(dst []Column, s selectDoc, ctx string) []Column {
	switch {
	case s.ForEach != "":
		ctx = joinCtx(ctx, "forEach "+s.ForEach)
	case s.ForEachOrNull != "":
		ctx = joinCtx(ctx, "forEachOrNull "+s.ForEachOrNull)
	}
	for _, c := range s.Column {
		dst = append(dst, Column{
			Name:        c.Name,
			FHIRType:    c.Type,
			SQLType:     sqlType(c),
			Description: c.Description,
			Path:        joinCtx(ctx, c.Path),
			CCLF:        tagValue(c, "cclf"),
		})
	}
	for _, sub := range s.Select {
		dst = appendColumns(dst, sub, ctx)
	}
	if len(s.UnionAll) > 0 {
		// Branches share their columns; document the first branch's paths and note the union.
		dst = appendColumns(dst, s.UnionAll[0], joinCtx(ctx, fmt.Sprintf("unionAll[%d branches]", len(s.UnionAll))))
	}
	return dst
}

func joinCtx(ctx, p string) string {
	if ctx == "" {
		return p
	}
	return ctx + " → " + p
}

func tagValue(c columnDoc, name string) string {
	for _, t := range c.Tag {
		if t.Name == name {
			return t.Value
		}
	}
	return ""
}

// sqlType is the column's ANSI type: the ansi/type tag when present, else the FHIR type's default.
func sqlType(c columnDoc) string {
	for _, t := range c.Tag {
		if t.Name == "ansi/type" && t.Value != "" {
			return strings.ToUpper(t.Value)
		}
	}
	switch c.Type {
	case "integer", "positiveInt", "unsignedInt":
		return "INTEGER"
	case "boolean":
		return "BOOLEAN"
	case "decimal":
		return "DECIMAL(18,6)"
	case "date":
		return "DATE"
	case "instant", "dateTime":
		return "TIMESTAMP"
	}
	return "VARCHAR"
}

// Definitions returns the built-in tables of a FHIR version in documentation order.
func Definitions(version string) ([]Table, error) {
	raw, err := ViewJSON(version)
	if err != nil {
		return nil, err
	}
	out := make([]Table, 0, len(tableOrder))
	for _, name := range tableOrder {
		t, err := ParseTable(raw[name])
		if err != nil {
			return nil, err
		}
		if t.Name != name {
			return nil, fmt.Errorf("schemas: built-in view file %s.json is named %q", name, t.Name)
		}
		if t.Version != Version {
			return nil, fmt.Errorf("schemas: built-in view %s has version %q, schema version is %s", name, t.Version, Version)
		}
		out = append(out, t)
	}
	return out, nil
}

// UserView is one ViewDefinition file from a user's view directory.
type UserView struct {
	File string // file name within the directory
	Name string // view (table) name
	JSON []byte
}

// ReadDir reads every *.json ViewDefinition in a directory (in file-name order), checking
// that no view is named like a built-in table or like another view in the directory.
func ReadDir(fsys fs.FS) ([]UserView, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("schemas: read view dir: %w", err)
	}
	builtin := map[string]bool{}
	for _, t := range tableOrder {
		builtin[t] = true
	}
	seen := map[string]string{}
	var out []UserView
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("schemas: read %s: %w", e.Name(), err)
		}
		t, err := ParseTable(b)
		if err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", e.Name(), err)
		}
		if builtin[t.Name] {
			return nil, fmt.Errorf("%w: %s (in %s) is a built-in table", ErrTableClash, t.Name, e.Name())
		}
		if first, dup := seen[t.Name]; dup {
			return nil, fmt.Errorf("%w: %s is defined in both %s and %s", ErrTableClash, t.Name, first, e.Name())
		}
		seen[t.Name] = e.Name()
		out = append(out, UserView{File: e.Name(), Name: t.Name, JSON: b})
	}
	return out, nil
}
