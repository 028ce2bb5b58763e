package admin

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

func orgCommand(env *cmdkit.Env) *cobra.Command {
	show := clientCmd(env, "show", "show the organization (its id goes into attestations)", cmdkit.NoArgs,
		func(a *cmd, cc *cobra.Command, c *dpc.Client, _ []string) error {
			o, err := c.Organization(cc.Context())
			if err != nil {
				return err
			}
			return a.out.Emit(env.Stdout, o, []string{"ORGANIZATION ID", "NAME", "NPI"}, [][]string{{o.ID, o.Name, o.NPI()}})
		})
	return cmdkit.Group("org", "the organization", show, orgCreate(env))
}

func orgCreate(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "create", Short: "create an organization in the sandbox portal (the real DPC does this when CMS approves your account)",
		Example: `  dpcetl org create --name "My Clinic" --npi 1234567893`, Args: cmdkit.NoArgs}
	a := newCmd(env, c, true)
	name := c.Flags().String("name", "", "organization name")
	npi := c.Flags().String("npi", "", "organization NPI")
	c.RunE = func(cc *cobra.Command, _ []string) error {
		if *name == "" {
			return cmdkit.Usagef("--name is required")
		}
		if *npi != "" {
			if err := dpc.ValidateNPI(*npi); err != nil {
				return cmdkit.AsUsage(fmt.Errorf("--npi: %w", err))
			}
		}
		base, err := a.baseURL()
		if err != nil {
			return err
		}
		o, err := dpc.NewPortal(base, plainClient()).CreateOrganization(cc.Context(), *name, *npi)
		if err != nil {
			return err
		}
		return a.out.Emit(env.Stdout, o, []string{"ORGANIZATION ID", "NAME", "NPI"}, [][]string{{o.ID, o.Name, o.NPI}})
	}
	return c
}
