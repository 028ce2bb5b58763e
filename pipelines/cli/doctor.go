package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

func doctorCommand(env *Env) *cobra.Command {
	c := &cobra.Command{
		Use:     "doctor",
		Short:   "check config, key file permissions, key id and token shape, clock skew, /Token/validate, a token exchange and reachability",
		Example: "  dpcetl doctor --config dpcetl.yaml\n  dpcetl doctor --sandbox",
		Args:    cmdkit.NoArgs,
	}
	cf := cmdkit.AddConfigFlags(c, cmdkit.AllKeys)
	c.RunE = func(cc *cobra.Command, _ []string) error {
		ctx := cc.Context()
		out := env.Redactor.Writer(env.Stdout)
		cfg, err := cf.Config(env)
		if err != nil {
			fmt.Fprintf(out, "FAIL config: %v\n     fix: correct the key named above (dpcetl config validate FILE)\n", err)
			return err
		}
		fmt.Fprintf(out, "ok   config\n")
		env.ResolveLogFormat(cfg.LogFormat)
		opts, stop, err := runnerOptions(ctx, env, cfg, newLogger(env, cfg))
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
