package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
	"github.com/dpcetl/dpcetl/transform/viewtool"
)

// viewCommand is `view validate` and `view run`, thin wrappers of transform/viewtool.
func viewCommand(env *Env) *cobra.Command {
	return cmdkit.Group("view", "check your own ViewDefinitions and try them on NDJSON", viewValidate(env), viewRun(env))
}

func viewValidate(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "validate FILE...", Short: "check ViewDefinition files against the SQL on FHIR profiles; problems name the JSON path",
		Example: "  dpcetl view validate --profile shareable views/*.json"}
	profiles := c.Flags().String("profile", "", "comma-separated profiles to check: base, shareable, tabular (default all; base is always checked)")
	c.RunE = func(cc *cobra.Command, files []string) error {
		if len(files) == 0 {
			return cmdkit.Usagef("view validate needs at least one FILE")
		}
		ps, err := viewtool.ParseProfiles(*profiles)
		if err != nil {
			return cmdkit.Usagef("--profile: %v", err)
		}
		if err := viewtool.Validate(cc.Context(), files, ps, env.Stdout); err != nil {
			return viewErr(err)
		}
		return nil
	}
	return c
}

func viewRun(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "run VIEW.json --in FILE.ndjson", Short: "run one view over NDJSON through the engine and print its rows",
		Example: "  dpcetl view run views/eob_extra.json --in eob.ndjson --format json", Args: cmdkit.ExactArgs(1, "exactly one VIEW.json")}
	inputs := c.Flags().StringSlice("in", nil, "NDJSON input file (repeat or comma-separate; required)")
	format := c.Flags().String("format", "csv", "output format: csv or json (one object per line)")
	quarantine := c.Flags().String("quarantine", "", "write lines that do not transform here (JSON lines; may quote values) and go on; default: the first one fails the run")
	c.RunE = func(cc *cobra.Command, args []string) (err error) {
		if len(*inputs) == 0 {
			return cmdkit.Usagef("--in is required")
		}
		if *format != string(viewtool.FormatCSV) && *format != string(viewtool.FormatJSON) {
			return cmdkit.Usagef("--format %q: csv or json", *format)
		}
		o := viewtool.RunOptions{View: args[0], Inputs: *inputs, Format: viewtool.Format(*format)}
		if *quarantine != "" {
			q, err := os.OpenFile(*quarantine, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return fmt.Errorf("%w: --quarantine: %w", config.ErrInvalid, err)
			}
			defer func() {
				if cerr := q.Close(); cerr != nil && err == nil {
					err = cerr
				}
			}()
			o.Quarantine = q
		}
		st, err := viewtool.Run(cc.Context(), o, env.Stdout)
		if err != nil {
			return viewErr(err)
		}
		rows := int64(0)
		for _, n := range st.Rows {
			rows += n
		}
		fmt.Fprintf(env.Stderr, "%d rows from %d resources (%d lines read, %d of other types skipped, %d quarantined)\n",
			rows, st.Resources, st.Lines, st.Skipped, st.Quarantined)
		return nil
	}
	return c
}

// viewErr maps viewtool errors onto the exit codes: a bad view is a configuration error,
// a bad input line (without --quarantine) is bad data.
func viewErr(err error) error {
	switch {
	case errors.Is(err, view.ErrInvalid) || errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %w", config.ErrInvalid, err)
	case errors.Is(err, transform.ErrQuarantineThreshold):
		return fmt.Errorf("%w: %w", runner.ErrBadData, err)
	}
	return err
}
