package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dpcetl/dpcetl/schemas"
)

// schemaCommands are the "schema" commands (ddl, docs, tables) backed by the claims views in schemas/.
func schemaCommands() []*Command {
	return []*Command{{
		Name:    "schema",
		Usage:   "dpcetl schema ddl|docs|tables [flags]",
		Summary: "claims table schemas: DDL for warehouses, Markdown reference, table list",
		Sub: []*Command{
			{
				Name:    "ddl",
				Usage:   "dpcetl schema ddl --dialect duckdb|athena|bigquery|snowflake [--table T]... [--location URL] [--dataset NAME] [--views DIR]",
				Summary: "print CREATE statements for the claims tables (lineage and partition columns included)",
				Run:     runSchemaDDL,
				flags:   func() *flag.FlagSet { return new(schemaDDLFlags).set(io.Discard) },
			},
			{
				Name:    "docs",
				Usage:   "dpcetl schema docs [--out FILE]",
				Summary: "print the Markdown reference of every table and column (schemas/README.md)",
				Run:     runSchemaDocs,
				flags:   func() *flag.FlagSet { return schemaDocsFlags(io.Discard, new(string)) },
			},
			{
				Name:    "tables",
				Usage:   "dpcetl schema tables [--views DIR]",
				Summary: "list the tables and their columns with types",
				Run:     runSchemaTables,
				flags:   func() *flag.FlagSet { return schemaTablesFlags(io.Discard, new(string)) },
			},
		},
	}}
}

// schemaList is a repeatable, comma-separated flag value.
type schemaList []string

func (s *schemaList) String() string { return strings.Join(*s, ",") }
func (s *schemaList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// schemaTables returns the built-in tables plus those of the user's view directory (if any).
func schemaTables(viewsDir string) ([]schemas.Table, error) {
	defs, err := schemas.Definitions(schemas.STU3)
	if err != nil {
		return nil, err
	}
	if viewsDir == "" {
		return defs, nil
	}
	st, err := os.Stat(viewsDir)
	if err != nil {
		return nil, fmt.Errorf("--views: %w", err)
	}
	if !st.IsDir() {
		return nil, &UsageError{Msg: "--views " + viewsDir + " is not a directory"}
	}
	uvs, err := schemas.ReadDir(os.DirFS(viewsDir))
	if err != nil {
		return nil, err
	}
	for _, u := range uvs {
		t, err := schemas.ParseTable(u.JSON)
		if err != nil {
			return nil, err
		}
		defs = append(defs, t)
	}
	return defs, nil
}

// schemaFlagError keeps -h working (flag.ErrHelp prints help) and makes other flag errors usage errors.
func schemaFlagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &UsageError{Msg: err.Error()}
}

type schemaDDLFlags struct {
	dialect, location, dataset, views string
	tables                            schemaList
}

func (f *schemaDDLFlags) set(w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("schema ddl", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&f.dialect, "dialect", "", "duckdb, athena, bigquery or snowflake (required)")
	fs.Var(&f.tables, "table", "only this table (repeat or comma-separate)")
	fs.StringVar(&f.location, "location", "", "dataset root the Parquet files were loaded to (s3://, gs://, path, or Snowflake @stage/path)")
	fs.StringVar(&f.dataset, "dataset", "", "schema/dataset to qualify table names with")
	fs.StringVar(&f.views, "views", "", "directory of extra ViewDefinitions to include")
	return fs
}

func runSchemaDDL(_ context.Context, env *Env, args []string) error {
	var f schemaDDLFlags
	fs := f.set(env.Stderr)
	if err := fs.Parse(args); err != nil {
		return schemaFlagError(err)
	}
	if fs.NArg() > 0 {
		return &UsageError{Msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if f.dialect == "" {
		return &UsageError{Msg: "--dialect is required (" + strings.Join(schemas.Dialects(), ", ") + ")"}
	}
	defs, err := schemaTables(f.views)
	if err != nil {
		return err
	}
	out, err := schemas.DDL(f.dialect, defs, schemas.DDLOptions{Tables: f.tables, Location: f.location, Dataset: f.dataset})
	if err != nil {
		return err
	}
	_, err = io.WriteString(env.Stdout, out)
	return err
}

func schemaDocsFlags(w io.Writer, out *string) *flag.FlagSet {
	fs := flag.NewFlagSet("schema docs", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(out, "out", "", "write to this file instead of standard output")
	return fs
}

func runSchemaDocs(_ context.Context, env *Env, args []string) error {
	out := new(string)
	fs := schemaDocsFlags(env.Stderr, out)
	if err := fs.Parse(args); err != nil {
		return schemaFlagError(err)
	}
	if fs.NArg() > 0 {
		return &UsageError{Msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	doc, err := schemas.Docs()
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = io.WriteString(env.Stdout, doc)
		return err
	}
	if err := os.WriteFile(*out, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("schema docs: %w", err)
	}
	return nil
}

func schemaTablesFlags(w io.Writer, views *string) *flag.FlagSet {
	fs := flag.NewFlagSet("schema tables", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(views, "views", "", "directory of extra ViewDefinitions to include")
	return fs
}

func runSchemaTables(_ context.Context, env *Env, args []string) error {
	views := new(string)
	fs := schemaTablesFlags(env.Stderr, views)
	if err := fs.Parse(args); err != nil {
		return schemaFlagError(err)
	}
	defs, err := schemaTables(*views)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "schema version %s\n", schemas.Version)
	for _, t := range defs {
		fmt.Fprintf(&b, "\n%s (%s)\n", t.Name, t.Resource)
		for _, c := range append(t.Columns, schemas.LineageColumns()...) {
			fmt.Fprintf(&b, "  %-28s %s\n", c.Name, c.SQLType)
		}
	}
	_, err = io.WriteString(env.Stdout, b.String())
	return err
}
