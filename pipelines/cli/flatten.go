package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/flatten"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// flattenCommand is `dpcetl flatten`: local NDJSON files into the claims tables (the logic is
// in pipelines/flatten; this only maps flags and errors).
func flattenCommand(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "flatten --in DIR|FILE --out DEST",
		Short:   "flatten local FHIR NDJSON (plain or .gz; DPC, BCDA, AB2D, Blue Button) into the claims tables",
		Example: "  dpcetl flatten --in ./bcda-export --out ./claims --fhir-version R4\n  dpcetl flatten --in eob.ndjson.gz --out s3://bucket/claims --output json",
		Args:    cmdkit.NoArgs}
	o := &flatten.Options{}
	fs := c.Flags()
	fs.StringSliceVar(&o.Inputs, "in", nil, "NDJSON file or directory (repeatable; directories: every .ndjson/.jsonl[.gz] below)")
	fs.StringVar(&o.Destination, "out", "", "output: a directory, file:///dir or s3://bucket/prefix")
	fs.StringVar(&o.FHIRVersion, "fhir-version", "auto", "STU3, R4 or auto (per file, from the resources' shape)")
	fs.StringVar(&o.ViewsDir, "views-dir", "", "extra folder of ViewDefinition JSON files")
	fs.StringVar(&o.Group, "group", "local", "value of the group= partition")
	fs.StringVar(&o.QuarantinePath, "quarantine-file", "", "where quarantined lines go (default ./quarantine-{run}.ndjson)")
	fs.IntVar(&o.MaxQuarantined, "quarantine-max-lines", 0, "fail (publish nothing) when more lines than this are quarantined; -1 no limit")
	fs.IntVar(&o.MaxWarnings, "max-warnings", -1, "fail (publish nothing) when the claims checks count more warnings than this; -1 never")
	fs.IntVar(&o.Concurrency, "concurrency", 0, "transform workers (default: the engine's)")
	out := cmdkit.AddOutputFlag(c)
	c.RunE = func(cc *cobra.Command, _ []string) error {
		return runFlatten(cc.Context(), env, *o, out)
	}
	return c
}

func runFlatten(ctx context.Context, env *Env, o flatten.Options, out *cmdkit.Output) error {
	o.Version, o.Now = Version, env.Now
	sum, err := flatten.Run(ctx, o)
	switch {
	case errors.Is(err, flatten.ErrInvalid):
		return fmt.Errorf("%w: %w", config.ErrInvalid, err)
	case errors.Is(err, flatten.ErrBadData):
		return fmt.Errorf("%w: %w", runner.ErrBadData, err)
	case err != nil:
		return err
	}
	if out.JSON() {
		return cmdkit.WriteJSON(env.Stdout, sum)
	}
	fmt.Fprintf(env.Stdout, "flattened %d files (%d resources, %d lines quarantined) into %s, run %s\n",
		len(sum.Files), sum.Resources, sum.Quarantined, o.Destination, sum.RunID)
	for _, t := range slices.Sorted(maps.Keys(sum.Rows)) {
		fmt.Fprintf(env.Stdout, "  %-20s %d rows\n", t, sum.Rows[t])
	}
	for _, k := range slices.Sorted(maps.Keys(sum.Warnings)) {
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
