package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/dpcetl/dpcetl/schemas"
)

// schemaCommand is "schema ddl|docs|tables", backed by the claims views in schemas/.
func schemaCommand(env *Env) *cobra.Command {
	return cmdkit.Group("schema", "claims table schemas: DDL for warehouses, Markdown reference, table list",
		schemaDDL(env), schemaDocs(env), schemaTablesCmd(env))
}

func schemaDDL(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "ddl --dialect duckdb|athena|bigquery|snowflake",
		Short: "print CREATE statements for the claims tables (lineage and partition columns included)",
		Example: "  dpcetl schema ddl --dialect athena --location s3://my-bucket/dpc/ --dataset claims\n" +
			"  dpcetl schema ddl --dialect duckdb --table eob,eob_line",
		Args: cmdkit.NoArgs}
	dialect := c.Flags().String("dialect", "", "duckdb, athena, bigquery or snowflake (required)")
	_ = c.RegisterFlagCompletionFunc("dialect", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return schemas.Dialects(), cobra.ShellCompDirectiveNoFileComp
	})
	tables := c.Flags().StringSlice("table", nil, "only this table (repeat or comma-separate)")
	location := c.Flags().String("location", "", "dataset root the Parquet files were loaded to (s3://, gs://, path, or Snowflake @stage/path)")
	dataset := c.Flags().String("dataset", "", "schema/dataset to qualify table names with")
	views := c.Flags().String("views-dir", "", "directory of extra ViewDefinitions to include")
	c.RunE = func(*cobra.Command, []string) error {
		if *dialect == "" {
			return cmdkit.Usagef("--dialect is required (%s)", strings.Join(schemas.Dialects(), ", "))
		}
		defs, err := schemaTables(*views)
		if err != nil {
			return err
		}
		out, err := schemas.DDL(*dialect, defs, schemas.DDLOptions{Tables: *tables, Location: *location, Dataset: *dataset})
		if err != nil {
			return err
		}
		_, err = io.WriteString(env.Stdout, out)
		return err
	}
	return c
}

func schemaDocs(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "docs", Short: "print the Markdown reference of every table and column (schemas/README.md)",
		Example: "  dpcetl schema docs --out schemas/README.md", Args: cmdkit.NoArgs}
	out := c.Flags().String("out", "", "write to this file instead of standard output")
	c.RunE = func(*cobra.Command, []string) error {
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
	return c
}

func schemaTablesCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "tables", Short: "list the tables and their columns with types", Args: cmdkit.NoArgs}
	views := c.Flags().String("views-dir", "", "directory of extra ViewDefinitions to include")
	c.RunE = func(*cobra.Command, []string) error {
		defs, err := schemaTables(*views)
		if err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "schema version %s\n", schemas.Version)
		for _, t := range defs {
			fmt.Fprintf(&b, "\n%s (%s)\n", t.Name, t.Resource)
			for _, col := range append(t.Columns, schemas.LineageColumns()...) {
				fmt.Fprintf(&b, "  %-28s %s\n", col.Name, col.SQLType)
			}
		}
		_, err = io.WriteString(env.Stdout, b.String())
		return err
	}
	return c
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
		return nil, fmt.Errorf("--views-dir: %w", err)
	}
	if !st.IsDir() {
		return nil, cmdkit.Usagef("--views-dir %s is not a directory", viewsDir)
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
