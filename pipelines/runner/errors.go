package runner

import (
	"errors"
	"fmt"

	"github.com/dpcetl/dpcetl/extract"
)

// Sentinel errors the CLI maps to exit codes.
var (
	// ErrStillRunning is returned by a status check while the DPC job runs. It is retryable.
	ErrStillRunning = fmt.Errorf("export job is still running: %w", extract.ErrRetryable)
	// ErrBadData means the quarantined lines exceed the configured thresholds.
	ErrBadData = errors.New("bad data over the quarantine threshold")
	// ErrInterrupted means a signal stopped the run; in-flight output was aborted.
	ErrInterrupted = errors.New("interrupted")
)
