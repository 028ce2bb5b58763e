// Package cmdkit is what every dpcetl command shares: its environment, usage errors, the
// config flags generated from config.Keys, and output as text tables or JSON.
package cmdkit

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/pipelines/logging"
)

// Env is everything a command may touch outside its arguments, so tests can run commands in-process.
type Env struct {
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	Getenv     func(string) string
	IsTerminal bool // stderr is a terminal: progress line, text logs, the human summary
	// StdoutIsTerminal: the JSON summary line is left out unless asked for (--output json).
	StdoutIsTerminal bool
	Now              func() time.Time
	// LogFormat is "text" or "json" once a command has resolved its configuration (see
	// ResolveLogFormat); Main writes its final error line in that format.
	LogFormat string

	// Redactor masks secrets in everything written to Stderr and in logs. Commands that read
	// a secret register it with Redactor.Add. Main creates one when nil.
	Redactor *logging.Redactor
}

// Fill gives every unset field a working default so commands never check for nil.
func (e *Env) Fill() {
	if e.Stdin == nil {
		e.Stdin = strings.NewReader("")
	}
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Redactor == nil {
		e.Redactor = logging.NewRedactor()
	}
}

// ResolveLogFormat turns a log_format setting into "text" or "json": auto is text on a
// terminal and JSON lines otherwise. It records the result in e.LogFormat.
func (e *Env) ResolveLogFormat(format string) string {
	switch {
	case format == "text" || format == "json":
		e.LogFormat = format
	case e.IsTerminal:
		e.LogFormat = "text"
	default:
		e.LogFormat = "json"
	}
	return e.LogFormat
}

// UsageError is a command-line mistake (exit 2); the CLI prints the command's usage after it.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError.
func Usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// AsUsage turns an input validation failure into a usage error (nil stays nil).
func AsUsage(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Msg: err.Error()}
}

// NoArgs accepts no positional argument.
func NoArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return Usagef("unexpected argument %q (expected no arguments)", args[0])
	}
	return nil
}

// ExactArgs accepts exactly n positional arguments, described by what ("one KEY_ID").
func ExactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return Usagef("expected %s", what)
		}
		return nil
	}
}

// Group is a command that only holds subcommands: run alone, or with an unknown
// subcommand, it is a usage error naming the choices.
func Group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	AddOrdered(c, subs...)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		var names []string
		for _, s := range Ordered(cmd) {
			names = append(names, s.Name())
		}
		return Usagef("%s needs a subcommand: %s", cmd.CommandPath(), strings.Join(names, ", "))
	}
	return c
}

// orderKey is the annotation that keeps the order subcommands were added in: cobra sorts
// them by name unless its package-level switch is turned off, and dpcetl sets no globals.
const orderKey = "dpcetl.order"

// AddOrdered adds subs to c and records their order for Ordered.
func AddOrdered(c *cobra.Command, subs ...*cobra.Command) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	for _, s := range subs {
		c.Annotations[orderKey] += s.Name() + " "
	}
	c.AddCommand(subs...)
}

// Ordered is c's subcommands in the order AddOrdered added them; others (help, completion) follow.
func Ordered(c *cobra.Command) []*cobra.Command {
	order := strings.Fields(c.Annotations[orderKey])
	rank := func(s *cobra.Command) int {
		if i := slices.Index(order, s.Name()); i >= 0 {
			return i
		}
		return len(order)
	}
	subs := slices.Clone(c.Commands())
	slices.SortStableFunc(subs, func(a, b *cobra.Command) int { return rank(a) - rank(b) })
	return subs
}
