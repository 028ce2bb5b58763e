package cli

import (
	"context"
	"io"
	"time"
)

// Command is one verb of the dpcetl CLI, or a group of verbs ("keys generate").
type Command struct {
	Name    string
	Usage   string
	Summary string
	Sub     []*Command
	Run     func(ctx context.Context, env *Env, args []string) error
}

// Env is everything a command may touch outside its arguments, so tests can run commands in-process.
type Env struct {
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	Getenv     func(string) string
	IsTerminal bool
	Now        func() time.Time
}
