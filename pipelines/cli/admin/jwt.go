package admin

import (
	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

func jwtCommand(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "jwt", Short: "print a signed client-assertion JWT (what DPC's JWT tool makes; valid 5 minutes)", Args: cmdkit.NoArgs}
	a := newCmd(env, c, true)
	c.RunE = func(*cobra.Command, []string) error {
		creds, err := a.credentials()
		if err != nil {
			return err
		}
		jwt, err := auth.NewAssertion(creds, env.Now())
		if err != nil {
			return err
		}
		return a.out.Value(env.Stdout, "jwt", jwt)
	}
	return c
}
