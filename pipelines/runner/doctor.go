package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/smartauth"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/pipelines/config"
)

// Check is one doctor finding; a failed check says how to fix it.
type Check struct {
	Name   string
	OK     bool
	Detail string
	Fix    string
}

// MaxClockSkew is the largest clock difference doctor accepts: DPC refuses assertions
// whose exp is more than 5 minutes ahead of its own clock.
const MaxClockSkew = 30 * time.Second

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Doctor checks that a configuration can run: the destination (a probe object written, read
// back and deleted), key file permissions, key id and client
// token shape, reachability, clock skew against the server's Date header,
// /Token/validate, a real token exchange and one authenticated call. It returns every check it could make and an
// error (classified for the exit code) when one failed.
func Doctor(ctx context.Context, o Options) ([]Check, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	var checks []Check
	var firstErr error
	fail := func(c Check, err error) {
		checks = append(checks, c)
		if firstErr == nil {
			firstErr = fmt.Errorf("doctor: %s: %s: %w", c.Name, c.Detail, err)
		}
	}
	report := func(c Check, err error) {
		if c.OK = err == nil; c.OK {
			checks = append(checks, c)
		} else {
			fail(c, err)
		}
	}
	cfg := o.Config.Resolved()
	// The destination first: it is independent of DPC and fails in seconds.
	report(checkDestination(ctx, cfg.Destination))
	if !cfg.IsDPC() {
		doctorOAuth(ctx, o, cfg, report)
		return checks, firstErr
	}
	var creds auth.Credentials
	if cfg.Embedded() {
		r, err := New(ctx, o)
		if err != nil {
			fail(Check{Name: "embedded sandbox", Detail: err.Error(), Fix: "choose another --sandbox-addr, e.g. 127.0.0.1:0"}, err)
			return checks, firstErr
		}
		defer r.Close()
		checks = append(checks, Check{Name: "embedded sandbox", OK: true, Detail: "started and provisioned at " + r.creds.BaseURL})
		creds = r.creds
	} else {
		checkKeyFile(cfg, report)
		var err error
		creds, err = ResolveCredentials(cfg, o.Getenv)
		if err != nil {
			fail(Check{Name: "credentials", Detail: err.Error(), Fix: "set the credentials keys in the config (files or environment variable names)"}, err)
			return checks, firstErr
		}
		if o.Redactor != nil {
			o.Redactor.Add(creds.ClientToken)
		}
		if creds.PrivateKey.N.BitLen() < 4096 {
			checks = append(checks, Check{Name: "private key size", OK: true, Detail: fmt.Sprintf("%d bits (DPC requires 4096; fine only for a local sandbox)", creds.PrivateKey.N.BitLen())})
		} else {
			checks = append(checks, Check{Name: "private key size", OK: true, Detail: fmt.Sprintf("%d bits", creds.PrivateKey.N.BitLen())})
		}
	}
	if uuidRe.MatchString(creds.KeyID) {
		checks = append(checks, Check{Name: "key id", OK: true, Detail: creds.KeyID})
	} else {
		fail(Check{Name: "key id", Detail: fmt.Sprintf("%q is not a UUID", creds.KeyID), Fix: "use the id DPC returned when you uploaded the public key (dpcetl keys list)"}, config.ErrInvalid)
	}
	if d, ok := clientTokenShape(creds.ClientToken); ok {
		// DPC would still issue access tokens for an expired client token and then refuse
		// every call: read its expires caveat and say so here.
		ct, perr := auth.ParseClientToken(creds.ClientToken)
		switch {
		case perr != nil:
			fail(Check{Name: "client token", Detail: perr.Error(), Fix: "copy the whole client token from the DPC portal (it starts with W3sid…) into the token file, with nothing else"}, config.ErrInvalid)
		case !ct.Expires.IsZero() && !o.Now().Before(ct.Expires):
			fail(Check{Name: "client token", Detail: fmt.Sprintf("client token %s (%s) expired at %s", ct.Name(), tokenSource(cfg), ct.Expires.UTC().Format(time.RFC3339)),
				Fix: "create a new client token (DPC portal, or dpcetl tokens create) and point the config at it"}, extract.ErrAuth)
		default:
			if !ct.Expires.IsZero() {
				d += fmt.Sprintf(", id %s, expires %s", ct.Name(), ct.Expires.UTC().Format("2006-01-02"))
			}
			checks = append(checks, Check{Name: "client token", OK: true, Detail: d})
		}
	} else {
		fail(Check{Name: "client token", Detail: d, Fix: "copy the whole client token from the DPC portal (it starts with W3sid…) into the token file, with nothing else"}, config.ErrInvalid)
	}

	// Reachability and clock skew from the server's Date header.
	hc := &http.Client{Transport: o.Transport, Timeout: 30 * time.Second}
	if _, ok := reach(ctx, hc, creds.BaseURL+"/Token/validate", o.Now, report); !ok {
		return checks, firstErr
	}

	// /Token/validate checks the assertion's claims (not its signature).
	jwt, err := auth.NewAssertion(creds, o.Now())
	if err != nil {
		fail(Check{Name: "client assertion", Detail: err.Error(), Fix: "check the private key"}, config.ErrInvalid)
		return checks, firstErr
	}
	if o.Redactor != nil {
		o.Redactor.Add(jwt)
	}
	if err := dpc.New(creds.BaseURL, hc).ValidateToken(ctx, jwt); err != nil {
		fail(Check{Name: "/Token/validate", Detail: err.Error(), Fix: "the assertion's claims were refused: check the client token and the clock"}, authOr(err))
	} else {
		checks = append(checks, Check{Name: "/Token/validate", OK: true, Detail: "claims accepted"})
	}

	// A real token exchange proves the key id, the signature and the client token together.
	ts := auth.NewTokenSource(creds, auth.WithClock(o.Now), auth.WithHTTPClient(hc))
	if tok, err := ts.Token(ctx); err != nil {
		fail(Check{Name: "token exchange", Detail: err.Error(),
			Fix: "DPC refused the credentials: the key id must be the id of the uploaded PUBLIC half of this private key, and the client token must be current (dpcetl keys list, dpcetl tokens list)"}, authOr(err))
	} else {
		if o.Redactor != nil {
			o.Redactor.Add(tok)
		}
		checks = append(checks, Check{Name: "token exchange", OK: true, Detail: "got an access token"})
		// DPC issues access tokens for revoked and expired client tokens alike (it only reads
		// organization_id at /Token/auth): only an authenticated call proves the token works.
		api := &http.Client{Transport: ts.Transport(o.Transport), Timeout: 30 * time.Second}
		if err := CheckAccess(ctx, api, creds, tokenSource(cfg)); err != nil {
			sentinel := extract.ErrAuth // the detail already says why
			if errors.Is(err, extract.ErrRetryable) {
				sentinel = extract.ErrRetryable
			}
			fail(Check{Name: "authenticated call", Detail: err.Error(),
				Fix: "the client token is revoked or expired: create a new one (DPC portal, or dpcetl tokens create) and point the config at it"}, sentinel)
		} else {
			checks = append(checks, Check{Name: "authenticated call", OK: true, Detail: "GET /Organization accepted the access token"})
		}
	}
	return checks, firstErr
}

// checkKeyFile checks that the private key file exists and only its owner may read it.
func checkKeyFile(cfg config.Config, report func(Check, error)) {
	p := cfg.Credentials.PrivateKeyFile
	if p == "" {
		return
	}
	fi, err := os.Stat(ExpandHome(p))
	switch {
	case err != nil:
		report(Check{Name: "private key file", Detail: err.Error(), Fix: "point credentials.private_key_file at the PEM file of the key whose public half you registered"}, config.ErrInvalid)
	case fi.Mode().Perm()&0o077 != 0:
		report(Check{Name: "private key file", Detail: fmt.Sprintf("%s has mode %04o: other users can read the key", p, fi.Mode().Perm()),
			Fix: "chmod 600 " + p}, config.ErrInvalid)
	default:
		report(Check{Name: "private key file", Detail: fmt.Sprintf("%s, mode %04o", p, fi.Mode().Perm())}, nil)
	}
}

// reach GETs u without credentials and reports reachability and the clock skew from the
// answer's Date header. It returns the body (up to 1 MiB) and whether the server answered.
func reach(ctx context.Context, hc *http.Client, u string, now func() time.Time, report func(Check, error)) ([]byte, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		report(Check{Name: "reachability", Detail: err.Error(), Fix: "check the api URL"}, config.ErrInvalid)
		return nil, false
	}
	req.Header.Set("Accept", "application/fhir+json")
	t0 := now()
	resp, err := hc.Do(req)
	if err != nil {
		report(Check{Name: "reachability", Detail: err.Error(), Fix: "check the api URL, DNS, proxy (HTTPS_PROXY) and firewall"}, fmt.Errorf("%w: %w", err, extract.ErrRetryable))
		return nil, false
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	rtt := now().Sub(t0)
	report(Check{Name: "reachability", Detail: fmt.Sprintf("%s answered HTTP %d in %s", u, resp.StatusCode, rtt.Round(time.Millisecond))}, nil)
	d, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		report(Check{Name: "clock skew", Detail: "server sent no Date header; not measured"}, nil)
		return body, true
	}
	skew := d.Sub(t0.Add(rtt / 2)).Round(time.Second)
	if skew > MaxClockSkew || skew < -MaxClockSkew {
		report(Check{Name: "clock skew", Detail: fmt.Sprintf("the server's clock is %s away from ours", skew),
			Fix: "synchronise this machine's clock (chrony/ntpd/systemd-timesyncd); servers reject assertions that expire more than 5 minutes ahead"}, config.ErrInvalid)
	} else {
		report(Check{Name: "clock skew", Detail: skew.String()}, nil)
	}
	return body, true
}

// doctorOAuth checks a BCDA, AB2D or SMART source: the key file, the credentials, the FHIR
// server's /metadata (reachable, clock skew, its FHIR version against fhir_version), a real
// token fetch and, for SMART, that the granted scopes cover resource_types. DPC's own checks
// (client-token shape, /Token/validate, GET /Organization) do not apply. Whether the export
// endpoint is authorised is not checked: only a kick-off proves it, and that starts a job.
func doctorOAuth(ctx context.Context, o Options, cfg config.Config, report func(Check, error)) {
	sc := o.OAuth
	if sc == nil {
		checkKeyFile(cfg, report)
		c, err := ResolveOAuth(cfg, o.Getenv)
		if err != nil {
			report(Check{Name: "credentials", Detail: err.Error(), Fix: "set the credentials keys of source " + cfg.Source + " (files or environment variable names)"}, err)
			return
		}
		sc = &c
	}
	report(Check{Name: "credentials", Detail: fmt.Sprintf("source %s, client id %s", cfg.Source, sc.ClientID)}, nil)
	hc := &http.Client{Transport: o.Transport, Timeout: 30 * time.Second}
	body, ok := reach(ctx, hc, strings.TrimRight(sc.FHIRBaseURL, "/")+"/metadata", o.Now, report)
	if !ok {
		return
	}
	var cs struct {
		ResourceType, FHIRVersion string
	}
	switch json.Unmarshal(body, &cs); {
	case cs.ResourceType != "CapabilityStatement":
		report(Check{Name: "metadata", Detail: "GET /metadata did not answer a CapabilityStatement", Fix: "check that api is the server's FHIR base URL"}, config.ErrInvalid)
	case strings.EqualFold(cfg.FHIRVersion, "auto") || strings.HasPrefix(cs.FHIRVersion, map[bool]string{true: "3.", false: "4."}[strings.EqualFold(cfg.FHIRVersion, "STU3")]):
		report(Check{Name: "metadata", Detail: "FHIR " + cs.FHIRVersion}, nil)
	default:
		report(Check{Name: "metadata", Detail: fmt.Sprintf("the server speaks FHIR %s, fhir_version is %s", cs.FHIRVersion, cfg.FHIRVersion),
			Fix: "set fhir_version to match the server (STU3 for 3.x, R4 for 4.x) or auto"}, config.ErrInvalid)
	}
	ts, err := smartauth.NewTokenSource(*sc, smartauth.WithClock(o.Now), smartauth.WithHTTPClient(hc), smartauth.WithRedactor(func(s ...string) {
		if o.Redactor != nil {
			o.Redactor.Add(s...)
		}
	}))
	if err != nil {
		report(Check{Name: "token exchange", Detail: err.Error(), Fix: "check the credentials keys"}, config.ErrInvalid)
		return
	}
	if _, err := ts.Token(ctx); err != nil {
		report(Check{Name: "token exchange", Detail: err.Error(),
			Fix: "the token endpoint refused the client: check client_id and the secret (BCDA, AB2D) or the key and kid registered with the server (SMART), and token_url"}, authOr(err))
		return
	}
	u, _ := ts.TokenURL(ctx)
	report(Check{Name: "token exchange", Detail: fmt.Sprintf("got an access token from %s (scope %q)", u, ts.GrantedScope())}, nil)
	if cfg.Source != config.SourceSMART || ts.GrantedScope() == "" {
		return
	}
	for _, t := range cfg.ResourceTypes {
		if !scopeAllows(ts.GrantedScope(), t) {
			report(Check{Name: "scopes", Detail: fmt.Sprintf("the granted scope %q does not let this client read %s", ts.GrantedScope(), t),
				Fix: "ask for it in credentials.scopes (e.g. system/*.read), have the server grant it, or drop it from resource_types"}, extract.ErrAuth)
			return
		}
	}
	report(Check{Name: "scopes", Detail: "the granted scope covers " + strings.Join(cfg.ResourceTypes, ", ")}, nil)
}

// scopeAllows reports whether a SMART scope string (v1 system/Type.read or v2 system/Type.rs)
// lets a client read resources of type t.
func scopeAllows(scope, t string) bool {
	for _, sc := range strings.Fields(scope) {
		typ, perm, ok := strings.Cut(strings.TrimPrefix(sc, "system/"), ".")
		if ok && strings.HasPrefix(sc, "system/") && (typ == "*" || typ == t) && (perm == "read" || perm == "*" || (strings.Contains(perm, "r") && !strings.Contains(perm, "write"))) {
			return true
		}
	}
	return false
}

// ProbeTimeout bounds the destination preflight; a store that has not answered by then is
// reported as unavailable (retryable).
const ProbeTimeout = time.Minute

// probeDestination proves a sink usable (credentials, bucket, region, put/get/delete) before
// any export starts, so a wrong destination fails in seconds rather than after the export.
func probeDestination(ctx context.Context, s sink.Sink) error {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	err := s.Probe(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sink.ErrAccessDenied), errors.Is(err, sink.ErrMisconfigured), errors.Is(err, sink.ErrUnavailable),
		errors.Is(err, os.ErrPermission), ctx.Err() != nil:
		return fmt.Errorf("destination check failed: %w", err)
	}
	// Whatever else refuses a tiny put/get/delete (an SSE or KMS setting the bucket rejects, a
	// file where a directory should be) is the configuration's to fix, not a bug.
	return fmt.Errorf("%w: destination check failed: %w", config.ErrInvalid, err)
}

// Preflight checks the destination: Run calls it before any group starts.
func (r *Runner) Preflight(ctx context.Context) error { return probeDestination(ctx, r.sink) }

func checkDestination(ctx context.Context, dest string) (Check, error) {
	c := Check{Name: "destination"}
	start := time.Now()
	s, err := sink.Open(ctx, dest)
	if err == nil {
		defer s.Close()
		err = probeDestination(ctx, s)
	} else if !errors.Is(err, sink.ErrMisconfigured) {
		err = fmt.Errorf("%w: destination %s: %w", config.ErrInvalid, dest, err)
	}
	if err == nil {
		c.OK = true
		c.Detail = fmt.Sprintf("%s: probe object written, read back and deleted in %s", dest, time.Since(start).Round(time.Millisecond))
		return c, nil
	}
	c.Detail = err.Error()
	switch {
	case errors.Is(err, sink.ErrAccessDenied):
		c.Fix = "the store refused the credentials: check the AWS access key and secret (or profile/role) and that they may s3:PutObject, s3:GetObject, s3:DeleteObject and s3:ListBucket on the bucket and prefix"
	case errors.Is(err, sink.ErrMisconfigured):
		c.Fix = "check the bucket name and that it exists, its region (region= in the destination URL, or AWS_REGION), AWS_PROFILE, and that AWS credentials are available"
	case errors.Is(err, sink.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		c.Fix = "the store did not answer: check the endpoint, DNS, proxy and network, or retry later"
	case errors.Is(err, os.ErrPermission):
		c.Fix = "make the output directory writable by this user, or choose another --out"
	default:
		c.Fix = "check the destination URL (file path, file:///abs/dir or s3://bucket/prefix?region=…) and its options"
	}
	return c, err
}

// CheckAccess makes one authenticated call (GET /Organization) with hc, whose transport
// adds the bearer. A 401 there means DPC issued an access token for a client token it no
// longer honours (revoked or expired): the error names the token by id and where it came
// from (source), never by value, and wraps extract.ErrAuth.
func CheckAccess(ctx context.Context, hc *http.Client, creds auth.Credentials, source string) error {
	_, err := dpc.New(creds.BaseURL, hc).Organization(ctx)
	if err == nil {
		return nil
	}
	var ae *dpc.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		name := "(unreadable)"
		if ct, perr := auth.ParseClientToken(creds.ClientToken); perr == nil {
			name = ct.Name()
		}
		if source != "" {
			name += " (" + source + ")"
		}
		return fmt.Errorf("client token %s: DPC issued an access token but refused it on GET /Organization (401): the client token is revoked or expired: %w",
			name, extract.ErrAuth)
	}
	return fmt.Errorf("authenticated call GET /Organization: %w", err)
}

// tokenSource says where the config takes the client token from, for messages.
func tokenSource(cfg config.Config) string {
	switch {
	case cfg.Embedded():
		return "embedded sandbox"
	case cfg.Credentials.ClientTokenFile != "":
		return "credentials.client_token_file " + cfg.Credentials.ClientTokenFile
	case cfg.Credentials.ClientTokenEnv != "":
		return "credentials.client_token_env " + cfg.Credentials.ClientTokenEnv
	}
	return ""
}

func authOr(err error) error {
	if errors.Is(err, extract.ErrRetryable) || errors.Is(err, extract.ErrAuth) {
		return err
	}
	return fmt.Errorf("%w: %w", err, extract.ErrAuth)
}

// clientTokenShape checks that a client token looks like DPC's: base64 of a JSON array of macaroons.
func clientTokenShape(tok string) (string, bool) {
	if tok == "" {
		return "empty", false
	}
	if strings.ContainsAny(tok, " \n\t\"") {
		return "contains spaces, quotes or line breaks", false
	}
	var b []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.StdEncoding, base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err = enc.DecodeString(tok); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Sprintf("not base64 (%d characters)", len(tok)), false
	}
	var arr []json.RawMessage
	if json.Unmarshal(b, &arr) != nil || len(arr) == 0 {
		return "does not decode to a macaroon list", false
	}
	return fmt.Sprintf("macaroon, %d characters", len(tok)), true
}
