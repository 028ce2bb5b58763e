package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/dpcetl/dpcetl/pipelines/config"
)

func configCommand(env *Env) *cobra.Command {
	validate := &cobra.Command{
		Use:     "validate FILE",
		Short:   "check a config file; names the bad key and its line",
		Example: "  dpcetl config validate pipelines/examples/sandbox.yaml",
		Args:    cmdkit.ExactArgs(1, "exactly one FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := config.Load(args[0])
			if err != nil {
				return err
			}
			if err := c.Validate(); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			_, err = fmt.Fprintf(env.Stdout, "%s: ok\n", args[0])
			return err
		},
	}
	validate.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	}
	show := &cobra.Command{
		Use:     "show",
		Short:   "print the effective configuration (defaults < file < DPCETL_* env < flags), then any problem with it",
		Example: "  DPCETL_DESTINATION=/tmp/x dpcetl config show --config pipelines/examples/sandbox.yaml --since full",
		Args:    cmdkit.NoArgs,
	}
	cf := cmdkit.AddConfigFlags(show, cmdkit.AllKeys)
	show.RunE = func(*cobra.Command, []string) error {
		c, err := cf.Load(env, config.Default())
		if err != nil {
			return err
		}
		b, err := yaml.Marshal(c)
		if err != nil {
			return err
		}
		if _, err = env.Stdout.Write(b); err != nil {
			return err
		}
		return c.Validate()
	}
	return cmdkit.Group("config", "check or show configuration", validate, show)
}
