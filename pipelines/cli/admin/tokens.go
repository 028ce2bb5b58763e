package admin

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

func tokensCommand(env *cmdkit.Env) *cobra.Command {
	return cmdkit.Group("tokens", "manage client tokens",
		tokensCreate(env),
		listCmd(env, "list client tokens (ids, labels, expiry; never the secrets)", (*dpc.Client).Tokens, func(a *cmd, toks []dpc.Token, _ bool) error {
			for i := range toks {
				toks[i].Token = ""
			}
			return a.emitTokens(toks, false, "")
		}),
		deleteCmd(env, "delete TOKEN_ID", "revoke a client token", "TOKEN", (*dpc.Client).DeleteToken),
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
		exp, err := parseTime(*expiration, env.Now())
		if err != nil {
			return cmdkit.Usagef("--expiration: %v", err)
		}
		if !*force {
			if _, err := os.Stat(*out); err == nil {
				return cmdkit.Usagef("%s exists; remove it, choose another --out or pass --force", *out)
			}
		}
		tok, err := viaPortal(a, *orgID, func(p *dpc.Portal) (dpc.Token, error) { return p.CreateToken(ctx, *orgID, *label, exp) },
			func(c *dpc.Client) (dpc.Token, error) { return c.CreateToken(ctx, *label, exp) })
		if err != nil {
			return err
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
