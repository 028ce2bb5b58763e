package runner

import (
	"cmp"
	"context"
	"crypto"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/smartauth"
	"github.com/dpcetl/dpcetl/pipelines/config"
)

// connectOAuth builds the token source of a BCDA, AB2D or SMART server (the client given
// in Options, or the one the config points at), proves it with one token fetch so that
// refused credentials fail before any export (exit 4), and picks what to export.
func (r *Runner) connectOAuth(ctx context.Context) error {
	o := r.opts
	sc := o.OAuth
	if sc == nil {
		if r.cfg.Embedded() {
			return fmt.Errorf("%w: api: embedded needs the sandbox started first (dpcetl run --sandbox --source %s)", config.ErrInvalid, r.cfg.Source)
		}
		c, err := ResolveOAuth(r.cfg, o.Getenv)
		if err != nil {
			return err
		}
		sc = &c
	}
	ts, err := smartauth.NewTokenSource(*sc, smartauth.WithClock(r.now), smartauth.WithProgress(o.Progress),
		smartauth.WithHTTPClient(&http.Client{Transport: o.Transport, Timeout: time.Minute}),
		smartauth.WithRedactor(r.red.Add), smartauth.WithExtraHosts(r.cfg.BearerHosts...), smartauth.WithRetry(r.retryPolicy()))
	if err != nil {
		return fmt.Errorf("%w: credentials: %v", config.ErrInvalid, err)
	}
	r.creds = auth.Credentials{BaseURL: strings.TrimRight(sc.FHIRBaseURL, "/")}
	r.hc = &http.Client{Transport: ts.Transport(o.Transport)}
	if _, err := ts.Token(ctx); err != nil {
		return fmt.Errorf("%s access token: %w", r.cfg.Source, err)
	}
	switch {
	case len(o.Groups) > 0:
		r.groups = append([]string(nil), o.Groups...)
	case r.cfg.Level() == config.LevelGroup:
		r.groups = append([]string(nil), r.cfg.Groups.IDs...)
	default:
		// Patient and system exports have no group: their state, watermark and partition
		// go by the level's own key, which no FHIR id can take.
		r.groups = []string{export.StateKey(export.Request{Level: export.Level(r.cfg.Level())})}
	}
	return nil
}

// exportRequest is what a group's kick-off asks for: DPC's Group $export with _type, or,
// for the other sources, the configured level and Bulk Data parameters.
func (r *Runner) exportRequest(group string) export.Request {
	req := export.Request{GroupID: group, Types: r.cfg.ResourceTypes}
	if r.cfg.IsDPC() {
		return req
	}
	e := r.cfg.Export
	req.TypeFilter, req.Elements, req.IncludeAssociatedData = e.TypeFilter, e.Elements, e.IncludeAssociatedData
	for _, l := range []export.Level{export.LevelPatient, export.LevelSystem} {
		if group == export.StateKey(export.Request{Level: l}) {
			req.Level, req.GroupID = l, ""
		}
	}
	return req
}

// ResolveOAuth reads the secrets a BCDA, AB2D or SMART config points at into a
// smartauth.Config. Errors name the key and never contain a secret.
func ResolveOAuth(c config.Config, getenv func(string) string) (smartauth.Config, error) {
	cr, base := c.Credentials, c.BaseURL()
	bad := func(key string, err error) (smartauth.Config, error) {
		return smartauth.Config{}, fmt.Errorf("%w: credentials.%s: %v", config.ErrInvalid, key, err)
	}
	if c.Source == config.SourceSMART {
		var pemBytes []byte
		var err error
		if cr.PrivateKeyFile != "" {
			pemBytes, err = auth.ReadKeyFile(ExpandHome(cr.PrivateKeyFile))
		} else if pemBytes = []byte(strings.ReplaceAll(getenv(cr.PrivateKeyEnv), `\n`, "\n")); len(pemBytes) == 0 {
			err = fmt.Errorf("environment variable %s is empty", cr.PrivateKeyEnv)
		}
		if err != nil {
			return bad("private_key_file", err)
		}
		var key crypto.Signer
		if key, err = smartauth.ParsePrivateKey(pemBytes); err != nil {
			return bad("private_key_file", err)
		}
		kid := cr.KeyID
		if kid == "" {
			kid = strings.TrimSpace(getenv(cr.KeyIDEnv))
		}
		if kid == "" {
			return bad("key_id", fmt.Errorf("empty (key_id or the variable named by key_id_env)"))
		}
		sc := smartauth.SMART(base, cr.ClientID, kid, key, cr.Scopes...)
		sc.TokenURL, sc.Alg = cr.TokenURL, cr.Alg
		return sc, nil
	}
	secret := strings.TrimSpace(getenv(cr.ClientSecretEnv))
	if cr.ClientSecretFile != "" {
		b, err := os.ReadFile(ExpandHome(cr.ClientSecretFile))
		if err != nil {
			return bad("client_secret_file", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret == "" {
		return bad("client_secret_file", fmt.Errorf("the client secret is empty (client_secret_file or the variable named by client_secret_env)"))
	}
	sc := smartauth.AB2D(base, cr.TokenURL, cr.ClientID, secret)
	if c.Source == config.SourceBCDA {
		sc = smartauth.BCDA(base, cr.ClientID, secret)
		sc.TokenURL = cmp.Or(cr.TokenURL, sc.TokenURL)
	}
	if len(cr.Scopes) > 0 {
		sc.Scopes = cr.Scopes
	}
	return sc, nil
}
