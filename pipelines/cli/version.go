package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

// Version is set at build time with -ldflags "-X github.com/dpcetl/dpcetl/pipelines/cli.Version=…".
var Version = "dev"

func versionCommand(env *Env) *cobra.Command {
	return &cobra.Command{Use: "version", Short: "print the version", Args: cmdkit.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(env.Stdout, "dpcetl", Version)
			return err
		}}
}
