// Package admin holds dpcetl's DPC administration commands, one file per noun: keys, tokens,
// jwt, token, org, practitioners and patients (one generic command), groups, roster, sandbox.
package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/pipelines/cli/cmdkit"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// Commands are the administration commands, in the order help lists them.
func Commands(env *cmdkit.Env) []*cobra.Command {
	return []*cobra.Command{
		keysCommand(env),
		tokensCommand(env),
		jwtCommand(env),
		tokenCommand(env),
		orgCommand(env),
		resourceCommand(env, practitioners()),
		resourceCommand(env, patients()),
		groupsCommand(env),
		rosterCommand(env),
		sandboxCommand(env),
	}
}

// cmd is one admin command's shared state: the environment, --output, and (for commands that
// reach DPC) the connection flags from the config key table.
type cmd struct {
	env  *cmdkit.Env
	out  *cmdkit.Output
	conn *cmdkit.ConfigFlags
}

// newCmd makes a command with --output; conn adds the API and credential flags.
func newCmd(env *cmdkit.Env, c *cobra.Command, conn bool) *cmd {
	a := &cmd{env: env, out: cmdkit.AddOutputFlag(c)}
	if conn {
		a.conn = cmdkit.AddConfigFlags(c, cmdkit.ConnectionKeys)
	}
	return a
}

// config is the connection configuration the way `dpcetl run` builds it. The API must be
// named (flag, env or file): admin commands change things at DPC, so nothing defaults.
func (a *cmd) config() (config.Config, error) {
	c, err := a.conn.Load(a.env, configNoAPI())
	if err != nil {
		return c, err
	}
	if c.API == "" || c.Embedded() {
		return c, fmt.Errorf("%w: this command talks to a DPC API: give --api (the URL `dpcetl sandbox serve` prints, sandbox, production or a base URL) or set DPCETL_API", config.ErrInvalid)
	}
	return c, nil
}

// baseURL is the API base without credentials (portal and /Token/validate need no more).
func (a *cmd) baseURL() (string, error) {
	c, err := a.config()
	if err != nil {
		return "", err
	}
	return c.BaseURL(), nil
}

// credentials reads the secrets the flags, env or config point at and registers them with
// the redactor, so nothing printed on stderr can contain them.
func (a *cmd) credentials() (auth.Credentials, error) {
	c, err := a.config()
	if err != nil {
		return auth.Credentials{}, err
	}
	var missing []string
	cr := c.Credentials
	if cr.ClientTokenFile == "" && cr.ClientTokenEnv == "" {
		missing = append(missing, "--client-token-file (or DPCETL_CLIENT_TOKEN_FILE, --client-token-env)")
	}
	if cr.PrivateKeyFile == "" && cr.PrivateKeyEnv == "" {
		missing = append(missing, "--private-key-file (or DPCETL_PRIVATE_KEY_FILE, --private-key-env)")
	}
	if cr.KeyID == "" && cr.KeyIDEnv == "" {
		missing = append(missing, "--key-id (or DPCETL_KEY_ID, --key-id-env)")
	}
	if len(missing) > 0 {
		return auth.Credentials{}, fmt.Errorf("%w: missing credentials: %s", config.ErrInvalid, strings.Join(missing, "; "))
	}
	creds, err := runner.ResolveCredentials(c, a.env.Getenv)
	if err != nil {
		return creds, err
	}
	a.env.Redactor.Add(creds.ClientToken)
	return creds, nil
}

// httpTimeout bounds each admin request; listings of many pages are several requests.
const httpTimeout = 60 * time.Second

// client returns an authenticated API client that retries (max_attempts) when that is safe.
func (a *cmd) client() (*dpc.Client, *auth.TokenSource, error) {
	creds, err := a.credentials()
	if err != nil {
		return nil, nil, err
	}
	c, _ := a.config()
	ts := auth.NewTokenSource(creds, auth.WithClock(a.env.Now), auth.WithOnToken(func(t string) { a.env.Redactor.Add(t) }))
	hc := &http.Client{Transport: ts.Transport(nil), Timeout: httpTimeout}
	p := retry.Default()
	p.MaxAttempts = max(c.MaxAttempts, 1)
	// Sandboxes register DPC's synthetic sample MBIs; New ignores WithSyntheticMBIs for production.
	return dpc.New(creds.BaseURL, hc, dpc.WithNow(a.env.Now), dpc.WithRetry(p), dpc.WithLimiter(retry.NewLimiter(0, 0)), dpc.WithSyntheticMBIs()), ts, nil
}

// validateMBI checks an MBI given on the command line: the sandbox's synthetic MBIs are
// accepted unless the API is DPC production.
func (a *cmd) validateMBI(mbi string) error {
	if base, err := a.baseURL(); err == nil && !dpc.IsProduction(base) {
		return dpc.ValidateMBIOrSynthetic(mbi)
	}
	return dpc.ValidateMBI(mbi)
}

// emit writes one value (one) or a list: as JSON, or as a table of row(v) under header.
func emit[T any](a *cmd, vs []T, one bool, header []string, row func(T) []string) error {
	if a.out.JSON() && one {
		return cmdkit.WriteJSON(a.env.Stdout, vs[0])
	}
	if a.out.JSON() {
		return cmdkit.WriteJSON(a.env.Stdout, cmdkit.NonNil(vs))
	}
	rows := make([][]string, len(vs))
	for i, v := range vs {
		rows[i] = row(v)
	}
	return cmdkit.WriteTable(a.env.Stdout, header, rows)
}

// plainClient is for the unauthenticated endpoints (portal, /Token/validate).
func plainClient() *http.Client { return &http.Client{Timeout: httpTimeout} }

// viaPortal calls portal on the sandbox portal of the configured API when orgID is given
// (before any credentials exist), else api with an authenticated client.
func viaPortal[T any](a *cmd, orgID string, portal func(*dpc.Portal) (T, error), api func(*dpc.Client) (T, error)) (T, error) {
	var zero T
	if orgID != "" {
		base, err := a.baseURL()
		if err != nil {
			return zero, err
		}
		return portal(dpc.NewPortal(base, plainClient()))
	}
	cl, _, err := a.client()
	if err != nil {
		return zero, err
	}
	return api(cl)
}

// clientCmd is an admin command that only needs an authenticated client and its arguments.
func clientCmd(env *cmdkit.Env, use, short string, args cobra.PositionalArgs,
	run func(a *cmd, cc *cobra.Command, c *dpc.Client, args []string) error) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: args}
	a := newCmd(env, c, true)
	c.RunE = func(cc *cobra.Command, args []string) error {
		cl, _, err := a.client()
		if err != nil {
			return err
		}
		return run(a, cc, cl, args)
	}
	return c
}

// listCmd is `NOUN list`: every resource fetch returns, printed by print.
func listCmd[T any](env *cmdkit.Env, short string, fetch func(*dpc.Client, context.Context) ([]T, error), print func(*cmd, []T, bool) error) *cobra.Command {
	return clientCmd(env, "list", short, cmdkit.NoArgs, func(a *cmd, cc *cobra.Command, c *dpc.Client, _ []string) error {
		vs, err := fetch(c, cc.Context())
		if err != nil {
			return err
		}
		return print(a, vs, false)
	})
}

// getCmd is `NOUN get ID` (or show): the one resource fetch returns for the id.
func getCmd[T any](env *cmdkit.Env, use, short string, fetch func(*dpc.Client, context.Context, string) (T, error), print func(*cmd, []T, bool) error) *cobra.Command {
	return clientCmd(env, use, short, cmdkit.ExactArgs(1, "one "+strings.Fields(use)[1]), func(a *cmd, cc *cobra.Command, c *dpc.Client, args []string) error {
		v, err := fetch(c, cc.Context(), args[0])
		if err != nil {
			return err
		}
		return print(a, []T{v}, true)
	})
}

// deleteCmd is `NOUN delete ID`.
func deleteCmd(env *cmdkit.Env, use, short, what string, del func(*dpc.Client, context.Context, string) error) *cobra.Command {
	return clientCmd(env, use, short, cmdkit.ExactArgs(1, "one "+strings.Fields(use)[1]), func(a *cmd, cc *cobra.Command, c *dpc.Client, args []string) error {
		if err := del(c, cc.Context(), args[0]); err != nil {
			return err
		}
		return a.out.Emit(a.env.Stdout, map[string]string{"deleted": args[0]}, []string{"DELETED " + what}, [][]string{{args[0]}})
	})
}

// configNoAPI is the default configuration with no API: the starting point of admin commands.
func configNoAPI() config.Config {
	c := config.Default()
	c.API = ""
	return c
}
