package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// admFlags is the flag set of one admin command plus the shared connection and output flags.
type admFlags struct {
	fs         *flag.FlagSet
	configPath string
	api        string
	tokenFile  string
	tokenEnv   string
	keyFile    string
	keyEnv     string
	keyID      string
	keyIDEnv   string
	output     string
	retries    int
}

// admNewFlags makes a flag set. conn adds the connection flags (API URL and credentials by
// reference); every admin command gets --output.
func admNewFlags(name string, conn bool) *admFlags {
	f := &admFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.SetOutput(io.Discard)
	f.fs.StringVar(&f.output, "output", "table", "output format: table or json")
	if conn {
		f.fs.StringVar(&f.configPath, "config", "", "YAML config file (also DPCETL_CONFIG); flags > DPCETL_* env > file")
		f.fs.StringVar(&f.api, "api", "", "DPC API base URL, or sandbox / production (env DPCETL_API)")
		f.fs.StringVar(&f.api, "api-url", "", "same as --api")
		f.fs.StringVar(&f.tokenFile, "client-token-file", "", "file holding the client token (env DPCETL_CLIENT_TOKEN_FILE)")
		f.fs.StringVar(&f.tokenEnv, "client-token-env", "", "NAME of an environment variable holding the client token")
		f.fs.StringVar(&f.keyFile, "private-key-file", "", "PEM private key file (env DPCETL_PRIVATE_KEY_FILE)")
		f.fs.StringVar(&f.keyFile, "private-key", "", "same as --private-key-file")
		f.fs.StringVar(&f.keyEnv, "private-key-env", "", "NAME of an environment variable holding the PEM private key")
		f.fs.StringVar(&f.keyID, "key-id", "", "public key id DPC returned at upload (env DPCETL_KEY_ID)")
		f.fs.StringVar(&f.keyIDEnv, "key-id-env", "", "NAME of an environment variable holding the key id")
		f.fs.IntVar(&f.retries, "retries", 4, "retry a failed request up to this many times when it is safe (429, 5xx, network errors)")
	}
	return f
}

// parse accepts flags before and after positional arguments ("keys get ID --output json").
func (f *admFlags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			msg := err.Error()
			if rest, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
				msg = "unknown flag " + rest
			}
			return nil, &UsageError{Msg: msg}
		}
		args = f.fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if f.output != "table" && f.output != "json" {
		return nil, &UsageError{Msg: fmt.Sprintf("--output %q: use table or json", f.output)}
	}
	return pos, nil
}

// config builds the connection configuration the way `dpcetl run` does (P1's config package):
// defaults, then the file, then DPCETL_* variables, then these flags.
func (f *admFlags) config(env *Env) (config.Config, error) {
	// Admin commands change things at DPC: the API must be named, never defaulted.
	base := config.Default()
	base.API = ""
	c, err := fileEnvConfigOver(env, f.configPath, base)
	if err != nil {
		return c, err
	}
	set := map[string]string{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = fl.Value.String() })
	if f.api != "" {
		c.API = f.api
	}
	cr := &c.Credentials
	if _, ok := set["client-token-file"]; ok {
		cr.ClientTokenFile, cr.ClientTokenEnv = f.tokenFile, ""
	}
	if _, ok := set["client-token-env"]; ok {
		cr.ClientTokenEnv, cr.ClientTokenFile = f.tokenEnv, ""
	}
	if f.keyFile != "" {
		cr.PrivateKeyFile, cr.PrivateKeyEnv = f.keyFile, ""
	}
	if _, ok := set["private-key-env"]; ok {
		cr.PrivateKeyEnv, cr.PrivateKeyFile = f.keyEnv, ""
	}
	if _, ok := set["key-id"]; ok {
		cr.KeyID, cr.KeyIDEnv = f.keyID, ""
	}
	if _, ok := set["key-id-env"]; ok {
		cr.KeyIDEnv, cr.KeyID = f.keyIDEnv, ""
	}
	if c.API == "" || c.Embedded() {
		return c, fmt.Errorf("%w: this command talks to a DPC API: give --api (the URL `dpcetl sandbox serve` prints, sandbox, production or a base URL) or set DPCETL_API", config.ErrInvalid)
	}
	return c, nil
}

// baseURL is the API base without credentials (portal and /Token/validate need no more).
func (f *admFlags) baseURL(env *Env) (string, error) {
	c, err := f.config(env)
	if err != nil {
		return "", err
	}
	return c.BaseURL(), nil
}

// credentials reads the secrets the flags, env or config point at and registers them with the
// redactor, so that nothing printed on stderr can contain them.
func (f *admFlags) credentials(env *Env) (auth.Credentials, error) {
	c, err := f.config(env)
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
	creds, err := runner.ResolveCredentials(c, env.Getenv)
	if err != nil {
		return creds, err
	}
	env.Redactor.Add(creds.ClientToken)
	return creds, nil
}

// admHTTPTimeout bounds each admin request; listings of many pages are several requests.
const admHTTPTimeout = 60 * time.Second

// client returns an authenticated API client.
func (f *admFlags) client(env *Env) (*dpc.Client, *auth.TokenSource, error) {
	creds, err := f.credentials(env)
	if err != nil {
		return nil, nil, err
	}
	ts := auth.NewTokenSource(creds, auth.WithClock(env.Now))
	hc := &http.Client{Transport: ts.Transport(nil), Timeout: admHTTPTimeout}
	p := retry.Default()
	p.MaxAttempts = max(f.retries, 0) + 1
	opts := []dpc.Option{dpc.WithNow(env.Now), dpc.WithRetry(p), dpc.WithLimiter(retry.NewLimiter(0, 0))}
	if !dpc.IsProduction(creds.BaseURL) {
		opts = append(opts, dpc.WithSyntheticMBIs()) // sandboxes register DPC's synthetic sample MBIs
	}
	return dpc.New(creds.BaseURL, hc, opts...), ts, nil
}

func (f *admFlags) json() bool { return f.output == "json" }

// admJSON writes v as indented JSON.
func admJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// admTable writes aligned columns.
func admTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// admEmit writes v as JSON or, for tables, header+rows.
func (f *admFlags) emit(env *Env, v any, header []string, rows [][]string) error {
	if f.json() {
		return admJSON(env.Stdout, v)
	}
	return admTable(env.Stdout, header, rows)
}

// admUsage turns input validation failures into usage errors (exit code 2).
func admUsage(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Msg: err.Error()}
}

// admParseDuration accepts Go durations plus a days suffix ("14d", "90d").
func admParseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration (e.g. 14d, 36h)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (e.g. 14d, 36h)", s)
	}
	return d, nil
}

// admParseTime accepts an RFC 3339 instant, a date, or a duration from now ("30d").
func admParseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := admParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO date-time, a date or a duration such as 30d", s)
}

// admWriteSecretFile writes data to path with mode 0600, refusing to replace an existing file
// unless force: a key or token overwritten by accident is gone for good.
func admWriteSecretFile(path string, data []byte, mode os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return &UsageError{Msg: fmt.Sprintf("%s exists; remove it or pass --force", path)}
		}
		return err
	}
	if err := f.Chmod(mode); err != nil { // O_TRUNC keeps an existing file's mode
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// admSplitList splits repeated and comma-separated values.
type admList []string

func (l *admList) String() string { return strings.Join(*l, ",") }
func (l *admList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// admNeedArgs checks the count of positional arguments.
func admNeedArgs(args []string, n int, what string) error {
	if len(args) != n {
		return &UsageError{Msg: fmt.Sprintf("expected %s", what)}
	}
	return nil
}

// admPlainClient is for the unauthenticated endpoints (portal, /Token/validate).
func admPlainClient() *http.Client { return &http.Client{Timeout: admHTTPTimeout} }

// readAllLimited reads standard input, refusing more than 1 MiB (a JWT is far smaller).
func readAllLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 1<<20 {
		return nil, &UsageError{Msg: "standard input is larger than 1 MiB"}
	}
	return b, nil
}

// admFileErr reports an unreadable input file as a configuration problem. The cause is kept
// as text only: a wrapped syscall.Errno would look like a network error to ExitCode.
func admFileErr(flagName string, err error) error {
	return fmt.Errorf("%w: --%s: %v", config.ErrInvalid, flagName, err)
}

// admNonNil makes an empty list print as [] rather than null.
func admNonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// validateMBI checks an MBI given on the command line: the sandbox's synthetic MBIs are
// accepted unless the API is DPC production.
func (f *admFlags) validateMBI(env *Env, mbi string) error {
	if base, err := f.baseURL(env); err == nil && !dpc.IsProduction(base) {
		return dpc.ValidateMBIOrSynthetic(mbi)
	}
	return dpc.ValidateMBI(mbi)
}
