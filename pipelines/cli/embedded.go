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

// runnerOptions are the runner's options for cfg. When the config asks for the in-process
// sandbox (api: embedded) it is started here and its credentials and groups go to the runner:
// the sandbox lives only at this edge, pipelines/runner never knows it is talking to one.
// The returned stop is never nil.
func runnerOptions(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) (runner.Options, func(), error) {
	o := runner.Options{Config: cfg, Logger: log, Now: env.Now, Getenv: env.Getenv, Redactor: env.Redactor, Version: Version}
	if !cfg.Embedded() {
		return o, func() {}, nil
	}
	e, err := sandbox.Start(ctx, sandbox.EmbeddedOptions{Addr: cfg.SandboxAddr})
	if errors.Is(err, sandbox.ErrListen) {
		return o, func() {}, fmt.Errorf("%w: %v (choose another address with --sandbox-addr, e.g. 127.0.0.1:0)", config.ErrInvalid, err)
	}
	if err != nil {
		return o, func() {}, err
	}
	log.Info("embedded DPC sandbox ready", "url", e.Server.BaseURL(), "groups", len(e.GroupIDs), "patients", len(e.MBIs))
	o.Credentials, o.Groups, o.ProvisionSeconds = e.Credentials, e.GroupIDs, e.Seconds
	return o, e.Close, nil
}
