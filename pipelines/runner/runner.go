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
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/extract/smartauth"
	"github.com/dpcetl/dpcetl/load"
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

	// Credentials, when they hold a client token, are used as given instead of those the
	// config points at (the embedded sandbox hands over what it provisioned).
	Credentials auth.Credentials
	// OAuth, when set, is the BCDA, AB2D or SMART client to use instead of the one the
	// config points at (the embedded sandbox of that dialect hands over its client).
	OAuth *smartauth.Config
	// Groups, when not empty, are the group ids to export instead of the config's selection.
	Groups []string
	// ProvisionSeconds is time spent before New (starting a sandbox), reported as a stage.
	ProvisionSeconds float64
}

// Runner runs the pipeline stages for the configured groups.
type Runner struct {
	opts     Options
	cfg      config.Config
	log      *slog.Logger
	now      func() time.Time
	red      *logging.Redactor
	creds    auth.Credentials // BaseURL is the API (FHIR base) of any source
	hc       *http.Client     // carries the bearer for the API host
	sink     sink.Sink
	stateDir string
	tmpState bool
	groups   []string
	provSecs float64
	budget   *load.Budget  // one memory budget for every group's load run
	prevGC   int64         // Go's soft memory limit before New set it (restored by Close; -1: untouched)
	slots    chan struct{} // one per source being transformed, across every group

	limOnce sync.Once
	lim     *retry.Limiter

	locks atomic.Pointer[heldLocks] // held while a stage runs (lock.go)
}

// New resolves credentials (those given in Options, or those the config points at), opens
// the destination sink and resolves the groups. Every failure names what to fix.
func New(ctx context.Context, o Options) (*Runner, error) {
	r := newRunner(o)
	ok := false
	defer func() {
		if !ok {
			r.Close()
		}
	}()
	if err := r.prepareDirs(); err != nil {
		return nil, err
	}
	var err error
	if r.sink, err = sink.Open(ctx, r.cfg.Destination, sink.WithS3Options(r.useBudget())); err != nil {
		return nil, fmt.Errorf("%w: destination %s: %v", config.ErrInvalid, r.cfg.Destination, err)
	}
	if err := r.connect(ctx); err != nil {
		return nil, err
	}
	ok = true
	return r, nil
}

// useBudget splits memory_limit: a quarter is the budget of every load run (queued batches,
// row groups and S3 part buffers of every group's tables, counted at what they cost: see
// load.Budget); the rest is left to transform workers, compressors, Parquet footers,
// downloads and the GC's garbage. A table flushes its row group at an eighth of the budget,
// sooner when a Write waits for memory. Go's soft memory limit is 7/8 of memory_limit (the
// process's RSS also holds the binary's pages), unless GOMEMLIMIT says otherwise: the GC
// collects harder before the process grows past it (at a CPU cost, see bench/results.md).
// It returns S3 options whose part buffers fit: 5-16 MiB parts, 2 in flight.
func (r *Runner) useBudget() sink.S3Options {
	limit := int64(max(r.cfg.MemoryLimit, 16)) << 20
	r.budget = load.NewBudget(limit/4, 8)
	if r.opts.Getenv("GOMEMLIMIT") == "" {
		// Process-wide: Close puts the previous limit back, so a library user's (or a test
		// binary's) other work is not collected under this run's limit afterwards.
		r.prevGC = debug.SetMemoryLimit(limit - limit/8)
	}
	return sink.S3Options{PartSize: min(max(limit/32, sink.MinPartSize), sink.DefaultPartSize), Concurrency: 2}
}

// newRunner fills the defaults of o.
func newRunner(o Options) *Runner {
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
	// More sources in flight than cores only adds builders' memory, not speed.
	slots := make(chan struct{}, max(1, min(o.Config.Concurrency, runtime.GOMAXPROCS(0))))
	return &Runner{opts: o, cfg: o.Config.Resolved(), log: o.Logger, now: o.Now, red: o.Redactor, provSecs: o.ProvisionSeconds, slots: slots, prevGC: -1}
}

// connect takes the credentials (given, or those the config points at), builds the
// authenticated client and resolves the groups.
func (r *Runner) connect(ctx context.Context) error {
	o := r.opts
	if !r.cfg.IsDPC() {
		return r.connectOAuth(ctx)
	}
	switch {
	case o.Credentials.ClientToken != "":
		r.creds = o.Credentials
	case r.cfg.Embedded():
		return fmt.Errorf("%w: api: embedded needs the sandbox started first (dpcetl run --sandbox)", config.ErrInvalid)
	default:
		creds, err := ResolveCredentials(r.cfg, o.Getenv)
		if err != nil {
			return err
		}
		r.creds = creds
	}
	r.red.Add(r.creds.ClientToken)
	// Every access token goes to the redactor before it is used: a server may echo it.
	ts := auth.NewTokenSource(r.creds, auth.WithClock(r.now), auth.WithProgress(o.Progress),
		auth.WithHTTPClient(&http.Client{Transport: o.Transport, Timeout: time.Minute}),
		auth.WithRetry(r.retryPolicy()), auth.WithOnToken(func(t string) { r.red.Add(t) }), auth.WithExtraHosts(r.cfg.BearerHosts...))
	r.hc = &http.Client{Transport: ts.Transport(o.Transport)}
	// Fail fast (exit 4) on a revoked or expired client token, before any export starts.
	if err := CheckAccess(ctx, r.hc, r.creds, tokenSource(r.cfg)); err != nil {
		return err
	}
	if len(o.Groups) > 0 {
		r.groups = append([]string(nil), o.Groups...)
		return nil
	}
	return r.resolveGroups(ctx)
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

// Close closes the sink and removes throw-away state.
func (r *Runner) Close() error {
	if r.prevGC >= 0 {
		debug.SetMemoryLimit(r.prevGC)
		r.prevGC = -1
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

// Plan is what a run would do, worked out without changing anything.
type Plan struct {
	DryRun        bool           `json:"dry_run"`
	API           string         `json:"api"`
	Destination   string         `json:"destination"`
	ResourceTypes []string       `json:"resource_types"`
	Since         string         `json:"since"`
	Groups        []PlannedGroup `json:"groups"`
}

// PlannedGroup is one group of a Plan: its committed watermark, the _since its export would
// ask for, and the saved job a run would rejoin instead of starting a new one.
type PlannedGroup struct {
	Group       string `json:"group"`
	Watermark   string `json:"watermark,omitempty"`
	ExportSince string `json:"export_since,omitempty"`
	SavedJob    string `json:"saved_job,omitempty"`
}

// DryRun resolves credentials and groups (reading DPC), reads each group's watermark and saved
// job, and returns the plan. It creates no directory, starts no export and writes nothing.
func DryRun(ctx context.Context, o Options) (*Plan, error) {
	r := newRunner(o)
	defer r.Close()
	var err error
	r.stateDir = r.cfg.StateDir
	if local, ok := localPath(r.cfg.Destination); !ok || dirExists(local) {
		// A local destination that does not exist has no watermark; opening it would create it.
		if r.sink, err = sink.Open(ctx, r.cfg.Destination); err != nil {
			return nil, fmt.Errorf("%w: destination %s: %v", config.ErrInvalid, r.cfg.Destination, err)
		}
	}
	if err := r.connect(ctx); err != nil {
		return nil, err
	}
	p := &Plan{DryRun: true, API: r.creds.BaseURL, Destination: r.cfg.Destination, ResourceTypes: r.cfg.ResourceTypes, Since: r.cfg.Since}
	for _, g := range r.groups {
		pg := PlannedGroup{Group: g}
		if r.sink != nil {
			wm, err := ReadWatermark(ctx, r.sink, g)
			if err != nil {
				return nil, err
			}
			if wm != nil {
				pg.Watermark = wm.TransactionTime.Format(time.RFC3339Nano)
				if r.cfg.Since == "incremental" {
					pg.ExportSince = pg.Watermark
				}
			}
		}
		if t, ok := r.cfg.SinceInstant(); ok {
			pg.ExportSince = t.Format(time.RFC3339Nano)
		}
		if st, err := export.LoadState(r.jobsDir(), g); err == nil && st != nil {
			pg.SavedJob = export.JobID(st.JobURL)
		}
		p.Groups = append(p.Groups, pg)
	}
	return p, nil
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
