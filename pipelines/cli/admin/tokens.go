package admin

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

func tokensCommand(env *cmdkit.Env) *cobra.Command {
	return cmdkit.Group("tokens", "manage client tokens",
		tokensCreate(env),
		clientCmd(env, "list", "list client tokens (ids, labels, expiry; never the secrets)", cmdkit.NoArgs,
			func(a *cmd, cc *cobra.Command, c *dpc.Client, _ []string) error {
				toks, err := c.Tokens(cc.Context())
				if err != nil {
					return err
				}
				for i := range toks {
					toks[i].Token = ""
				}
				return a.emitTokens(toks, false, "")
			}),
		clientCmd(env, "delete TOKEN_ID", "revoke a client token", cmdkit.ExactArgs(1, "one TOKEN_ID"),
			func(a *cmd, cc *cobra.Command, c *dpc.Client, args []string) error {
				if err := c.DeleteToken(cc.Context(), args[0]); err != nil {
					return err
				}
				return a.out.Emit(a.env.Stdout, map[string]string{"deleted": args[0]}, []string{"DELETED TOKEN"}, [][]string{{args[0]}})
			}),
	)
}

func tokensCreate(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "create",
		Short:   "create a client token and write it to a mode-0600 file (never to the screen); with --org-id, through the sandbox portal",
		Example: "  dpcetl tokens create --label airflow --expiration 90d --out ~/.dpc/client_token",
		Args:    cmdkit.NoArgs}
	a := newCmd(env, c, true)
	label := c.Flags().String("label", "", "label for the token")
	expiration := c.Flags().String("expiration", "", "when it expires: ISO date-time, date, or a duration from now (e.g. 90d)")
	out := c.Flags().String("out", "client-token.txt", "file to write the token to (mode 0600)")
	force := c.Flags().Bool("force", false, "replace an existing --out file")
	orgID := c.Flags().String("org-id", "", "organization id: create through the sandbox portal (the first token)")
	c.RunE = func(cc *cobra.Command, _ []string) error {
		ctx := cc.Context()
		var exp time.Time
		if *expiration != "" {
			var err error
			if exp, err = parseTime(*expiration, env.Now()); err != nil {
				return cmdkit.Usagef("--expiration: %v", err)
			}
		}
		if !*force {
			if _, err := os.Stat(*out); err == nil {
				return cmdkit.Usagef("%s exists; remove it, choose another --out or pass --force", *out)
			}
		}
		var tok dpc.Token
		if *orgID != "" {
			base, err := a.baseURL()
			if err != nil {
				return err
			}
			if tok, err = dpc.NewPortal(base, plainClient()).CreateToken(ctx, *orgID, *label, exp); err != nil {
				return err
			}
		} else {
			cl, _, err := a.client()
			if err != nil {
				return err
			}
			if tok, err = cl.CreateToken(ctx, *label, exp); err != nil {
				return err
			}
		}
		if tok.Token == "" {
			return fmt.Errorf("DPC created token %s but did not return its value", tok.ID)
		}
		env.Redactor.Add(tok.Token)
		if err := writeSecretFile(*out, []byte(tok.Token+"\n"), 0o600, *force); err != nil {
			return err
		}
		tok.Token = ""
		return a.emitTokens([]dpc.Token{tok}, true, *out)
	}
	return c
}

func (a *cmd) emitTokens(toks []dpc.Token, one bool, file string) error {
	header := []string{"TOKEN ID", "LABEL", "CREATED", "EXPIRES"}
	row := func(t dpc.Token) []string { return []string{t.ID, t.Label, t.CreatedAt, t.ExpiresAt} }
	if file == "" {
		return emit(a, toks, one, header, row)
	}
	t := toks[0]
	v := map[string]any{"id": t.ID, "label": t.Label, "createdAt": t.CreatedAt, "expiresAt": t.ExpiresAt, "file": file}
	return a.out.Emit(a.env.Stdout, v, append(header, "WRITTEN TO"), [][]string{append(row(t), file)})
}
