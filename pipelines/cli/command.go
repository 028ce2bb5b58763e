package cli

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/dpcetl/dpcetl/pipelines/logging"
)

// Command is one verb of the dpcetl CLI, or a group of verbs ("keys generate").
type Command struct {
	Name    string
	Usage   string
	Summary string
	Sub     []*Command
	Run     func(ctx context.Context, env *Env, args []string) error

	// flags, when set, returns the command's flag set so that help can list the flags.
	flags func() *flag.FlagSet
}

// Env is everything a command may touch outside its arguments, so tests can run commands in-process.
type Env struct {
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	Getenv     func(string) string
	IsTerminal bool
	Now        func() time.Time

	// Redactor masks secrets in everything written to Stderr and in logs. Commands that read
	// a secret register it with Redactor.Add. Main creates one when nil.
	Redactor *logging.Redactor
}
