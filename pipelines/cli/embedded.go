package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

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
	e, err := sandbox.Start(ctx, sandbox.EmbeddedOptions{Addr: cfg.SandboxAddr})
	if errors.Is(err, sandbox.ErrListen) {
		return func() {}, fmt.Errorf("%w: %v (choose another address with --sandbox-addr, e.g. 127.0.0.1:0)", config.ErrInvalid, err)
	}
	if err != nil {
		return func() {}, err
	}
	log.Info("embedded DPC sandbox ready", "url", e.Server.BaseURL(), "groups", len(e.GroupIDs), "patients", len(e.MBIs))
	o.Credentials, o.Groups, o.ProvisionSeconds = e.Credentials, e.GroupIDs, e.Seconds
	return e.Close, nil
}
