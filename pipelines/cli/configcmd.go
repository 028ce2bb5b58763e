package cli

import (
	"context"
	"flag"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/dpcetl/dpcetl/pipelines/config"
)

func configCommand() *Command {
	validate := &Command{
		Name:    "validate",
		Usage:   "dpcetl config validate FILE",
		Summary: "check a config file; names the bad key and its line",
		Run: func(_ context.Context, env *Env, args []string) error {
			f := newCmdFlags("config validate", false)
			rest, err := f.parse(args)
			if err != nil {
				return err
			}
			if len(rest) != 1 {
				return &UsageError{Msg: "config validate takes exactly one FILE"}
			}
			c, err := config.Load(rest[0])
			if err != nil {
				return err
			}
			if err := c.Validate(); err != nil {
				return fmt.Errorf("%s: %w", rest[0], err)
			}
			_, err = fmt.Fprintf(env.Stdout, "%s: ok\n", rest[0])
			return err
		},
	}
	show := &Command{
		Name:    "show",
		Usage:   "dpcetl config show [--config FILE] [flags]",
		Summary: "print the effective configuration (defaults < file < DPCETL_* env < flags)",
	}
	show.flags = func() *flag.FlagSet { return newCmdFlags("config show", true).fs }
	show.Run = func(_ context.Context, env *Env, args []string) error {
		f := newCmdFlags("config show", true)
		rest, err := f.parse(args)
		if err != nil {
			return err
		}
		if len(rest) > 0 {
			return &UsageError{Msg: fmt.Sprintf("unexpected argument %q", rest[0])}
		}
		c, err := f.config(env)
		if err != nil {
			return err
		}
		b, err := yaml.Marshal(c)
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(b)
		return err
	}
	return &Command{Name: "config", Usage: "dpcetl config validate|show", Summary: "check or show configuration",
		Sub: []*Command{validate, show}}
}
