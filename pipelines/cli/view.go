package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
	"github.com/dpcetl/dpcetl/transform"
	"github.com/dpcetl/dpcetl/transform/view"
	"github.com/dpcetl/dpcetl/transform/viewtool"
)

// viewCommands are `view validate` and `view run`, thin wrappers of transform/viewtool.
func viewCommands() []*Command {
	return []*Command{{
		Name:    "view",
		Usage:   "dpcetl view validate|run ...",
		Summary: "check your own ViewDefinitions and try them on NDJSON",
		Sub: []*Command{
			{
				Name:    "validate",
				Usage:   "dpcetl view validate [--profile base,shareable,tabular] FILE...",
				Summary: "check ViewDefinition files against the SQL on FHIR profiles; problems name the JSON path",
				Run:     runViewValidate,
				flags:   func() *flag.FlagSet { return viewValidateFlags(new(string)) },
			},
			{
				Name:    "run",
				Usage:   "dpcetl view run VIEW.json --in FILE.ndjson [--in ...] [--format csv|json] [--quarantine FILE]",
				Summary: "run one view over NDJSON through the engine and print its rows",
				Run:     runViewRun,
				flags:   func() *flag.FlagSet { return new(viewRunFlags).set() },
			},
		},
	}}
}

func viewValidateFlags(profiles *string) *flag.FlagSet {
	fs := flag.NewFlagSet("view validate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(profiles, "profile", "", "comma-separated profiles to check: base, shareable, tabular (default all; base is always checked)")
	return fs
}

func runViewValidate(ctx context.Context, env *Env, args []string) error {
	profiles := new(string)
	fs := viewValidateFlags(profiles)
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return &UsageError{Msg: "view validate needs at least one FILE"}
	}
	ps, err := viewtool.ParseProfiles(*profiles)
	if err != nil {
		return &UsageError{Msg: "--profile: " + err.Error()}
	}
	if err := viewtool.Validate(ctx, files, ps, env.Stdout); err != nil {
		return viewErr(err)
	}
	return nil
}

type viewRunFlags struct {
	inputs             schemaList
	format, quarantine string
}

func (f *viewRunFlags) set() *flag.FlagSet {
	fs := flag.NewFlagSet("view run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&f.inputs, "in", "NDJSON input file (repeat or comma-separate; required)")
	fs.StringVar(&f.format, "format", "csv", "output format: csv or json (one object per line)")
	fs.StringVar(&f.quarantine, "quarantine", "", "write lines that do not transform here (JSON lines; may quote values) and go on; default: the first one fails the run")
	return fs
}

func runViewRun(ctx context.Context, env *Env, args []string) (err error) {
	var f viewRunFlags
	pos, err := parseInterleaved(f.set(), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &UsageError{Msg: "view run needs exactly one VIEW.json"}
	}
	if len(f.inputs) == 0 {
		return &UsageError{Msg: "--in is required"}
	}
	o := viewtool.RunOptions{View: pos[0], Inputs: f.inputs, Format: viewtool.Format(f.format)}
	if f.format != string(viewtool.FormatCSV) && f.format != string(viewtool.FormatJSON) {
		return &UsageError{Msg: fmt.Sprintf("--format %q: csv or json", f.format)}
	}
	if f.quarantine != "" {
		q, err := os.OpenFile(f.quarantine, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
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
	st, err := viewtool.Run(ctx, o, env.Stdout)
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

// parseInterleaved parses flags that may come after positional arguments
// (`view run VIEW.json --in x.ndjson`), returning the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, schemaFlagError(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}
