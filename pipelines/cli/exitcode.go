package cli

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/load/sink"
	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
	"github.com/dpcetl/dpcetl/schemas"
)

// Exit codes. Orchestrators retry the Retryable group (10-19) and page someone for the rest.
// exitCodeTable says what each means (`dpcetl help exit-codes`, pipelines/README.md).
const (
	ExitOK           = 0
	ExitInternal     = 1   // a bug or an unexpected failure
	ExitUsage        = 2   // unknown command or flag, bad argument
	ExitConfig       = 3   // invalid configuration, missing credential file, unwritable output or state
	ExitAuth         = 4   // DPC (or S3) refused the credentials: retrying does not help
	ExitBadData      = 5   // more lines quarantined than the thresholds allow
	ExitRejected     = 6   // DPC or dpcetl's own input checks rejected the request itself
	ExitRetryable    = 10  // a transient failure: retry later, the state directory lets the rerun resume
	ExitStillRunning = 11  // export status: the DPC job is still running (a sensor's "not yet")
	ExitInterrupted  = 130 // SIGINT/SIGTERM: in-flight output aborted, the rerun resumes
)

// ExitCode maps an error returned by a command to the process exit code.
// Order matters: the most specific classification wins.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *UsageError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, context.Canceled) || errors.Is(err, runner.ErrInterrupted):
		return ExitInterrupted
	case errors.Is(err, runner.ErrStillRunning):
		return ExitStillRunning
	case errors.Is(err, schemas.ErrUnknownDialect) || errors.Is(err, schemas.ErrUnknownTable) ||
		errors.Is(err, schemas.ErrMissingOption):
		return ExitUsage
	case errors.Is(err, config.ErrInvalid) || errors.Is(err, os.ErrPermission) || errors.Is(err, sink.ErrMisconfigured):
		return ExitConfig
	case errors.Is(err, extract.ErrAuth) || errors.Is(err, sink.ErrAccessDenied):
		return ExitAuth
	case errors.Is(err, runner.ErrBadData):
		return ExitBadData
	case errors.Is(err, dpc.ErrInvalid) || errors.Is(err, dpc.ErrNotFound) ||
		errors.Is(err, export.ErrBadRequest) || errors.Is(err, export.ErrUnsupportedFormat):
		return ExitRejected
	case errors.Is(err, extract.ErrRetryable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sink.ErrUnavailable):
		return ExitRetryable
	}
	// Only real network failures are retryable: syscall.Errno also satisfies net.Error,
	// and a missing local file must not be retried forever by an orchestrator.
	var oe *net.OpError
	var ue2 *url.Error
	var de *net.DNSError
	if errors.As(err, &oe) || errors.As(err, &ue2) || errors.As(err, &de) {
		return ExitRetryable
	}
	return ExitInternal
}

// exitCodeTable is printed by `dpcetl help exit-codes` and kept in step with the README.
var exitCodeTable = []struct {
	Code       int
	Name, Kind string
	Meaning    string
}{
	{ExitOK, "ok", "success", "the command did everything it was asked"},
	{ExitInternal, "internal", "fatal", "unexpected failure (a bug): keep the log and report it"},
	{ExitUsage, "usage", "fatal", "unknown command or flag, bad argument"},
	{ExitConfig, "config", "fatal", "invalid configuration, missing credential file, unwritable output/state; S3: no such bucket, wrong region, unknown profile, no AWS credentials"},
	{ExitAuth, "auth", "fatal", "DPC refused the credentials (key id, signature, client token); S3: access denied, bad signature, unknown access key"},
	{ExitBadData, "bad-data", "fatal", "quarantined lines exceed the configured threshold"},
	{ExitRejected, "rejected", "fatal", "DPC rejected the request (400/404/415/422) or an id/NPI is unknown: fix the request"},
	{ExitRetryable, "retryable", "retry", "network error, HTTP 5xx/429, timeout, expired file, S3 throttling/5xx/unreachable: retry later, the rerun resumes"},
	{ExitStillRunning, "still-running", "retry", "the export job is still running (export status): poll again later"},
	{ExitInterrupted, "interrupted", "retry", "stopped by SIGINT/SIGTERM; in-flight output aborted, rerun resumes"},
}
