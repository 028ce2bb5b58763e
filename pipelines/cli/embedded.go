package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/sandbox"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// withEmbedded starts the in-process sandbox when the config asks for it (api: embedded) and
// hands its credentials and groups to the runner. The sandbox lives only at this edge:
// pipelines/runner never knows it is talking to one. The returned stop is never nil.
func withEmbedded(ctx context.Context, cfg config.Config, log *slog.Logger, o *runner.Options) (stop func(), err error) {
	if !cfg.Embedded() {
		return func() {}, nil
	}
	d, err := dpctest.ParseDialect(cfg.Resolved().Source)
	if err != nil {
		return func() {}, fmt.Errorf("%w: source: %v", config.ErrInvalid, err)
	}
	e, err := sandbox.Start(ctx, sandbox.EmbeddedOptions{Addr: cfg.SandboxAddr, Dialect: d})
	if errors.Is(err, sandbox.ErrListen) {
		return func() {}, fmt.Errorf("%w: %v (choose another address with --sandbox-addr, e.g. 127.0.0.1:0)", config.ErrInvalid, err)
	}
	if err != nil {
		return func() {}, err
	}
	log.Info("embedded sandbox ready", "dialect", d.String(), "url", e.Server.DialectBaseURL(), "groups", len(e.Groups), "patients", e.Patients)
	o.OAuth, o.Groups, o.ProvisionSeconds = e.OAuth, e.Groups, e.Seconds
	if e.Sandbox != nil {
		o.Credentials = e.Credentials
	}
	return e.Close, nil
}
