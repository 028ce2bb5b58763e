package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/dpcetl/dpcetl/pipelines/runner"
)

func doctorCommand() *Command {
	c := &Command{
		Name:    "doctor",
		Usage:   "dpcetl doctor [--config FILE] [flags]",
		Summary: "check config, key file permissions, key id and token shape, clock skew, /Token/validate, a token exchange and reachability",
	}
	c.flags = func() *flag.FlagSet { return newCmdFlags("doctor", true).fs }
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		f := newCmdFlags("doctor", true)
		rest, err := f.parse(args)
		if err != nil {
			return err
		}
		if len(rest) > 0 {
			return &UsageError{Msg: fmt.Sprintf("unexpected argument %q", rest[0])}
		}
		out := env.Redactor.Writer(env.Stdout)
		cfg, err := f.config(env)
		if err != nil {
			fmt.Fprintf(out, "FAIL config: %v\n     fix: correct the key named above (dpcetl config validate FILE)\n", err)
			return err
		}
		fmt.Fprintf(out, "ok   config\n")
		log := newLogger(env, cfg)
		opts := runner.Options{Config: cfg, Logger: log, Now: env.Now, Getenv: env.Getenv, Redactor: env.Redactor}
		stop, err := withEmbedded(ctx, cfg, log, &opts)
		defer stop()
		if err != nil {
			fmt.Fprintf(out, "FAIL embedded sandbox: %v\n     fix: choose another --sandbox-addr, e.g. 127.0.0.1:0\n", err)
			return err
		}
		checks, err := runner.Doctor(ctx, opts)
		for _, ch := range checks {
			if ch.OK {
				fmt.Fprintf(out, "ok   %s: %s\n", ch.Name, ch.Detail)
			} else {
				fmt.Fprintf(out, "FAIL %s: %s\n     fix: %s\n", ch.Name, ch.Detail, ch.Fix)
			}
		}
		return err
	}
	return c
}
