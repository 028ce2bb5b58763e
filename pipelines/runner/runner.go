package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/logging"
)

// Options configure a Runner. Only Config is required.
type Options struct {
	Config   config.Config
	Logger   *slog.Logger
	Progress extract.Progress
	Now      func() time.Time
	Getenv   func(string) string
	Redactor *logging.Redactor
	// OnDownloadPlan, when set, is told how many files a download is about to fetch
	// (progress bars use it for the fraction done and the ETA).
	OnDownloadPlan func(files int)
	// Version of dpcetl, recorded in every Parquet file.
	Version string
	// Transport is the base HTTP transport (default http.DefaultTransport).
	Transport http.RoundTripper

	// Embedded-sandbox knobs (tests shrink them; zero values give the demo defaults).
	SandboxOptions []dpctest.Option
	Provision      dpc.SandboxOptions
	OnSandboxStart func(*dpctest.Server, *dpc.Sandbox) // called once the embedded sandbox is provisioned
}

// Runner runs the pipeline stages for the configured groups.
type Runner struct {
	opts     Options
	cfg      config.Config
	log      *slog.Logger
	now      func() time.Time
	red      *logging.Redactor
	creds    auth.Credentials
	ts       *auth.TokenSource
	hc       *http.Client // carries the bearer for the API host
	sink     sink.Sink
	stateDir string
	tmpState bool
	groups   []string
	srv      *dpctest.Server
	sandbox  *dpc.Sandbox
	provSecs float64

	limOnce sync.Once
	lim     *retry.Limiter
}

// DemoPatients is how many patients the embedded sandbox gets by default.
const DemoPatients = 200

// New resolves credentials (or starts and provisions the embedded sandbox), opens the
// destination sink and resolves the groups. Every failure names what to fix.
func New(ctx context.Context, o Options) (*Runner, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Redactor == nil {
		o.Redactor = logging.NewRedactor()
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	r := &Runner{opts: o, cfg: o.Config, log: o.Logger, now: o.Now, red: o.Redactor}
	ok := false
	defer func() {
		if !ok {
			r.Close()
		}
	}()
	if err := r.prepareDirs(); err != nil {
		return nil, err
	}
	s, err := sink.Open(ctx, r.cfg.Destination)
	if err != nil {
		return nil, fmt.Errorf("%w: destination %s: %v", config.ErrInvalid, r.cfg.Destination, err)
	}
	r.sink = s
	if r.cfg.Embedded() {
		if err := r.startEmbedded(ctx); err != nil {
			return nil, err
		}
	} else {
		creds, err := ResolveCredentials(r.cfg, o.Getenv)
		if err != nil {
			return nil, err
		}
		r.creds = creds
	}
	r.red.Add(r.creds.ClientToken)
	// Every access token goes to the redactor before it is used: a server may echo it.
	r.ts = auth.NewTokenSource(r.creds, auth.WithClock(r.now), auth.WithProgress(o.Progress),
		auth.WithHTTPClient(&http.Client{Transport: o.Transport, Timeout: time.Minute}),
		auth.WithRetry(r.retryPolicy()), auth.WithOnToken(func(t string) { r.red.Add(t) }))
	r.hc = &http.Client{Transport: r.ts.Transport(o.Transport)}
	// Fail fast (exit 4) on a revoked or expired client token, before any export starts.
	if err := CheckAccess(ctx, r.hc, r.creds, tokenSource(r.cfg)); err != nil {
		return nil, err
	}
	if r.sandbox == nil {
		if err := r.resolveGroups(ctx); err != nil {
			return nil, err
		}
	}
	ok = true
	return r, nil
}

// prepareDirs checks that the local destination and the state directory are writable,
// so that a wrong --out fails at once with a clear message.
func (r *Runner) prepareDirs() error {
	if local, ok := localPath(r.cfg.Destination); ok {
		// the Parquet output is the user's deliverable: usual directory mode
		if err := checkDirWritable(local, 0o755); err != nil {
			return fmt.Errorf("%w: output directory %s is not writable: %v", config.ErrInvalid, local, err)
		}
	}
	r.stateDir = r.cfg.StateDir
	if r.cfg.Embedded() && r.cfg.StateDir == config.Default().StateDir {
		// The embedded sandbox dies with the process: its jobs cannot be rejoined later,
		// so its state is throw-away.
		d, err := os.MkdirTemp("", "dpcetl-state-")
		if err != nil {
			return fmt.Errorf("state directory: %w", err)
		}
		r.stateDir, r.tmpState = d, true
	}
	// the state directory holds claims (PHI): downloads, quarantine, Arrow tables
	if err := checkDirWritable(r.stateDir, 0o700); err != nil {
		return fmt.Errorf("%w: state directory %s is not writable: %v", config.ErrInvalid, r.stateDir, err)
	}
	return nil
}

func localPath(dest string) (string, bool) {
	if !strings.Contains(dest, "://") {
		return dest, true
	}
	if p, ok := strings.CutPrefix(dest, "file://"); ok {
		return filepath.FromSlash(p), true
	}
	return "", false
}

// checkDirWritable creates dir (with mode, if it does not exist) and proves it writable.
func checkDirWritable(dir string, mode os.FileMode) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s: %v", pe.Path, pe.Err)
		}
		return err
	}
	f, err := os.CreateTemp(dir, ".dpcetl-write-check-")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func (r *Runner) startEmbedded(ctx context.Context) error {
	start := r.now()
	addr := r.cfg.SandboxAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	sopts := append([]dpctest.Option{dpctest.WithMinKeyBits(2048), dpctest.WithJobDuration(500 * time.Millisecond)}, r.opts.SandboxOptions...)
	srv, err := dpctest.Listen(addr, sopts...)
	if err != nil {
		return fmt.Errorf("%w: cannot start the embedded DPC sandbox on %s: %v (choose another address with --sandbox-addr, e.g. 127.0.0.1:0)",
			config.ErrInvalid, addr, err)
	}
	r.srv = srv
	po := r.opts.Provision
	if po.KeyBits == 0 && po.Key == nil {
		po.KeyBits = 2048
	}
	if po.Patients == 0 {
		po.Patients = DemoPatients
	}
	if po.HTTPClient == nil {
		po.HTTPClient = &http.Client{Transport: r.opts.Transport, Timeout: time.Minute}
	}
	sb, err := dpc.ProvisionSandbox(ctx, srv.URL, po)
	if err != nil {
		return fmt.Errorf("provision the embedded sandbox: %w", err)
	}
	r.sandbox = sb
	r.creds = sb.Credentials
	r.groups = append([]string(nil), sb.GroupIDs...)
	r.provSecs = r.now().Sub(start).Seconds()
	r.log.Info("embedded DPC sandbox ready", "url", srv.BaseURL(), "groups", len(sb.GroupIDs), "patients", len(sb.MBIs))
	if r.opts.OnSandboxStart != nil {
		r.opts.OnSandboxStart(srv, sb)
	}
	return nil
}

// ResolveCredentials reads the secrets the config points at. Errors never contain them.
func ResolveCredentials(c config.Config, getenv func(string) string) (auth.Credentials, error) {
	cr := c.Credentials
	creds := auth.Credentials{BaseURL: c.BaseURL(), KeyID: cr.KeyID}
	switch {
	case cr.ClientTokenFile != "":
		b, err := os.ReadFile(ExpandHome(cr.ClientTokenFile))
		if err != nil {
			return creds, fmt.Errorf("%w: credentials.client_token_file: %v", config.ErrInvalid, err)
		}
		creds.ClientToken = strings.TrimSpace(string(b))
	case cr.ClientTokenEnv != "":
		creds.ClientToken = strings.TrimSpace(getenv(cr.ClientTokenEnv))
	}
	if creds.ClientToken == "" {
		return creds, fmt.Errorf("%w: credentials: the client token is empty (client_token_file or the variable named by client_token_env)", config.ErrInvalid)
	}
	if cr.KeyIDEnv != "" && creds.KeyID == "" {
		creds.KeyID = strings.TrimSpace(getenv(cr.KeyIDEnv))
	}
	if creds.KeyID == "" {
		return creds, fmt.Errorf("%w: credentials: key id is empty (key_id or the variable named by key_id_env)", config.ErrInvalid)
	}
	var err error
	if cr.PrivateKeyFile != "" {
		creds.PrivateKey, err = auth.LoadPrivateKeyFile(ExpandHome(cr.PrivateKeyFile))
	} else {
		creds.PrivateKey, err = auth.LoadPrivateKeyEnv(cr.PrivateKeyEnv, getenv)
	}
	if err != nil {
		return creds, fmt.Errorf("%w: credentials: %v", config.ErrInvalid, err)
	}
	return creds, nil
}

func (r *Runner) resolveGroups(ctx context.Context) error {
	g := r.cfg.Groups
	for _, id := range g.IDs {
		if err := extract.CheckName("group id", id); err != nil {
			return fmt.Errorf("%w: groups.ids: %v", config.ErrInvalid, err)
		}
	}
	r.groups = append(r.groups, g.IDs...)
	if err := r.lookupGroups(ctx); err != nil {
		return err
	}
	// Group ids from the server become paths (state, quarantine, staging): one safe element each.
	for _, id := range r.groups[len(g.IDs):] {
		if err := extract.CheckName("group id", id); err != nil {
			return fmt.Errorf("list groups: %w (%w)", err, extract.ErrRetryable)
		}
	}
	return nil
}

// lookupGroups adds the groups the config names by NPI or as all of them.
func (r *Runner) lookupGroups(ctx context.Context) error {
	g := r.cfg.Groups
	if len(g.NPIs) == 0 && !g.All {
		return nil
	}
	c := dpc.New(r.creds.BaseURL, r.hc, dpc.WithRetry(r.retryPolicy()), dpc.WithLimiter(r.limiter()))
	if g.All {
		all, err := c.AllGroups(ctx)
		if err != nil {
			return fmt.Errorf("list groups: %w", err)
		}
		for _, gr := range all {
			r.groups = append(r.groups, gr.ID)
		}
		return nil
	}
	for _, npi := range g.NPIs {
		gs, err := c.FindGroupsByNPI(ctx, npi)
		if err != nil {
			return fmt.Errorf("find groups of NPI %s: %w", npi, err)
		}
		if len(gs) == 0 {
			return fmt.Errorf("%w: groups.npis: no attribution group for NPI %s", config.ErrInvalid, npi)
		}
		for _, gr := range gs {
			r.groups = append(r.groups, gr.ID)
		}
	}
	return nil
}

// Groups returns the resolved group ids.
func (r *Runner) Groups() []string { return append([]string(nil), r.groups...) }

// Sandbox returns the embedded sandbox and what was provisioned on it (nil when not embedded).
func (r *Runner) Sandbox() (*dpctest.Server, *dpc.Sandbox) { return r.srv, r.sandbox }

// Close stops the embedded sandbox, closes the sink and removes throw-away state.
func (r *Runner) Close() error {
	if r.srv != nil {
		r.srv.Close()
	}
	if r.sink != nil {
		r.sink.Close()
	}
	if r.tmpState {
		os.RemoveAll(r.stateDir)
	}
	return nil
}

// ExpandHome turns a leading "~/" into the user's home directory.
func ExpandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, rest)
		}
	}
	return p
}
