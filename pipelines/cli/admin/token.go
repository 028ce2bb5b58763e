package admin

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
)

func tokenCommand(env *cmdkit.Env) *cobra.Command {
	return cmdkit.Group("token", "access tokens and client-assertion checks", tokenGet(env), tokenValidate(env))
}

func tokenGet(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "get", Short: "print an access token (lives 5 minutes) for scripts: the one command that prints a secret, on purpose",
		Example: `  curl -H "Authorization: Bearer $(dpcetl token get)" "$DPCETL_API/Organization"`, Args: cmdkit.NoArgs}
	a := newCmd(env, c, true)
	c.RunE = func(cc *cobra.Command, _ []string) error {
		_, ts, err := a.client()
		if err != nil {
			return err
		}
		tok, err := ts.Token(cc.Context())
		if err != nil {
			return err
		}
		env.Redactor.Add(tok) // stdout gets it; stderr and logs never do
		if a.out.JSON() {
			return cmdkit.WriteJSON(env.Stdout, map[string]any{"access_token": tok, "token_type": "bearer"})
		}
		_, err = fmt.Fprintln(env.Stdout, tok)
		return err
	}
	return c
}

func tokenValidate(env *cmdkit.Env) *cobra.Command {
	c := &cobra.Command{Use: "validate",
		Short:   "check a client-assertion JWT's claims with DPC (/Token/validate); default: a fresh one from your credentials",
		Example: "  dpcetl jwt | dpcetl token validate --jwt-file -", Args: cmdkit.NoArgs}
	a := newCmd(env, c, true)
	jwtFile := c.Flags().String("jwt-file", "", "file holding the JWT to check (- for standard input)")
	c.RunE = func(cc *cobra.Command, _ []string) error {
		var jwt, base string
		if *jwtFile == "" {
			creds, err := a.credentials()
			if err != nil {
				return err
			}
			if jwt, err = auth.NewAssertion(creds, env.Now()); err != nil {
				return err
			}
			base = creds.BaseURL
		} else {
			var b []byte
			var err error
			if *jwtFile == "-" {
				b, err = readAllLimited(env.Stdin)
			} else {
				b, err = os.ReadFile(*jwtFile)
			}
			if err != nil {
				return fileErr("jwt-file", err)
			}
			jwt = strings.TrimSpace(string(b))
			if base, err = a.baseURL(); err != nil {
				return err
			}
		}
		env.Redactor.Add(jwt)
		if err := dpc.New(base, plainClient()).ValidateToken(cc.Context(), jwt); err != nil {
			return err
		}
		return a.out.Emit(env.Stdout, map[string]bool{"valid": true}, []string{"VALID"}, [][]string{{"yes"}})
	}
	return c
}
