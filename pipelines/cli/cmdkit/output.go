package cmdkit

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// Output is the --output flag: text (tables, or one bare value) or json; for the pipeline
// commands also auto, the default: the JSON summary line only when stdout is not a terminal.
type Output struct{ format string }

// AddOutputFlag adds --output (text or json, default text) to cmd.
func AddOutputFlag(cmd *cobra.Command) *Output {
	return addOutput(cmd, "text", "output format: text or json")
}

// AddSummaryFlag adds --output (auto, text or json, default auto) to a pipeline command.
func AddSummaryFlag(cmd *cobra.Command) *Output {
	return addOutput(cmd, "auto", "the JSON summary line on stdout: auto (when stdout is not a terminal), json (always) or text (never)")
}

// addOutput adds the flag and refuses, before the command runs, a format it does not take.
func addOutput(cmd *cobra.Command, def, help string) *Output {
	o := &Output{}
	cmd.Flags().StringVar(&o.format, "output", def, help)
	values := []string{"text", "json"}
	if def == "auto" {
		values = []string{"auto", "text", "json"}
	}
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	})
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if !slices.Contains(values, o.format) {
			return Usagef("--output %q: use %s or %s", o.format, strings.Join(values[:len(values)-1], ", "), values[len(values)-1])
		}
		return nil
	}
	return o
}

// Machine reports whether output is for a program: --output json, or auto with stdout not a terminal.
func (o *Output) Machine(env *Env) bool {
	return o.format == "json" || o.format == "auto" && !env.StdoutIsTerminal
}

// JSON reports whether --output json was asked for.
func (o *Output) JSON() bool { return o.format == "json" }

// Emit writes v as JSON, or header and rows as an aligned table.
func (o *Output) Emit(w io.Writer, v any, header []string, rows [][]string) error {
	if o.JSON() {
		return WriteJSON(w, v)
	}
	return WriteTable(w, header, rows)
}

// Value prints one value: {"key": value} in JSON, else alone on a line for $(…).
func (o *Output) Value(w io.Writer, key, value string) error {
	if o.JSON() {
		return WriteJSON(w, map[string]string{key: value})
	}
	_, err := fmt.Fprintln(w, value)
	return err
}

// WriteJSON writes v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteTable writes aligned columns.
func WriteTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// NonNil makes an empty list print as [] rather than null.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
