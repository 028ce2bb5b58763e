package admin

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

func sandboxCommand(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "serve", Short: "run the local DPC sandbox (portal + /api/v1) until interrupted, for trying every command without a CMS account",
		Example: "  dpcetl sandbox serve --sandbox-addr 127.0.0.1:3002 &\n  export DPCETL_API=http://127.0.0.1:3002/api/v1", Args: cmdkit.NoArgs}
	a := newCmd(env, c, false)
	addr := c.Flags().String("sandbox-addr", "127.0.0.1:3002", "listen address")
	bits := c.Flags().Int("min-key-bits", dpc.DefaultKeyBits, "smallest RSA key the sandbox accepts (DPC: 4096)")
	jobDur := c.Flags().Duration("job-duration", 2*time.Second, "least time an export job takes")
	c.RunE = func(cc *cobra.Command, _ []string) error {
		srv, err := dpctest.Listen(*addr, dpctest.WithMinKeyBits(*bits), dpctest.WithJobDuration(*jobDur))
		if err != nil {
			return cmdkit.Usagef("cannot listen on %s: %v (choose another --sandbox-addr)", *addr, err)
		}
		defer srv.Close()
		if a.out.JSON() {
			if err := cmdkit.WriteJSON(env.Stdout, map[string]string{"url": srv.URL, "api": srv.BaseURL()}); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(env.Stdout, "DPC sandbox listening.\n  portal: %s/portal\n  API:    %s   (export DPCETL_API=%s)\nPress Ctrl-C to stop.\n",
				srv.URL, srv.BaseURL(), srv.BaseURL())
		}
		<-cc.Context().Done()
		return nil
	}
	return cmdkit.Group("sandbox", "a local DPC sandbox", c)
}
