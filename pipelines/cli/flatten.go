package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/flatten"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// flattenCommand is `dpcetl flatten`: local NDJSON files into the claims tables (the logic is
// in pipelines/flatten; this only maps flags and errors).
func flattenCommand() *Command {
	return &Command{
		Name:    "flatten",
		Usage:   "dpcetl flatten --in DIR|FILE [--in ...] --out DEST [--fhir-version STU3|R4|auto] [--json]",
		Summary: "flatten local FHIR NDJSON (plain or .gz; DPC, BCDA, AB2D, Blue Button) into the claims tables",
		Run:     runFlatten,
		flags:   func() *flag.FlagSet { fs, _, _ := flattenFlags(io.Discard); return fs },
	}
}

func flattenFlags(w io.Writer) (*flag.FlagSet, *flatten.Options, *bool) {
	o := &flatten.Options{}
	fs := flag.NewFlagSet("flatten", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Var((*schemaList)(&o.Inputs), "in", "NDJSON file or directory (repeatable; directories: every .ndjson/.jsonl[.gz] below)")
	fs.StringVar(&o.Destination, "out", "", "output: a directory, file:///dir or s3://bucket/prefix")
	fs.StringVar(&o.FHIRVersion, "fhir-version", "auto", "STU3, R4 or auto (per file, from the resources' shape)")
	fs.StringVar(&o.ViewsDir, "views-dir", "", "extra folder of ViewDefinition JSON files")
	fs.StringVar(&o.Group, "group", "local", "value of the group= partition")
	fs.StringVar(&o.QuarantinePath, "quarantine-file", "", "where quarantined lines go (default ./quarantine-{run}.ndjson)")
	fs.IntVar(&o.MaxQuarantined, "quarantine-max-lines", 0, "fail (publish nothing) when more lines than this are quarantined; -1 no limit")
	fs.IntVar(&o.MaxWarnings, "max-warnings", -1, "fail (publish nothing) when the claims checks count more warnings than this; -1 never")
	fs.IntVar(&o.Concurrency, "concurrency", 0, "transform workers (default: the engine's)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	return fs, o, asJSON
}

func runFlatten(ctx context.Context, env *Env, args []string) error {
	fs, o, asJSON := flattenFlags(env.Stderr)
	if err := fs.Parse(args); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	o.Version, o.Now = Version, env.Now
	sum, err := flatten.Run(ctx, *o)
	switch {
	case errors.Is(err, flatten.ErrInvalid):
		return fmt.Errorf("%w: %w", config.ErrInvalid, err)
	case errors.Is(err, flatten.ErrBadData):
		return fmt.Errorf("%w: %w", runner.ErrBadData, err)
	case err != nil:
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	fmt.Fprintf(env.Stdout, "flattened %d files (%d resources, %d lines quarantined) into %s, run %s\n",
		len(sum.Files), sum.Resources, sum.Quarantined, o.Destination, sum.RunID)
	tables := make([]string, 0, len(sum.Rows))
	for t := range sum.Rows {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		fmt.Fprintf(env.Stdout, "  %-20s %d rows\n", t, sum.Rows[t])
	}
	for _, k := range sortedWarnings(sum.Warnings) {
		fmt.Fprintf(env.Stdout, "warning %s: %d\n", k, sum.Warnings[k])
	}
	if sum.Report != "" {
		fmt.Fprintf(env.Stdout, "report: %s\n", sum.Report)
	}
	if sum.Quarantine != "" {
		fmt.Fprintf(env.Stdout, "quarantined lines: %s\n", sum.Quarantine)
	}
	return nil
}

func sortedWarnings(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
