package cmdkit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// Output is the --output flag: text (tables, or one bare value) or json.
type Output struct{ format string }

// AddOutputFlag adds --output to cmd.
func AddOutputFlag(cmd *cobra.Command) *Output {
	o := &Output{}
	cmd.Flags().StringVar(&o.format, "output", "text", "output format: text or json")
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp
	})
	return o
}

// Check refuses formats other than text and json.
func (o *Output) Check() error {
	if o.format != "text" && o.format != "json" {
		return Usagef("--output %q: use text or json", o.format)
	}
	return nil
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
